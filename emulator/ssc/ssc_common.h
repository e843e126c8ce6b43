// What the SSC command families share: the command entry wrapper (deferred errors, waiting for
// a background operation), store errors as sense data, and result helpers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/logical_unit.h"
#include "device/tape_drive.h"
#include "scsi/cdb.h"
#include "storage/result.h"

namespace vtl::ssc {

using SscHandler = std::function<Result(Exec&, TapeDrive&)>;

inline constexpr uint8_t kControlUsage = 0x07;  // NACA, FLAG, LINK: checked by the logical unit

// REPORT SUPPORTED OPERATION CODES timeouts (seconds), of the magnitudes LTO references give:
// st uses 900 s for ordinary commands and 14000 s for long ones.
struct Timeouts {
    uint32_t nominal = 1;
    uint32_t recommended = 10;
};
inline constexpr Timeouts kQuick{1, 10};
inline constexpr Timeouts kData{60, 1200};
inline constexpr Timeouts kMotion{120, 2400};
inline constexpr Timeouts kLoad{120, 780};
inline constexpr Timeouts kLong{3600, 14000};

// Additional sense codes SSC uses beyond scsi/status.h.
namespace asc {
inline constexpr scsi::Asc kUnrecoveredReadError{0x11, 0x00};
inline constexpr scsi::Asc kMediumFormatCorrupted{0x31, 0x00};
inline constexpr scsi::Asc kCannotWriteIncompatibleFormat{0x30, 0x05};
inline constexpr scsi::Asc kWormOverwriteAttempted{0x30, 0x0C};
inline constexpr scsi::Asc kSequentialPositioningError{0x3B, 0x00};
inline constexpr scsi::Asc kLocateOperationFailure{0x44, 0x00};
inline constexpr scsi::Asc kParameterListLengthError{0x1A, 0x00};
}  // namespace asc

// A tape drive command. Before the handler runs, a deferred error left by an IMMED operation
// is reported (and cleared); while such an operation still holds the medium, the command
// waits for it (the logical unit runs one ordered command at a time, so only the command after
// an IMMED one can find the drive busy).
CommandInfo command(TapeDrive& drive, uint8_t opcode, std::optional<uint16_t> service_action, std::string name,
                    std::vector<uint8_t> usage, Timeouts timeouts, SscHandler handler);

// A store error as the drive reports it: fenced FormatCorrupted 03/31/00, UnrecoveredRead
// 03/11/00, EndOfMedium 0D/00/02 (EOM), anything else (host I/O) 04/44/00.
scsi::Sense store_error_sense(const storage::Error& error);
// TapeAlert flags that go with it (media, read or write failure).
uint64_t store_error_alerts(const storage::Error& error, bool writing);
// The outcome of a job that failed in the store.
TapeDrive::JobOutcome store_failure(const storage::Error& error, bool writing);

// CHECK CONDITION with data-in (a short read, a filemark after some fixed blocks).
Result check_with_data(scsi::Sense sense, std::vector<uint8_t> data);

// DATA PROTECT 30/0Ch and TapeAlert 3Ch when writing at the position would overwrite a WORM
// medium. Any number of filemarks just before EOD may be overwritten, except the one closest
// to BOP (mode page 1Dh WORM MODE FILEMARK RESTRICTIONS 2, as LTO drives report).
bool worm_overwrite_allowed(const storage::Cartridge& cartridge);
TapeDrive::JobOutcome worm_refusal();

}  // namespace vtl::ssc
