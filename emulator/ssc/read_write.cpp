// READ(6), WRITE(6), WRITE FILEMARKS(6) and VERIFY(6) (SSC-4 6.x), with the sense data Linux st
// reads residuals from: filemark (NO SENSE, FILEMARK, 00/01), end of data (BLANK CHECK 00/05),
// incorrect length (NO SENSE, ILI, signed residual), early warning (NO SENSE, EOM, 00/02, the
// data written) and end of partition (VOLUME OVERFLOW, EOM, 00/02, nothing written).
// INFORMATION is VALID and holds the residual: bytes in variable mode, blocks in fixed mode.
#include "scsi/opcodes.h"
#include "ssc/drive_models.h"
#include "ssc/ssc.h"
#include "ssc/ssc_common.h"
#include "ssc/write_policy.h"
#include "storage/cartridge.h"

namespace vtl::ssc {

namespace {

using Outcome = TapeDrive::JobOutcome;

constexpr uint8_t kRead6 = 0x08;
constexpr uint8_t kWrite6 = 0x0A;
constexpr uint8_t kWriteFilemarks6 = 0x10;
constexpr uint8_t kVerify6 = 0x13;
// Bound on one fixed-mode command's data (blocks x block length), so a CDB cannot make the
// drive allocate gigabytes; far above what st (or any transport) sends at once.
constexpr uint64_t kMaxTransfer = 64u << 20;
// Bound on one WRITE FILEMARKS: hosts write one or two at a time; millions in one command would
// only keep the drive (and the clock thread waiting on it) busy for seconds.
constexpr uint32_t kMaxFilemarks = 0xFFFF;

scsi::Sense filemark_sense(uint64_t residual) {
    return scsi::Sense::no_sense(scsi::asc::kFilemarkDetected).filemark().information(residual);
}
scsi::Sense eod_sense(uint64_t residual, bool early_warning) {
    return scsi::Sense(scsi::SenseKey::BlankCheck, scsi::asc::kEndOfDataDetected)
        .information(residual)
        .eom(early_warning);
}
scsi::Sense ili_sense(int64_t residual) { return scsi::Sense::no_sense().ili().information_signed(residual); }
scsi::Sense early_warning_sense() {
    return scsi::Sense::no_sense(scsi::asc::kEndOfPartitionMediumDetected).eom().information(0);
}
scsi::Sense volume_overflow_sense(uint64_t residual) {
    return scsi::Sense(scsi::SenseKey::VolumeOverflow, scsi::asc::kEndOfPartitionMediumDetected).eom().information(residual);
}
// Where a READ's data-in goes: straight into the transport's buffer when it offers one big
// enough (the TCMU ring: no zero-filled vector, no copy after), else a vector of its own (the
// in-process initiators). Not movable: bytes() may point into the vector.
class DataIn {
public:
    DataIn(std::span<uint8_t> transport, size_t size) {
        if (transport.size() >= size) {
            bytes_ = transport.first(size);
            in_buffer_ = true;
        } else {
            own_.resize(size);
            bytes_ = own_;
        }
    }
    DataIn(const DataIn&) = delete;
    DataIn& operator=(const DataIn&) = delete;

