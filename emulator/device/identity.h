// Helpers for device identities: stable NAA designators derived from names.
#pragma once

#include <cstdint>
#include <string_view>

namespace vtl {

// NAA IEEE Registered (5h): 4-bit NAA, 24-bit OUI, 36-bit vendor-specific identifier. The
// identifier is a hash of `seed` (library/device name, serial), so it is stable across
// restarts and differs between libraries.
uint64_t naa_registered(uint32_t oui, std::string_view seed);

// T10 version descriptors (SPC-4 table "Version descriptor values").
namespace version {
inline constexpr uint16_t kSam5 = 0x00A0;
inline constexpr uint16_t kSpc4 = 0x0460;
inline constexpr uint16_t kSsc3 = 0x0400;
inline constexpr uint16_t kSsc4 = 0x0520;
inline constexpr uint16_t kSmc3 = 0x0480;
}  // namespace version

}  // namespace vtl
