// TapeAlert flags (SSC-4 annex, log page 2Eh): 64 flags numbered 01h-40h. Event flags (write
// protect, WORM overwrite attempted, read/write failures) are cleared once the host has read
// the page; condition flags (clean now, clean periodic, expired cleaning media) stay set until
// the condition ends.
#pragma once

#include <cstdint>

namespace vtl::ssc {

namespace alert {
inline constexpr uint8_t kReadWarning = 0x01;
inline constexpr uint8_t kWriteWarning = 0x02;
inline constexpr uint8_t kHardError = 0x03;
inline constexpr uint8_t kMedia = 0x04;
inline constexpr uint8_t kReadFailure = 0x05;
inline constexpr uint8_t kWriteFailure = 0x06;
inline constexpr uint8_t kWriteProtect = 0x09;
inline constexpr uint8_t kNoRemoval = 0x0A;
inline constexpr uint8_t kCleaningMedia = 0x0B;
inline constexpr uint8_t kUnsupportedFormat = 0x0C;
inline constexpr uint8_t kReadOnlyFormat = 0x11;
inline constexpr uint8_t kCleanNow = 0x14;
inline constexpr uint8_t kCleanPeriodic = 0x15;
inline constexpr uint8_t kExpiredCleaningMedia = 0x16;
inline constexpr uint8_t kInvalidCleaningTape = 0x17;
inline constexpr uint8_t kWormIntegrityCheckFailed = 0x3B;
inline constexpr uint8_t kWormOverwriteAttempted = 0x3C;
}  // namespace alert

constexpr uint64_t alert_bit(uint8_t flag) { return flag >= 1 && flag <= 64 ? uint64_t(1) << (flag - 1) : 0; }

class TapeAlerts {
public:
    void raise(uint8_t flag) { active_ |= alert_bit(flag); }
    void raise_all(uint64_t bits) { active_ |= bits; }
    void clear(uint8_t flag) { active_ &= ~alert_bit(flag); }
    bool active(uint8_t flag) const { return active_ & alert_bit(flag); }
    uint64_t bits() const { return active_; }
    // The host read the page: event flags go, conditions stay.
    void reported() { active_ &= kConditions; }

private:
    static constexpr uint64_t kConditions =
        alert_bit(alert::kCleanNow) | alert_bit(alert::kCleanPeriodic) | alert_bit(alert::kExpiredCleaningMedia);
    uint64_t active_ = 0;
};

}  // namespace vtl::ssc