    std::span<uint8_t> bytes() const { return bytes_; }
    // `r` carrying the first `n` bytes read as its data-in.
    Result with(Result r, size_t n) {
        if (in_buffer_) {
            r.in_buffer = static_cast<uint32_t>(n);
        } else {
            own_.resize(n);
            r.data = std::move(own_);
        }
        return r;
    }

private:
    std::vector<uint8_t> own_;
    std::span<uint8_t> bytes_;
    bool in_buffer_ = false;
};

Outcome bad_record(DataIn& in, size_t bytes, uint64_t residual) {
    // An imported record the source could not read: the data as it was, and a medium error.
    return {in.with(Result::check(
                        scsi::Sense(scsi::SenseKey::MediumError, asc::kUnrecoveredReadError).information(residual)),
                    bytes),
            alert_bit(alert::kReadWarning)};
}

// ---- READ(6) ------------------------------------------------------------------------------

struct ReadCdb {
    bool sili = false;
    bool fixed = false;
    uint32_t length = 0;  // bytes (variable) or blocks (fixed)
};

std::optional<scsi::Sense> decode_read(std::span<const uint8_t> cdb, ReadCdb& c) {
    scsi::CdbReader r(cdb);
    r.reserved(1, 0xFC);
    c.sili = r.bit(1, 1);
    c.fixed = r.bit(1, 0);
    c.length = r.be24(2);
    // SSC-4: SILI with FIXED is an error; SILI only waives short variable-length records.
    r.require(!(c.sili && c.fixed), 1, 1);
    return r.error();
}

// The record just read is at a block the fault plan damaged: the drive gave up on it and is
// positioned after it; `bytes` were transferred before it, `residual` counts it and the rest.
Outcome damaged_block(DataIn& in, size_t bytes, uint64_t residual) {
    Outcome out{in.with(
        Result::check(scsi::Sense(scsi::SenseKey::MediumError, asc::kUnrecoveredReadError).information(residual)),
        bytes)};
    out.unrecovered_read = true;
    return out;
}

Outcome read_variable(storage::Cartridge& c, uint32_t length, bool sili, bool damaged, std::span<uint8_t> buffer) {
    DataIn in(buffer, length);
    auto got = c.read_next(in.bytes());
    if (!got.ok()) return store_failure(got.error(), false);
    switch (got->kind) {
        case storage::ReadKind::EndOfData:
            return {Result::check(eod_sense(length, c.capacity().early_warning()))};
        case storage::ReadKind::Filemark: return {Result::check(filemark_sense(length))};
        case storage::ReadKind::Record: break;
    }
    if (damaged) return damaged_block(in, 0, length);
    const size_t n = got->copied;
    if (got->bad) return bad_record(in, n, length - n);
    if (got->length == length) return {in.with(Result::good(), n)};
    if (got->length < length) {
        if (sili) return {in.with(Result::good(), n)};
        return {in.with(Result::check(ili_sense(int64_t(length) - got->length)), n)};
    }
    // Longer than asked for: the first `length` bytes, a negative residual, positioned after it.
    return {in.with(Result::check(ili_sense(int64_t(length) - int64_t(got->length))), n)};
}

// `damaged`: the index of a block the fault plan damaged, if any.
Outcome read_fixed(storage::Cartridge& c, uint32_t blocks, uint32_t block_length, std::optional<uint64_t> damaged,
                   std::span<uint8_t> buffer) {
    DataIn in(buffer, size_t(blocks) * block_length);
    for (uint32_t i = 0; i < blocks; ++i) {
        auto got = c.read_next(in.bytes().subspan(size_t(i) * block_length, block_length));
        const uint64_t residual = blocks - i;
        if (got.ok() && got->kind == storage::ReadKind::Record && damaged == i) {
            return damaged_block(in, size_t(i) * block_length, residual);
        }
        if (got.ok() && got->kind == storage::ReadKind::Record && got->length == block_length && !got->bad) continue;
        if (!got.ok()) {
            Outcome out = store_failure(got.error(), false);
            out.result.sense->information(residual);
            return out;
        }
        if (got->kind == storage::ReadKind::Record && got->bad) {
            return bad_record(in, size_t(i + 1) * block_length, residual - 1);
        }
        const size_t n = size_t(i) * block_length;
        switch (got->kind) {
            case storage::ReadKind::EndOfData:
                return {in.with(Result::check(eod_sense(residual, c.capacity().early_warning())), n)};
            case storage::ReadKind::Filemark:
                return {in.with(Result::check(filemark_sense(residual)), n)};
            case storage::ReadKind::Record:
                return {in.with(Result::check(ili_sense(int64_t(residual))), n)};
        }
    }
    return {in.with(Result::good(), size_t(blocks) * block_length)};
}

Result read6(Exec& x, TapeDrive& d) {
    // The fault plan's note, taken whatever happens next so that it cannot outlive the command.
    const std::optional<uint64_t> damaged = d.take_read_damage(x.task().get());
    ReadCdb c;
    if (auto err = decode_read(x.cdb(), c)) return Result::check(*err);
    if (auto s = d.medium_ready()) return Result::check(*s);
    const uint32_t block_length = d.block_length();
    if (c.fixed && block_length == 0) return Result::check(scsi::Sense::invalid_cdb_field(1, 0));
    if (c.length == 0) return Result::good();  // no transfer, no motion
    if (!c.fixed && c.length > kMaxBlockLength) return Result::check(scsi::Sense::invalid_cdb_field(2));
    if (c.fixed && uint64_t(c.length) * block_length > kMaxTransfer) {
        return Result::check(scsi::Sense::invalid_cdb_field(2));
    }
    // The transport's buffer stays valid until the task completes; an abort waits for the job.
    const std::span<uint8_t> buffer = x.task()->command().data_in_buffer;
    return d.run_job(x.task(), [c, block_length, buffer, damaged](storage::Cartridge& cart) {
        return c.fixed ? read_fixed(cart, c.length, block_length, damaged, buffer)
                       : read_variable(cart, c.length, c.sili, damaged == 0, buffer);
    });
}

// ---- WRITE(6) -----------------------------------------------------------------------------

Outcome write_records(storage::Cartridge& c, std::span<const uint8_t> data, uint32_t record, uint32_t count, bool fixed,
                      bool compress, bool worm, const WriteGate& gate) {
    if (auto refused = gate.refuse(c)) return *refused;
    if (worm && !worm_overwrite_allowed(c)) return worm_refusal();
    bool early_warning = false;
    for (uint32_t i = 0; i < count; ++i) {
        auto written = c.write_record(data.subspan(size_t(i) * record, record), compress);
        if (!written.ok()) {
            if (written.error().code == storage::Errc::EndOfMedium) {
                return {Result::check(volume_overflow_sense(fixed ? count - i : record))};
            }
            Outcome out = store_failure(written.error(), true);
            out.result.sense->information(fixed ? count - i : record);
            return out;
        }
        early_warning |= written->early_warning;
    }
    if (auto pew = gate.after_write(c)) return {Result::check(*pew)};
    if (early_warning) return {Result::check(early_warning_sense())};
    return {Result::good()};
}

Result write6(Exec& x, TapeDrive& d, WriteControl& control) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xFE);
    const bool fixed = r.bit(1, 0);
    const uint32_t length = r.be24(2);
    if (r.error()) return Result::check(*r.error());
    if (auto s = d.medium_ready()) return Result::check(*s);
    const uint32_t block_length = d.block_length();
    if (fixed && block_length == 0) return Result::check(scsi::Sense::invalid_cdb_field(1, 0));
    if (length == 0) return Result::good();
    if (!fixed && length > kMaxBlockLength) return Result::check(scsi::Sense::invalid_cdb_field(2));
    const uint64_t bytes = fixed ? uint64_t(length) * block_length : length;
    if (bytes > kMaxTransfer) return Result::check(scsi::Sense::invalid_cdb_field(2));
    // The transport delivers the data-out the CDB announces; a shorter buffer means the
    // TRANSFER LENGTH disagrees with what the initiator sent, and nothing is written.
    if (x.data_out().size() < bytes) return Result::check(scsi::Sense::invalid_cdb_field(2));
    if (auto refused = d.write_refusal()) {
        d.alerts().raise(refused->code() == scsi::asc::kWriteProtected ? alert::kWriteProtect : alert::kReadOnlyFormat);
        return Result::check(*refused);
    }
    const auto data = x.data_out().first(bytes);
    const uint32_t record = fixed ? block_length : length;
    const uint32_t count = fixed ? length : 1;
    const bool compress = d.compression_enabled();
    const bool worm = d.worm();
    const WriteGate gate = WriteGate::begin(d, control);
    return d.run_job(x.task(), [=](storage::Cartridge& c) {
        return write_records(c, data, record, count, fixed, compress, worm, gate);
    });
}

