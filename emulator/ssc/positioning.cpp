// SPACE(6)/(16), LOCATE(10)/(16), READ POSITION (short, long, extended) and REWIND (SSC-4).
// Residuals of a SPACE that stops early are positive in both directions (HP's LTO reference;
// Linux st accepts that and flips negative ones, "some drives get this wrong").
#include "scsi/bytes.h"
#include "ssc/ssc.h"
#include "ssc/ssc_common.h"
#include "storage/cartridge.h"

namespace vtl::ssc {

namespace {

using Outcome = TapeDrive::JobOutcome;
using Motion = TapeDrive::Motion;

constexpr uint8_t kRewind = 0x01;
constexpr uint8_t kSpace6 = 0x11;
constexpr uint8_t kLocate10 = 0x2B;
constexpr uint8_t kReadPosition = 0x34;
constexpr uint8_t kSpace16 = 0x91;
constexpr uint8_t kLocate16 = 0x92;

enum class SpaceCode : uint8_t { Blocks = 0, Filemarks = 1, SequentialFilemarks = 2, EndOfData = 3 };

uint64_t magnitude(int64_t v) { return v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v); }

// ---- SPACE --------------------------------------------------------------------------------

Outcome space_outcome(const storage::Result<storage::SpaceResult>& r, int64_t count) {
    if (!r.ok()) return store_failure(r.error(), false);
    const uint64_t residual = magnitude(count) - r->done;
    switch (r->stop) {
        case storage::SpaceStop::None: return {Result::good()};
        case storage::SpaceStop::Filemark:
            return {Result::check(scsi::Sense::no_sense(scsi::asc::kFilemarkDetected).filemark().information(residual))};
        case storage::SpaceStop::EndOfData:
            return {Result::check(
                scsi::Sense(scsi::SenseKey::BlankCheck, scsi::asc::kEndOfDataDetected).information(residual))};
        case storage::SpaceStop::BeginningOfPartition:
            return {Result::check(
                scsi::Sense::no_sense(scsi::asc::kBeginningOfPartitionMediumDetected).eom().information(residual))};
    }
    return {Result::good()};
}

Outcome space(storage::Cartridge& c, SpaceCode code, int64_t count) {
    switch (code) {
        case SpaceCode::Blocks: return space_outcome(c.space_blocks(count), count);
        case SpaceCode::Filemarks: return space_outcome(c.space_filemarks(count), count);
        case SpaceCode::SequentialFilemarks: return space_outcome(c.space_sequential_filemarks(count), count);
        case SpaceCode::EndOfData: {
            auto r = c.space_to_eod();
            if (!r.ok()) return store_failure(r.error(), false);
            return {Result::good()};
        }
    }
    return {Result::good()};
}

Result space_common(Exec& x, TapeDrive& d, uint8_t code, int64_t count) {
    if (code > uint8_t(SpaceCode::EndOfData)) return Result::check(scsi::Sense::invalid_cdb_field(1, 3));  // setmarks, reserved
    if (auto s = d.medium_ready()) return Result::check(*s);
    const auto c = static_cast<SpaceCode>(code);
    if (count == 0 && c != SpaceCode::EndOfData) return Result::good();  // no motion
    return d.run_job(x.task(), [c, count](storage::Cartridge& cart) { return space(cart, c, count); }, Motion::Locate);
}

Result space6(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xF0);
    const uint8_t code = r.bits(1, 0, 4);
    // COUNT is a 24-bit two's complement number.
    int64_t count = r.be24(2);
    if (count & 0x800000) count -= 0x1000000;
    if (r.error()) return Result::check(*r.error());
    return space_common(x, d, code, count);
}

Result space16(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xF0).reserved(2).reserved(3);
    const uint8_t code = r.bits(1, 0, 4);
    const int64_t count = static_cast<int64_t>(r.be64(4));
    r.require(r.be16(12) == 0, 12);  // PARAMETER LENGTH: no parameter data
    r.reserved(14);
    if (r.error()) return Result::check(*r.error());
    return space_common(x, d, code, count);
}

// ---- LOCATE -------------------------------------------------------------------------------

enum class DestType : uint8_t { Object = 0, File = 1, EndOfData = 3 };

