// ERASE(6), FORMAT MEDIUM, SET CAPACITY and ALLOW OVERWRITE (SSC-4).
#include "scsi/bytes.h"
#include "ssc/medium_memory.h"
#include "ssc/partition_page.h"
#include "ssc/ssc.h"
#include "ssc/ssc_common.h"
#include "ssc/write_policy.h"
#include "storage/cartridge.h"

namespace vtl::ssc {

namespace {

using Outcome = TapeDrive::JobOutcome;

constexpr uint8_t kFormatMedium = 0x04;
constexpr uint8_t kSetCapacity = 0x0B;
constexpr uint8_t kErase6 = 0x19;
constexpr uint8_t kAllowOverwrite = 0x82;
constexpr scsi::Asc kPositionPastBeginningOfMedium{0x3B, 0x0C};
constexpr uint64_t kMinCapacity = 1u << 20;  // SET CAPACITY never shrinks a medium below this

std::optional<scsi::Sense> refuse_write(TapeDrive& d) {
    auto refused = d.write_refusal();
    if (refused) {
        d.alerts().raise(refused->code() == scsi::asc::kWriteProtected ? alert::kWriteProtect : alert::kReadOnlyFormat);
    }
    return refused;
}

// FORMAT MEDIUM and SET CAPACITY start at the beginning of partition 0 (SSC-4; LTFS loads
// before formatting to be there).
std::optional<scsi::Sense> require_bop0(const TapeDrive& d) {
    if (d.tape().partition() != 0 || d.tape().object() != 0) return scsi::Sense::illegal_request(kPositionPastBeginningOfMedium);
    return std::nullopt;
}

bool holds_data(const storage::Cartridge& c) {
    for (uint8_t p = 0; p < c.partition_count(); ++p) {
        if (c.eod(p) > 0) return true;
    }
    return false;
}

// ---- ERASE(6) -----------------------------------------------------------------------------

Result erase6(Exec& x, TapeDrive& d, WriteControl& control) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xFC).reserved(2).reserved(3).reserved(4);
    const bool immed = r.bit(1, 1);
    // LONG (bit 0) erases to the end of the partition; on the store that is the same as a
    // short erase: the position becomes the end of data.
    if (r.error()) return Result::check(*r.error());
    if (auto s = d.medium_ready()) return Result::check(*s);
    if (auto refused = refuse_write(d)) return Result::check(*refused);
    const bool worm = d.worm();
    const WriteGate gate = WriteGate::begin(d, control);
    return d.run_job(
        x.task(),
        [worm, gate](storage::Cartridge& c) -> Outcome {
            if (auto refused = gate.refuse(c)) return *refused;
            if (worm && !worm_overwrite_allowed(c)) return worm_refusal();
            if (auto e = c.erase(); !e.ok()) return store_failure(e.error(), true);
            return {Result::good()};
        },
        TapeDrive::Motion::None, immed);
}

// ---- FORMAT MEDIUM ------------------------------------------------------------------------

enum class Format : uint8_t { Default = 0, Partition = 1, DefaultThenPartition = 2 };

// Append-only mode lets a medium holding data be formatted only after ALLOW OVERWRITE "format".
struct FormatGate {
    bool refuse_data = false;

    static FormatGate begin(TapeDrive& d, WriteControl& control) {
        const bool allowed = control.permit.take(d.tape()) == AllowOverwrite::Format;
        return FormatGate{append_only(d) && !allowed};
    }
};

Result format_medium(Exec& x, TapeDrive& d, WriteControl& control) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xDD).reserved(2, 0xF0);
    const bool immed = r.bit(1, 1);  // VERIFY (bit 5) is accepted: a fresh layout verifies trivially
    const uint8_t format = r.bits(2, 0, 4);
    r.require(format <= uint8_t(Format::DefaultThenPartition), 2, 3);
    r.require(r.be16(3) == 0, 3);  // TRANSFER LENGTH: no format parameter data
    if (r.error()) return Result::check(*r.error());
    if (auto s = d.medium_ready()) return Result::check(*s);
    if (auto refused = refuse_write(d)) return Result::check(*refused);
    if (auto s = require_bop0(d)) return Result::check(*s);
    const std::vector<uint8_t> page = d.mode_page(partition_page::kCode);
    const bool worm = d.worm();
    const FormatGate gate = FormatGate::begin(d, control);
    return d.run_job(
        x.task(),
        [format, page, worm, gate](storage::Cartridge& c) -> Outcome {
            if (gate.refuse_data && holds_data(c)) return append_only_refusal();
            if (worm && holds_data(c)) return worm_refusal();
            const uint64_t capacity = c.layout().capacity;
            storage::Layout layout{capacity, {}};
            if (format != uint8_t(Format::Default)) {
                auto made = partition_page::layout(page, capacity);
                if (std::holds_alternative<size_t>(made)) {
                    // The partitions MODE SELECT asked for do not fit this medium.
                    return {Result::check(scsi::Sense::invalid_cdb_field(2, 3))};
                }
                layout = std::get<storage::Layout>(made);
            }
            if (auto f = c.format(layout); !f.ok()) return store_failure(f.error(), true);
            record_format(c);
            return {Result::good()};
        },
        TapeDrive::Motion::None, immed);
}

