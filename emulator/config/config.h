// The emulator's configuration: one or more libraries, each a changer, drives, cartridges and
// timings. Parsed from TOML and checked completely, so the objects built from a Config can
// trust every value; every mistake is reported as "file:line:column: where: what was expected".
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/barcode.h"
#include "config/catalog.h"
#include "config/duration.h"
#include "config/size.h"

namespace vtl::config {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr uint32_t kMaxRobots = 4;
inline constexpr uint32_t kMaxSlots = 50'000;
inline constexpr uint32_t kMaxIeSlots = 240;
inline constexpr std::string_view kDefaultDriveModel = "ULT3580-TD8";
inline constexpr std::string_view kDefaultStateRoot = "/var/lib/vtl";

struct DriveConfig {
    std::string name;
    std::string model{kDefaultDriveModel};
    std::string serial;
    bool bridge = false;  // a bridged changer LUN 1 behind this drive (a later issue serves it)
    // TapeAlert 15h (clean periodic) once this many loads, or GB moved to and from the medium,
    // have passed since the last cleaning; 0: never.
    uint32_t clean_after_loads = 0;
    uint32_t clean_after_gb = 0;

    bool operator==(const DriveConfig&) const = default;
};

struct CartridgeConfig {
    std::string barcode;
    uint32_t slot = 0;  // 1-based storage slot number
    MediaType type = MediaType::Data;
    std::optional<int> generation;  // LTO generation, from the config or the barcode suffix
    // Bytes the medium holds when the store creates it; none: the generation's native capacity.
    std::optional<uint64_t> capacity;
    bool write_protected = false;   // the cartridge's write-protect switch

    bool operator==(const CartridgeConfig&) const = default;
};

// How long a tape motion takes: a fixed time, or a time per GB (10^9 bytes) of tape passed
// over ("8ms/GB"), so a rewind from the end of a full cartridge takes longest.
struct MotionTime {
    Millis time{0};
    bool per_gb = false;

    bool operator==(const MotionTime&) const = default;
};
// "2s" (fixed) or "8ms/GB"; nullopt with `error` set otherwise.
std::optional<MotionTime> parse_motion_time(std::string_view text, std::string& error);
std::string format_motion_time(const MotionTime& m);

// Robot and drive motion times.
struct Timings {
    Millis pick{2'000};           // take a cartridge out of any element
    Millis place{2'000};          // put it into any element
    Millis load{15'000};          // drive load, threading included
    Millis unload{15'000};        // drive rewind-free unload to the point the robot can pick
    Millis slot_to_slot{3'000};   // robot travel between storage slots and drives
    Millis ie_to_slot{5'000};     // robot travel to or from the import/export station
    MotionTime rewind{};          // drive rewind (and the rewind before an unload)
    MotionTime locate{};          // drive LOCATE and SPACE

    bool operator==(const Timings&) const = default;
};

enum class AbortPolicy { Complete, ReturnToSource };
std::string_view to_string(AbortPolicy p);

struct BridgeConfig {
    Millis timeout{720'000};
    AbortPolicy abort_policy = AbortPolicy::Complete;

    bool operator==(const BridgeConfig&) const = default;
};

// Vendor-specific opcodes of the asynchronous MOVE MEDIUM and its status query.
struct AsyncMoveConfig {
    uint8_t move_opcode = 0xC5;
    uint8_t query_opcode = 0xC6;

    bool operator==(const AsyncMoveConfig&) const = default;
};
inline constexpr uint8_t kFirstVendorOpcode = 0xC0;
inline constexpr uint8_t kReservedVendorOpcode = 0xE7;

struct LibraryConfig {
    std::string name;
    Personality personality = Personality::Generic;
    std::string serial;
    std::filesystem::path state_dir;
    std::string changer = "changer";
    uint32_t robots = 1;
    uint32_t slots = 50;
    uint32_t ie_slots = 4;
    AddressBases addresses;
    Timings timings;
    BridgeConfig bridge;
    AsyncMoveConfig async_move;
    std::vector<DriveConfig> drives;
    std::vector<CartridgeConfig> cartridges;  // in slot order

    bool operator==(const LibraryConfig&) const = default;
};

struct Config {
    std::vector<LibraryConfig> libraries;

    bool operator==(const Config&) const = default;
};

// A library with every default for its name and personality, no drives and no cartridges.
LibraryConfig library_defaults(std::string name, Personality personality = Personality::Generic);
std::string default_library_serial(std::string_view library);
std::string default_drive_serial(std::string_view library, std::string_view drive);
std::filesystem::path default_state_dir(std::string_view library);

// Library and device names: 1-32 of a-z, 0-9, '_', '-', starting with a letter or digit.
std::optional<std::string> name_error(std::string_view name);
// Serials: 1-32 of A-Z, a-z, 0-9, '_', '-'.
std::optional<std::string> serial_error(std::string_view serial);

// The built-in library: lib0, a changer and drive0..drive3 (ULT3580-TD8), 50 slots with
// VTL001L8..VTL040L8 in slots 1..40, 4 import/export slots.
Config default_config();

Config parse_config(std::string_view text, std::string_view source_name);
Config load_config(const std::filesystem::path& file);

// Commented TOML that parse_config reads back into an equal Config.
std::string to_toml(const Config& config);

// --state-dir: every library keeps its state in dir/<library name>.
void override_state_dirs(Config& config, const std::filesystem::path& dir);

}  // namespace vtl::config
