// Mode page 11h, Medium Partition (SSC-4 8.3.4): its layout, and the storage layout FORMAT
// MEDIUM makes from it. LTO drives partition on FORMAT MEDIUM (POFM=1): MODE SELECT only
// records the request. LTO-5/6 take up to 2 partitions, LTO-7 and later up to 4.
#pragma once

#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "ssc/tape_state.h"
#include "storage/cartridge.h"

namespace vtl::ssc::partition_page {

inline constexpr uint8_t kCode = 0x11;
// Byte offsets in the page, its 2-byte header included.
inline constexpr size_t kMaxAdditional = 2;
inline constexpr size_t kAdditionalDefined = 3;
inline constexpr size_t kFlags = 4;
inline constexpr size_t kRecognition = 5;
inline constexpr size_t kUnits = 6;
inline constexpr size_t kSizes = 8;

inline constexpr uint8_t kFdp = 0x80;
inline constexpr uint8_t kSdp = 0x40;
inline constexpr uint8_t kIdp = 0x20;
inline constexpr uint8_t kPsumMask = 0x18;
inline constexpr uint8_t kPsumUnits = 0x18;  // 11b: sizes in 10^PARTITION UNITS bytes
inline constexpr uint8_t kPofm = 0x04;
inline constexpr uint16_t kRemaining = 0xFFFF;  // a size field meaning "what the others leave"

int max_partitions(int drive_generation);
// The page with its defaults and the mask MODE SELECT may change.
std::vector<uint8_t> defaults(int drive_generation);
std::vector<uint8_t> changeable(int drive_generation);

// The layout FORMAT MEDIUM (format 1 or 2) makes from `page` on a medium of `capacity` bytes,
// or the offset in the page of the field that makes it impossible.
std::variant<storage::Layout, size_t> layout(std::span<const uint8_t> page, uint64_t capacity);
// Checks MODE SELECT can make without a medium: partition count, one of FDP/SDP/IDP.
std::optional<size_t> check(std::span<const uint8_t> page);
// Writes the medium's partitioning into `page` (its units kept when sensible).
void describe(std::vector<uint8_t>& page, const TapeState& tape);

}  // namespace vtl::ssc::partition_page