struct LocateRequest {
    bool change_partition = false;
    uint8_t partition = 0;
    DestType dest = DestType::Object;
    uint64_t identifier = 0;
    bool immed = false;
};

Outcome locate(storage::Cartridge& c, const LocateRequest& q) {
    const uint8_t partition = q.change_partition ? q.partition : c.position().partition;
    if (partition >= c.partition_count()) {
        return {Result::check(scsi::Sense::illegal_request(asc::kSequentialPositioningError))};
    }
    // Past the end of data the drive stops at it and reports BLANK CHECK 00/05.
    auto at_eod = [] {
        return Outcome{Result::check(scsi::Sense(scsi::SenseKey::BlankCheck, scsi::asc::kEndOfDataDetected))};
    };
    switch (q.dest) {
        case DestType::Object: {
            auto r = c.locate(partition, q.identifier);
            if (!r.ok()) return store_failure(r.error(), false);
            return r->end_of_data ? at_eod() : Outcome{Result::good()};
        }
        case DestType::File: {
            auto r = c.locate(partition, 0);
            if (!r.ok()) return store_failure(r.error(), false);
            if (q.identifier == 0) return {Result::good()};
            auto s = c.space_filemarks(static_cast<int64_t>(std::min<uint64_t>(q.identifier, INT64_MAX)));
            if (!s.ok()) return store_failure(s.error(), false);
            return s->stop == storage::SpaceStop::None ? Outcome{Result::good()} : at_eod();
        }
        case DestType::EndOfData: {
            auto r = c.locate(partition, c.eod(partition));
            if (!r.ok()) return store_failure(r.error(), false);
            return {Result::good()};
        }
    }
    return {Result::good()};
}

Result locate_common(Exec& x, TapeDrive& d, const LocateRequest& q, uint16_t partition_byte) {
    if (auto s = d.medium_ready()) return Result::check(*s);
    if (q.change_partition && q.partition >= d.tape().partitions()) {
        return Result::check(scsi::Sense::invalid_cdb_field(partition_byte));
    }
    return d.run_job(x.task(), [q](storage::Cartridge& c) { return locate(c, q); }, Motion::Locate, q.immed);
}

Result locate10(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    LocateRequest q;
    r.reserved(1, 0xF8).reserved(2).reserved(7);
    // BT=1 asks for a device-specific block address. LTO has none distinct from the logical
    // object identifier, so both mean the same; Linux st sets BT=1 unless told scsi2logical.
    q.change_partition = r.bit(1, 1);
    q.immed = r.bit(1, 0);
    q.identifier = r.be32(3);
    q.partition = r.u8(8);
    if (r.error()) return Result::check(*r.error());
    return locate_common(x, d, q, 8);
}

Result locate16(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    LocateRequest q;
    r.reserved(1, 0xC4).reserved(2, 0xFE).reserved(12).reserved(13).reserved(14);
    const uint8_t dest = r.bits(1, 3, 3);
    r.require(dest == 0 || dest == 1 || dest == 3, 1, 5);
    r.require(!r.bit(2, 0), 2, 0);  // BAM: implicit address mode only
    q.dest = static_cast<DestType>(dest);
    q.change_partition = r.bit(1, 1);
    q.immed = r.bit(1, 0);
    q.partition = r.u8(3);
    q.identifier = r.be64(4);
    if (r.error()) return Result::check(*r.error());
    return locate_common(x, d, q, 3);
}

// ---- REWIND -------------------------------------------------------------------------------

Result rewind(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xFE).reserved(2).reserved(3).reserved(4);
    const bool immed = r.bit(1, 0);
    if (r.error()) return Result::check(*r.error());
    if (auto s = d.medium_ready()) return Result::check(*s);
    // The buffer goes to the medium first; then to BOM (beginning of partition 0, as IBM's LTO
    // reference says).
    return d.run_job(
        x.task(),
        [](storage::Cartridge& c) -> Outcome {
            if (auto synced = c.sync(); !synced.ok()) return store_failure(synced.error(), true);
            auto r = c.locate(0, 0);
            if (!r.ok()) return store_failure(r.error(), false);
            return {Result::good()};
        },
        Motion::Rewind, immed);
}

// ---- READ POSITION ------------------------------------------------------------------------

constexpr uint8_t kShortForm = 0x00;
constexpr uint8_t kShortFormVendor = 0x01;
constexpr uint8_t kLongForm = 0x06;
constexpr uint8_t kExtendedForm = 0x08;

