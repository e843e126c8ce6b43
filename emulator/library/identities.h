// INQUIRY identities for a library's devices: what a host sees of each personality and drive
// model (vendor, product, revision), the serials from the config, and NAA designators.
#pragma once

#include <cstdint>

#include "config/config.h"
#include "device/device.h"

namespace vtl::library {

// IEEE OUIs for NAA designators. Personalities and drives of other vendors use the OUI LIO itself
// puts in the WWNs of the devices it serves (00-14-05): the devices reach hosts through LIO, and
// no OUI of a vendor we do not emulate ends up in a designator.
inline constexpr uint32_t kOuiIbm = 0x005076;
inline constexpr uint32_t kOuiHpe = 0x001438;
inline constexpr uint32_t kOuiNeutral = 0x001405;

inline constexpr const char* kRevision = "V001";

DeviceIdentity changer_identity(const config::LibraryConfig& lib);
DeviceIdentity drive_identity(const config::LibraryConfig& lib, const config::DriveConfig& drive);

// Pads or cuts an INQUIRY ASCII field to its width, as INQUIRY returns it.
std::string inquiry_field(std::string_view text, size_t width);
// The field without its padding, for logs and summaries.
std::string_view trimmed(std::string_view field);

}  // namespace vtl::library