// ---- WRITE FILEMARKS(6) ------------------------------------------------------------------

Result write_filemarks6(Exec& x, TapeDrive& d, WriteControl& control) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xFC);
    r.require(!r.bit(1, 1), 1, 1);  // WSMK: LTO has no setmarks
    const bool immed = r.bit(1, 0);
    const uint32_t count = r.be24(2);
    r.require(count <= kMaxFilemarks, 2);
    if (r.error()) return Result::check(*r.error());
    if (auto s = d.medium_ready()) return Result::check(*s);
    if (count > 0) {
        if (auto refused = d.write_refusal()) {
            d.alerts().raise(refused->code() == scsi::asc::kWriteProtected ? alert::kWriteProtect
                                                                            : alert::kReadOnlyFormat);
            return Result::check(*refused);
        }
    } else if (immed) {
        return Result::good();  // a sync point not waited for: nothing to do
    }
    const bool worm = d.worm();
    // A count of 0 only synchronises: not a write-type command for append-only mode.
    const std::optional<WriteGate> gate = count > 0 ? std::optional(WriteGate::begin(d, control)) : std::nullopt;
    // IMMED: GOOD once the filemarks are in the buffer, before the sync point.
    return d.run_job(x.task(), [count, immed, worm, gate](storage::Cartridge& c) -> Outcome {
        if (gate) {
            if (auto refused = gate->refuse(c)) return *refused;
        }
        if (count > 0 && worm && !worm_overwrite_allowed(c)) return worm_refusal();
        auto written = c.write_filemarks(count, !immed);
        if (!written.ok()) {
            Outcome out = store_failure(written.error(), true);
            out.result.sense->information(count);
            return out;
        }
        if (gate) {
            if (auto pew = gate->after_write(c)) return {Result::check(*pew)};
        }
        if (count > 0 && written->early_warning) return {Result::check(early_warning_sense())};
        return {Result::good()};
    });
}

// ---- VERIFY(6) ----------------------------------------------------------------------------

struct VerifyCdb {
    bool vte = false;    // verify to end of data
    bool vbf = false;    // verify by filemarks: LENGTH counts files
    bool immed = false;
    bool fixed = false;
    uint32_t length = 0;
};