uint8_t position_flags(const ssc::TapeState& t, bool overflow) {
    const bool eop = t.at_eod() && t.capacity().end_of_medium();
    return static_cast<uint8_t>((t.bop() ? 0x80 : 0) | (eop ? 0x40 : 0) | (overflow ? 0x02 : 0) |
                                (t.beyond_early_warning() ? 0x01 : 0));
}

std::vector<uint8_t> short_form(const ssc::TapeState& t) {
    // Nothing is ever held in a buffer: every WRITE is in the store when it completes, so
    // the first and last positions are the same and the buffer counts are 0.
    const bool overflow = t.object() > 0xFFFFFFFFull;
    std::vector<uint8_t> d;
    scsi::ByteWriter w(d);
    w.u8(position_flags(t, overflow))
        .u8(t.partition())
        .zeros(2)
        .be32(overflow ? 0 : static_cast<uint32_t>(t.object()))
        .be32(overflow ? 0 : static_cast<uint32_t>(t.object()))
        .u8(0)
        .be24(0)
        .be32(0);
    if (overflow) d[0] |= 0x04;  // LOLU: the fields cannot hold the position
    return d;
}

std::vector<uint8_t> long_form(const ssc::TapeState& t) {
    std::vector<uint8_t> d;
    const bool eop = t.at_eod() && t.capacity().end_of_medium();
    scsi::ByteWriter(d)
        .u8(static_cast<uint8_t>((t.bop() ? 0x80 : 0) | (eop ? 0x40 : 0) | (t.beyond_early_warning() ? 0x01 : 0)))
        .zeros(3)
        .be32(t.partition())
        .be64(t.object())
        .be64(t.file())
        .zeros(8);
    return d;
}

std::vector<uint8_t> extended_form(const ssc::TapeState& t) {
    std::vector<uint8_t> d;
    scsi::ByteWriter(d)
        .u8(position_flags(t, false))
        .u8(t.partition())
        .be16(0x1C)  // ADDITIONAL LENGTH
        .u8(0)
        .be24(0)  // logical objects in the buffer
        .be64(t.object())
        .be64(t.object())
        .be64(0);  // bytes in the buffer
    return d;
}

Result read_position(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xE0).reserved(2).reserved(3).reserved(4).reserved(5).reserved(6);
    const uint8_t sa = r.bits(1, 0, 5);
    const uint16_t allocation = r.be16(7);
    r.require(sa == kShortForm || sa == kShortFormVendor || sa == kLongForm || sa == kExtendedForm, 1, 4);
    if (r.error()) return Result::check(*r.error());
    if (auto s = d.medium_ready()) return Result::check(*s);
    const auto& t = d.tape();
    switch (sa) {
        case kLongForm: return Result::good(long_form(t));
        case kExtendedForm: return Result::good(extended_form(t), allocation);
        default: return Result::good(short_form(t));
    }
}

}  // namespace

void register_positioning(LogicalUnit& lu, TapeDrive& drive) {
    auto& cmds = lu.commands();
    cmds.add(command(drive, kRewind, std::nullopt, "REWIND", {kRewind, 0x01, 0x00, 0x00, 0x00, kControlUsage}, kMotion,
                     rewind));
    cmds.add(command(drive, kSpace6, std::nullopt, "SPACE(6)", {kSpace6, 0x0F, 0xFF, 0xFF, 0xFF, kControlUsage},
                     kMotion, space6));
    cmds.add(command(drive, kLocate10, std::nullopt, "LOCATE(10)",
                     {kLocate10, 0x07, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, kControlUsage}, kMotion, locate10));
    cmds.add(command(drive, kReadPosition, std::nullopt, "READ POSITION",
                     {kReadPosition, 0x1F, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, kControlUsage}, kQuick,
                     read_position));
    cmds.add(command(drive, kSpace16, std::nullopt, "SPACE(16)",
                     {kSpace16, 0x0F, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
                      kControlUsage},
                     kMotion, space16));
    cmds.add(command(drive, kLocate16, std::nullopt, "LOCATE(16)",
                     {kLocate16, 0x3B, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00,
                      kControlUsage},
                     kMotion, locate16));
}

}  // namespace vtl::ssc