// ---- SET CAPACITY -------------------------------------------------------------------------

Result set_capacity(Exec& x, TapeDrive& d, WriteControl& control) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xFE).reserved(2);
    const bool immed = r.bit(1, 0);
    const uint16_t proportion = r.be16(3);
    r.require(proportion != 0, 3);
    if (r.error()) return Result::check(*r.error());
    if (auto s = d.medium_ready()) return Result::check(*s);
    if (auto refused = refuse_write(d)) return Result::check(*refused);
    if (auto s = require_bop0(d)) return Result::check(*s);
    // The proportion is of the medium's full capacity: what the config gives it, else the
    // native capacity of its format.
    uint64_t full = d.cartridge_settings().capacity.value_or(0);
    if (!full) {
        const Density* density = density_by_code(d.medium_density());
        full = density ? density->capacity : d.tape().capacity(0).capacity;
    }
    const uint64_t capacity = std::max<uint64_t>(kMinCapacity, static_cast<uint64_t>(
                                                                   static_cast<unsigned __int128>(full) * proportion / 0xFFFF));
    const bool worm = d.worm();
    const FormatGate gate = FormatGate::begin(d, control);
    return d.run_job(
        x.task(),
        [capacity, worm, gate](storage::Cartridge& c) -> Outcome {
            if (gate.refuse_data && holds_data(c)) return append_only_refusal();
            if (worm && holds_data(c)) return worm_refusal();
            if (auto f = c.format(storage::Layout{capacity, {}}); !f.ok()) return store_failure(f.error(), true);
            return {Result::good()};
        },
        TapeDrive::Motion::None, immed);
}

// ---- ALLOW OVERWRITE ----------------------------------------------------------------------

// Sets the drive's allow_overwrite variable (write_policy.h); a CHECK CONDITION leaves it
// disabled. PARTITION and LOGICAL OBJECT IDENTIFIER count only for "current position".
Result allow_overwrite(Exec& x, TapeDrive& d, WriteControl& control) {
    control.permit.revoke();
    scsi::CdbReader r(x.cdb());
    r.reserved(1).reserved(2, 0xF0).reserved(12).reserved(13).reserved(14);
    const uint8_t allow = r.bits(2, 0, 4);
    const uint8_t partition = r.u8(3);
    const uint64_t object = r.be64(4);
    r.require(allow <= uint8_t(AllowOverwrite::Format), 2, 3);
    if (r.error()) return Result::check(*r.error());
    if (!append_only(d)) return Result::check(scsi::Sense::illegal_request(asc::kNotInAppendOnlyMode));
    if (auto s = d.medium_ready()) return Result::check(*s);
    if (allow == uint8_t(AllowOverwrite::CurrentPosition) &&
        (partition != d.tape().partition() || object != d.tape().object())) {
        return Result::check(scsi::Sense::illegal_request(asc::kSequentialPositioningError));
    }
    control.permit.grant(AllowOverwrite(allow), d.tape());
    return Result::good();
}

}  // namespace

void register_format(LogicalUnit& lu, TapeDrive& drive, const std::shared_ptr<WriteControl>& control) {
    auto& cmds = lu.commands();
    auto with = [control](Result (*handler)(Exec&, TapeDrive&, WriteControl&)) {
        return [control, handler](Exec& x, TapeDrive& d) { return handler(x, d, *control); };
    };
    cmds.add(command(drive, kFormatMedium, std::nullopt, "FORMAT MEDIUM",
                     {kFormatMedium, 0x22, 0x0F, 0xFF, 0xFF, kControlUsage}, kLong, with(format_medium)));
    cmds.add(command(drive, kSetCapacity, std::nullopt, "SET CAPACITY",
                     {kSetCapacity, 0x01, 0x00, 0xFF, 0xFF, kControlUsage}, kLong, with(set_capacity)));
    cmds.add(command(drive, kErase6, std::nullopt, "ERASE(6)", {kErase6, 0x03, 0x00, 0x00, 0x00, kControlUsage}, kLong,
                     with(erase6)));
    cmds.add(command(drive, kAllowOverwrite, std::nullopt, "ALLOW OVERWRITE",
                     {kAllowOverwrite, 0x00, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00,
                      0x00, kControlUsage},
                     kQuick, with(allow_overwrite)));
}

}  // namespace vtl::ssc
