#include "ssc/ssc_common.h"

#include "ssc/tape_alert.h"
#include "storage/cartridge.h"

namespace vtl::ssc {

CommandInfo command(TapeDrive& drive, uint8_t opcode, std::optional<uint16_t> service_action, std::string name,
                    std::vector<uint8_t> usage, Timeouts timeouts, SscHandler handler) {
    CommandInfo info;
    info.opcode = opcode;
    info.service_action = service_action;
    info.name = std::move(name);
    info.usage = std::move(usage);
    info.nominal_timeout_s = timeouts.nominal;
    info.recommended_timeout_s = timeouts.recommended;
    TapeDrive* d = &drive;
    info.handler = [d, handler = std::move(handler)](Exec& x) -> Result {
        auto run = [d, &handler](Exec& e) -> Result {
            if (auto deferred = d->take_deferred_error()) return Result::check(*deferred);
            return handler(e, *d);
        };
        if (!d->busy()) return run(x);
        TaskPtr task = x.task();
        LogicalUnit* lu = &x.lu();
        d->when_idle([d, task, lu, handler] {
            if (task->done()) return;  // aborted while it waited
            Exec again(*lu, task);
            Result r = [&]() -> Result {
                if (auto deferred = d->take_deferred_error()) return Result::check(*deferred);
                return handler(again, *d);
            }();
            if (!r.is_pending) lu->complete(task, std::move(r));
        });
        return Result::pending();
    };
    return info;
}

scsi::Sense store_error_sense(const storage::Error& e) {
    switch (e.code) {
        case storage::Errc::FormatCorrupted:
        case storage::Errc::UnsupportedFormat:
            return scsi::Sense(scsi::SenseKey::MediumError, asc::kMediumFormatCorrupted);
        case storage::Errc::UnrecoveredRead: return scsi::Sense(scsi::SenseKey::MediumError, asc::kUnrecoveredReadError);
        case storage::Errc::EndOfMedium:
            return scsi::Sense(scsi::SenseKey::VolumeOverflow, scsi::asc::kEndOfPartitionMediumDetected).eom();
        default: return scsi::Sense(scsi::SenseKey::HardwareError, scsi::asc::kInternalTargetFailure);
    }
}

uint64_t store_error_alerts(const storage::Error& e, bool writing) {
    switch (e.code) {
        case storage::Errc::FormatCorrupted:
        case storage::Errc::UnsupportedFormat:
            return alert_bit(alert::kMedia) | alert_bit(writing ? alert::kWriteFailure : alert::kReadFailure);
        case storage::Errc::UnrecoveredRead: return alert_bit(alert::kMedia) | alert_bit(alert::kReadFailure);
        case storage::Errc::EndOfMedium: return 0;
        default: return alert_bit(alert::kHardError);
    }
}

TapeDrive::JobOutcome store_failure(const storage::Error& error, bool writing) {
    TapeDrive::JobOutcome out{Result::check(store_error_sense(error)), store_error_alerts(error, writing)};
    const bool medium = storage::is_medium_error(error.code) || error.code == storage::Errc::UnsupportedFormat;
    out.unrecovered_read = medium && !writing;
    out.unrecovered_write = medium && writing;
    return out;
}

Result check_with_data(scsi::Sense sense, std::vector<uint8_t> data) {
    Result r = Result::check(std::move(sense));
    r.data = std::move(data);
    return r;
}

bool worm_overwrite_allowed(const storage::Cartridge& c) {
    const storage::Position at = c.position();
    const uint64_t eod = c.eod();
    if (at.object >= eod) return true;  // appending
    const uint64_t marks_before = c.filemarks_before(at);
    const uint64_t marks_to_eod = c.filemarks_before({at.partition, eod}) - marks_before;
    if (marks_to_eod != eod - at.object || at.object == 0) return false;  // a record would go
    // The object just before the position must be a filemark of the same trailing run.
    return marks_before - c.filemarks_before({at.partition, at.object - 1}) == 1;
}

TapeDrive::JobOutcome worm_refusal() {
    return {Result::check(scsi::Sense(scsi::SenseKey::DataProtect, asc::kWormOverwriteAttempted)),
            alert_bit(alert::kWormOverwriteAttempted)};
}

}  // namespace vtl::ssc
