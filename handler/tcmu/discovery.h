// Finding LIO's TCMU user backstores: each enabled one is a UIO device whose sysfs name is
// "tcm-user/<hba>/<LIO device name>/<dev_config>", and ours have dev_config
// "vtl/<library>/<device>". Also the configfs side of a backstore: the attributes the transport
// needs set, and the reset_ring action. Paths are parameters so tests use a temporary tree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vtl::tcmu {

inline constexpr std::string_view kSubtype = "vtl";

struct UioDevice {
    std::string uio;       // "uio0": /dev/uio0, /sys/class/uio/uio0
    std::string name;      // the whole UIO name
    uint32_t hba = 0;      // LIO HBA: configfs core/user_<hba>
    std::string lio_name;  // LIO device name: configfs core/user_<hba>/<lio_name>
    std::string subtype;   // dev_config up to the first '/'
    std::string path;      // for subtype "vtl": "<library>/<device>"
    uint64_t map_size = 0;  // maps/map0/size: the whole shared area, mapped at offset 0
};

// The "<library>/<device>" a dev_config names: what follows "vtl/" (a second "vtl/" in front of
// "<library>/<device>" is accepted too). nullopt when the subtype is not "vtl". The result is
// not checked further (see is_device_path).
std::optional<std::string> dev_config_path(std::string_view dev_config);

// "<library>/<device>": two non-empty names and one '/'.
bool is_device_path(std::string_view path);

// Parses a UIO name; nullopt if it is not a TCMU device. The path is what follows "vtl/" (a
// second "vtl/" in front of "<library>/<device>" is accepted too).
std::optional<UioDevice> parse_uio_name(std::string_view name);

// Every TCMU device under `sysfs_uio` (/sys/class/uio), any subtype, sorted by UIO name.
// Devices whose name or map size cannot be read are left out (they are still being set up).
std::vector<UioDevice> scan_uio(const std::filesystem::path& sysfs_uio);

// configfs directory of a backstore: <core>/user_<hba>/<lio_name>.
std::filesystem::path configfs_dir(const std::filesystem::path& core, const UioDevice& device);

// What is wrong with the attributes the transport relies on: attrib/cmd_time_out must be 0 (or
// the kernel fails a long move behind our back) and attrib/tmr_notification 1 (or aborts never
// reach us). One message per problem, naming the file; empty when all is well.
std::vector<std::string> check_attributes(const std::filesystem::path& dir);

// Whether LIO has finished enabling the backstore in `dir` (<dir>/enable reads 1); nullopt when
// that file cannot be read. The uio device appears early in the kernel's enable, which can still
// fail afterwards (tcmu-runner answering the device add with an error) and then frees the ring
// under any mapping of it (a kernel oops in tcmu_vma_fault on 6.1): open the device only once
// this is true.
std::optional<bool> backstore_enabled(const std::filesystem::path& dir);

// Writes 1 to <dir>/action/reset_ring: the kernel completes every command on the ring with BUSY
// (hosts retry) and empties it. Returns an error message, or nullopt.
std::optional<std::string> reset_ring(const std::filesystem::path& dir);

}  // namespace vtl::tcmu
