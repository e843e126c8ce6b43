// Operation codes by their standard names (SPC-4, SSC-4, SMC-3) and this project's vendor ones.
#pragma once

#include <cstdint>

namespace vtl::scsi::op {

// SPC: every device type
inline constexpr uint8_t kTestUnitReady = 0x00;
inline constexpr uint8_t kRequestSense = 0x03;
inline constexpr uint8_t kInquiry = 0x12;
inline constexpr uint8_t kModeSelect6 = 0x15;
inline constexpr uint8_t kReserve6 = 0x16;
inline constexpr uint8_t kRelease6 = 0x17;
inline constexpr uint8_t kModeSense6 = 0x1A;
inline constexpr uint8_t kSendDiagnostic = 0x1D;
inline constexpr uint8_t kPreventAllowMediumRemoval = 0x1E;
inline constexpr uint8_t kLogSelect = 0x4C;
inline constexpr uint8_t kLogSense = 0x4D;
inline constexpr uint8_t kModeSelect10 = 0x55;
inline constexpr uint8_t kReserve10 = 0x56;
inline constexpr uint8_t kRelease10 = 0x57;
inline constexpr uint8_t kModeSense10 = 0x5A;
inline constexpr uint8_t kReportLuns = 0xA0;
inline constexpr uint8_t kMaintenanceIn = 0xA3;
inline constexpr uint8_t kMaintenanceOut = 0xA4;

// MAINTENANCE IN service actions
inline constexpr uint8_t kSaReportSupportedOperationCodes = 0x0C;
inline constexpr uint8_t kSaReportSupportedTaskManagementFunctions = 0x0D;

}  // namespace vtl::scsi::op