Outcome verify_files(storage::Cartridge& c, uint32_t files) {
    uint32_t done = 0;
    while (done < files) {
        auto got = c.read_next({});
        if (!got.ok()) {
            Outcome out = store_failure(got.error(), false);
            out.result.sense->information(files - done);
            return out;
        }
        if (got->kind == storage::ReadKind::EndOfData) return {Result::check(eod_sense(files - done, false))};
        if (got->kind == storage::ReadKind::Filemark) ++done;
    }
    return {Result::good()};
}

Outcome verify_to_eod(storage::Cartridge& c) {
    for (;;) {
        auto got = c.read_next({});
        if (!got.ok()) return store_failure(got.error(), false);
        if (got->kind == storage::ReadKind::EndOfData) return {Result::good()};
    }
}

Outcome verify_blocks(storage::Cartridge& c, const VerifyCdb& v, uint32_t block_length) {
    const uint32_t count = v.fixed ? v.length : 1;
    const uint32_t expected = v.fixed ? block_length : v.length;
    for (uint32_t i = 0; i < count; ++i) {
        const uint64_t residual = v.fixed ? count - i : v.length;
        auto got = c.read_next({});
        if (!got.ok()) {
            Outcome out = store_failure(got.error(), false);
            out.result.sense->information(residual);
            return out;
        }
        switch (got->kind) {
            case storage::ReadKind::EndOfData: return {Result::check(eod_sense(residual, false))};
            case storage::ReadKind::Filemark: return {Result::check(filemark_sense(residual))};
            case storage::ReadKind::Record: break;
        }
        if (got->bad) {
            return {Result::check(scsi::Sense(scsi::SenseKey::MediumError, asc::kUnrecoveredReadError).information(residual))};
        }
        if (got->length != expected) {
            const int64_t info = v.fixed ? int64_t(residual) : int64_t(v.length) - int64_t(got->length);
            return {Result::check(ili_sense(info))};
        }
    }
    return {Result::good()};
}

Result verify6(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    VerifyCdb v;
    r.reserved(1, 0xC0);
    v.vte = r.bit(1, 5);
    v.vbf = r.bit(1, 3);
    v.immed = r.bit(1, 2);
    v.fixed = r.bit(1, 0);
    v.length = r.be24(2);
    r.require(!r.bit(1, 4), 1, 4);  // VLBPM: no logical block protection
    r.require(!r.bit(1, 1), 1, 1);  // BYTCMP: compare with data-out is not supported
    r.require(!(v.vte && v.vbf), 1, 3);
    r.require(!(v.vbf && v.fixed), 1, 0);
    if (r.error()) return Result::check(*r.error());
    if (auto s = d.medium_ready()) return Result::check(*s);
    const uint32_t block_length = d.block_length();
    if (v.fixed && block_length == 0) return Result::check(scsi::Sense::invalid_cdb_field(1, 0));
    if (!v.vte && v.length == 0) return Result::good();
    if (!v.vte && !v.vbf && !v.fixed && v.length > kMaxBlockLength) {
        return Result::check(scsi::Sense::invalid_cdb_field(2));
    }
    return d.run_job(
        x.task(),
        [v, block_length](storage::Cartridge& c) {
            if (v.vte) return verify_to_eod(c);
            if (v.vbf) return verify_files(c, v.length);
            return verify_blocks(c, v, block_length);
        },
        TapeDrive::Motion::None, v.immed);
}

}  // namespace

void register_read_write(LogicalUnit& lu, TapeDrive& drive, const std::shared_ptr<WriteControl>& control) {
    auto& cmds = lu.commands();
    cmds.add(command(drive, kRead6, std::nullopt, "READ(6)", {kRead6, 0x03, 0xFF, 0xFF, 0xFF, kControlUsage}, kData,
                     read6));
    cmds.add(command(drive, kWrite6, std::nullopt, "WRITE(6)", {kWrite6, 0x01, 0xFF, 0xFF, 0xFF, kControlUsage}, kData,
                     [control](Exec& x, TapeDrive& d) { return write6(x, d, *control); }));
    cmds.add(command(drive, kWriteFilemarks6, std::nullopt, "WRITE FILEMARKS(6)",
                     {kWriteFilemarks6, 0x03, 0xFF, 0xFF, 0xFF, kControlUsage}, kData,
                     [control](Exec& x, TapeDrive& d) { return write_filemarks6(x, d, *control); }));
    cmds.add(command(drive, kVerify6, std::nullopt, "VERIFY(6)", {kVerify6, 0x3F, 0xFF, 0xFF, 0xFF, kControlUsage},
                     kLong, verify6));
}

}  // namespace vtl::ssc
