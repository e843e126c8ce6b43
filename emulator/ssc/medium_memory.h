// The MAM attributes a drive maintains on the cartridge it holds (SPC-4 device type
// attributes): load count, the last four drives that loaded it, megabytes written and read.
// Called by executor work (they write the cartridge's mam file).
#pragma once

#include <cstdint>
#include <string>

namespace vtl::storage {
class Cartridge;
}

namespace vtl::ssc {

namespace mam {
// SPC-4 attribute identifiers the drive reports or maintains.
inline constexpr uint16_t kRemainingCapacity = 0x0000;
inline constexpr uint16_t kMaximumCapacity = 0x0001;
inline constexpr uint16_t kTapeAlertFlags = 0x0002;
inline constexpr uint16_t kLoadCount = 0x0003;
inline constexpr uint16_t kMamSpaceRemaining = 0x0004;
inline constexpr uint16_t kAssigningOrganization = 0x0005;
inline constexpr uint16_t kFormattedDensityCode = 0x0006;
inline constexpr uint16_t kInitializationCount = 0x0007;
inline constexpr uint16_t kDeviceAtLastLoad = 0x020A;  // ..020Dh: the three loads before it
inline constexpr uint16_t kTotalMbWritten = 0x0220;
inline constexpr uint16_t kTotalMbRead = 0x0221;
inline constexpr uint16_t kMbWrittenThisLoad = 0x0222;
inline constexpr uint16_t kMbReadThisLoad = 0x0223;
inline constexpr uint16_t kMediumManufacturer = 0x0400;
inline constexpr uint16_t kMediumSerialNumber = 0x0401;
inline constexpr uint16_t kMediumLength = 0x0402;
inline constexpr uint16_t kMediumWidth = 0x0403;
inline constexpr uint16_t kMediumAssigningOrganization = 0x0404;
inline constexpr uint16_t kMediumDensityCode = 0x0405;
inline constexpr uint16_t kMediumManufactureDate = 0x0406;
inline constexpr uint16_t kMamCapacity = 0x0407;
inline constexpr uint16_t kMediumType = 0x0408;
inline constexpr uint16_t kMediumTypeInformation = 0x0409;
inline constexpr uint16_t kVolumeCoherencyInformation = 0x080C;
inline constexpr uint64_t kCapacityBytes = 16 * 1024;  // LTO cartridge memory
}  // namespace mam

// A load: LOAD COUNT + 1, DEVICE VENDOR/SERIAL NUMBER AT LAST LOAD shifted down with `device`
// (8-byte vendor then 32-byte serial) on top. Returns the new load count. Failures are logged:
// the cartridge still loads.
uint64_t record_load(storage::Cartridge& cartridge, const std::string& device);
// An unload: megabytes (2^20 bytes) moved to and from the medium during this load.
void record_unload(storage::Cartridge& cartridge);
// A cleaning cycle: the cleaning cartridge's uses so far, this one included.
uint64_t record_cleaning_use(storage::Cartridge& cartridge);
// The INITIALIZATION COUNT goes up with every FORMAT MEDIUM.
void record_format(storage::Cartridge& cartridge);

}  // namespace vtl::ssc
