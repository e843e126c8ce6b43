// What the Device Configuration Extension mode page (10h/01h) asks of writes, per drive:
// append-only mode with ALLOW OVERWRITE (SSC-4 4.2.x and 7.1; IBM LTO SCSI reference 4.2.3)
// and the programmable early warning zone (SSC-4; IBM reference 4.8).
//
// Append-only (WRITE MODE 1): a write-type command (WRITE, WRITE FILEMARKS with a count, ERASE)
// is refused with DATA PROTECT 5A/02 (operator selected write protect) and TapeAlert 09h unless
// the position is an append point, or ALLOW OVERWRITE "current position" named it; FORMAT MEDIUM
// and SET CAPACITY of a medium holding data need ALLOW OVERWRITE "format". A permission ends
// when the position changes, the medium is unmounted, WRITE MODE becomes 1, a write-type
// command begins, or an ALLOW OVERWRITE fails.
//
// Programmable early warning (PEWS megabytes before early warning): the WRITE or WRITE
// FILEMARKS that brings the data into the zone completes with NO SENSE, EOM, 00/07, INFORMATION
// 0 instead of GOOD or the early warning sense (which the next write reports), once per entry;
// one that could not report it leaves it to the next write in the zone or past early warning.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "device/tape_drive.h"
#include "scsi/sense.h"

namespace vtl::storage {
class Cartridge;
}

namespace vtl::ssc {

namespace config_extension {
inline constexpr uint8_t kCode = 0x10;
inline constexpr uint8_t kSubpage = 0x01;
inline constexpr size_t kWriteMode = 5;  // bits 7-4; SHORT ERASE MODE in bits 3-0
inline constexpr size_t kPews = 6;       // 2 bytes: PROGRAMMABLE EARLY WARNING SIZE, megabytes
inline constexpr uint8_t kOverwriteAllowed = 0;
inline constexpr uint8_t kAppendOnly = 1;
inline constexpr uint64_t kPewsUnit = 1000 * 1000;
}  // namespace config_extension

namespace asc {
inline constexpr scsi::Asc kOperatorSelectedWriteProtect{0x5A, 0x02};
inline constexpr scsi::Asc kNotInAppendOnlyMode{0x20, 0x0C};
inline constexpr scsi::Asc kProgrammableEarlyWarning{0x00, 0x07};
}  // namespace asc

enum class AllowOverwrite : uint8_t { Disabled = 0, CurrentPosition = 1, Format = 2 };

bool append_only(const TapeDrive& drive);
// PEWS in bytes (0: no zone).
uint64_t programmable_early_warning(const TapeDrive& drive);

// The position is an append point: end of data, or only filemarks from it to end of data and
// it is at BOP or just after a filemark.
bool at_append_point(const storage::Cartridge& cartridge);
// DATA PROTECT 5A/02 and TapeAlert 09h.
TapeDrive::JobOutcome append_only_refusal();

// The allow_overwrite variable of one drive; clock thread only.
class OverwritePermit {
public:
    void grant(AllowOverwrite what, const TapeState& tape) {
        what_ = what;
        motions_ = tape.motions();
    }
    void revoke() { what_ = AllowOverwrite::Disabled; }
    // A write-type command begins: what ALLOW OVERWRITE allowed at this position, if anything;
    // the permission is used up.
    AllowOverwrite take(const TapeState& tape) {
        const AllowOverwrite what = motions_ == tape.motions() ? what_ : AllowOverwrite::Disabled;
        revoke();
        return what;
    }
    AllowOverwrite current(const TapeState& tape) const {
        return motions_ == tape.motions() ? what_ : AllowOverwrite::Disabled;
    }

private:
    AllowOverwrite what_ = AllowOverwrite::Disabled;
    uint64_t motions_ = 0;
};

// Whether the programmable early warning of the current entry into the zone has been reported.
// Touched only by store jobs, which the drive's executor runs one at a time.
class EarlyWarningZone {
public:
    // After a write that completed without another exception: the sense to report instead of
    // GOOD or early warning, if any. `mount` is TapeState::mounts() when the command began.
    std::optional<scsi::Sense> after_write(const storage::Cartridge& cartridge, uint64_t zone_size, uint64_t mount);

private:
    uint64_t mount_ = 0;
    bool reported_ = false;
};

// Per drive: what write commands share (ssc.cpp makes one and hands it to the families).
struct WriteControl {
    OverwritePermit permit;                 // clock thread
    std::shared_ptr<EarlyWarningZone> pew;  // jobs
    WriteControl() : pew(std::make_shared<EarlyWarningZone>()) {}
};

// What a write-type job needs to know, captured when its CDB is accepted (clock thread).
struct WriteGate {
    bool append_only = false;
    bool overwrite_allowed = false;  // ALLOW OVERWRITE named this position
    uint64_t pew_size = 0;
    uint64_t mount = 0;
    std::shared_ptr<EarlyWarningZone> pew;

    // Begins a write-type command: uses up the drive's permission.
    static WriteGate begin(TapeDrive& drive, WriteControl& control);
    // In the job, before writing: the refusal when append-only mode forbids writing here.
    std::optional<TapeDrive::JobOutcome> refuse(const storage::Cartridge& cartridge) const;
    // In the job, after a write that completed: programmable early warning to report, if any.
    std::optional<scsi::Sense> after_write(const storage::Cartridge& cartridge) const {
        return pew ? pew->after_write(cartridge, pew_size, mount) : std::nullopt;
    }
};

}  // namespace vtl::ssc
