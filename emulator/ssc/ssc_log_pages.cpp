// The tape drive's log pages with live values: write and read error counters (02h, 03h),
// Sequential-Access Device (0Ch), DT Device Status (11h), Volume Statistics (17h), Data
// Compression (1Bh, SSC-4; 32h, IBM's layout), TapeAlert (2Eh) and IBM's Tape Capacity (31h).
// 00h and 0Dh come from SPC. Counters come from the store's counters through the tape state;
// LOG SELECT's parameter reset starts a page's counters again from zero.
#include <memory>

#include "core/logical_unit.h"
#include "scsi/bytes.h"
#include "ssc/ssc.h"
#include "ssc/ssc_common.h"
#include "ssc/tape_alert.h"

namespace vtl::ssc {

namespace {

constexpr uint64_t kMB = 1000 * 1000;  // SSC-4 volume statistics: 10^6 bytes
constexpr uint64_t kMiB = 1u << 20;    // compression pages and IBM's tape capacity page

std::vector<uint8_t> be(uint64_t v, size_t width) {
    std::vector<uint8_t> out(width);
    for (size_t i = 0; i < width; ++i) out[width - 1 - i] = static_cast<uint8_t>(i < 8 ? v >> (8 * i) : 0);
    return out;
}
LogParameter counter(uint16_t code, uint64_t v, size_t width = 4) {
    if (width < 8 && v >> (8 * width)) v = (uint64_t(1) << (8 * width)) - 1;  // saturate
    return {code, kLogBoundedCounter, be(v, width)};
}
LogParameter binary(uint16_t code, uint64_t v, size_t width) { return {code, kLogBinary, be(v, width)}; }
LogParameter ascii(uint16_t code, std::string_view text, size_t width) {
    std::vector<uint8_t> v;
    scsi::ByteWriter(v).ascii(text, width);
    return {code, kLogAscii, v};
}

// What LOG SELECT's reset left as zero, per page.
struct Baselines {
    storage::Counters write_errors_io, read_errors_io, sequential_io, compression_io;
    uint64_t write_errors = 0, read_errors = 0;
};

uint64_t since(uint64_t now, uint64_t base) { return now >= base ? now - base : 0; }

LogPage error_counters(TapeDrive& d, std::shared_ptr<Baselines> b, bool write) {
    LogPage p;
    p.code = write ? 0x02 : 0x03;
    p.name = write ? "Write Error Counter" : "Read Error Counter";
    p.parameters = [&d, b, write](LogPc) {
        const auto& s = d.statistics();
        const uint64_t bytes = write ? since(s.io.bytes_from_host, b->write_errors_io.bytes_from_host)
                                     : since(s.io.bytes_to_host, b->read_errors_io.bytes_to_host);
        const uint64_t uncorrected = write ? since(s.write_errors, b->write_errors) : since(s.read_errors, b->read_errors);
        return std::vector<LogParameter>{
            counter(0x0000, 0),            // corrected without substantial delay
            counter(0x0001, 0),            // corrected with possible delays
            counter(0x0002, 0),            // total rewrites or rereads
            counter(0x0003, 0),            // total errors corrected
            counter(0x0004, 0),            // times the correction algorithm ran
            counter(0x0005, bytes, 8),     // total bytes processed
            counter(0x0006, uncorrected),  // total uncorrected errors
        };
    };
    p.reset = [&d, b, write] {
        if (write) {
            b->write_errors_io = d.statistics().io;
            b->write_errors = d.statistics().write_errors;
        } else {
            b->read_errors_io = d.statistics().io;
            b->read_errors = d.statistics().read_errors;
        }
    };
    return p;
}

LogPage sequential_access(TapeDrive& d, std::shared_ptr<Baselines> b) {
    LogPage p;
    p.code = 0x0C;
    p.name = "Sequential-Access Device";
    p.parameters = [&d, b](LogPc) {
        const auto& io = d.statistics().io;
        const auto& base = b->sequential_io;
        return std::vector<LogParameter>{
            counter(0x0000, since(io.bytes_from_host, base.bytes_from_host), 8),
            counter(0x0001, since(io.bytes_to_medium, base.bytes_to_medium), 8),
            counter(0x0002, since(io.bytes_from_medium, base.bytes_from_medium), 8),
            counter(0x0003, since(io.bytes_to_host, base.bytes_to_host), 8),
            binary(0x0100, d.alerts().active(alert::kCleanNow) ? 1 : 0, 1),  // cleaning required
        };
    };
    p.reset = [&d, b] { b->sequential_io = d.statistics().io; };
    return p;
}

LogPage device_status(TapeDrive& d) {
    LogPage p;
    p.code = 0x11;
    p.name = "DT Device Status";
    p.parameters = [&d](LogPc) {
        using State = DriveMechanism::State;
        const State s = d.state();
        const bool mounted = s == State::Loaded;
        const bool present = s != State::Empty;
        // Very high frequency data (SSC-4 / ADC-3).
        const uint8_t b0 = static_cast<uint8_t>((d.lu().medium_removal_prevented() ? 0x80 : 0) |  // PAMR
                                                (mounted ? 0x20 : 0) |                            // MACC
                                                (d.compression_enabled() ? 0x10 : 0) |            // CMPR
                                                (mounted && d.write_refusal() ? 0x08 : 0) |       // WRTP
                                                (d.cleaning_requested() ? 0x04 : 0) |             // CRQST
                                                (d.alerts().active(alert::kCleanNow) ? 0x02 : 0) |  // CRQRD
                                                0x01);                                            // DINIT
        const uint8_t b1 = static_cast<uint8_t>((present ? 0x10 : 0) |   // MPRSNT
                                                (present ? 0x04 : 0) |   // MSTD
                                                (mounted ? 0x02 : 0) |   // MTHRD
                                                (mounted ? 0x01 : 0));   // MOUNTED
        uint8_t activity = 0;  // DT DEVICE ACTIVITY: no activity
        if (s == State::Loading) activity = 0x02;
        if (s == State::Unloading) activity = 0x03;
        if (d.busy()) activity = 0x04;
        return std::vector<LogParameter>{{0x0000, kLogBinary, {b0, b1, activity, 0x00}}};
    };
    return p;
}

std::vector<uint8_t> partition_records(const TapeDrive& d, uint64_t (*value)(const storage::CapacityInfo&)) {
    std::vector<uint8_t> out;
    scsi::ByteWriter w(out);
    for (uint8_t i = 0; i < d.tape().partitions(); ++i) {
        w.u8(0x07).u8(0x00).be16(i).be32(static_cast<uint32_t>(std::min<uint64_t>(value(d.tape().capacity(i)) / kMB,
                                                                                    0xFFFFFFFFu)));
    }
    return out;
}

LogPage volume_statistics(TapeDrive& d) {
    LogPage p;
    p.code = 0x17;
    p.name = "Volume Statistics";
    p.parameters = [&d](LogPc) {
        std::vector<LogParameter> out;
        const auto& t = d.tape();
        out.push_back(binary(0x0000, t.mounted() ? 1 : 0, 1));  // page valid
        if (!t.mounted()) return out;
        const auto& k = t.counters();
        uint64_t total = 0, used = 0;
        for (uint8_t i = 0; i < t.partitions(); ++i) {
            total += t.capacity(i).capacity;
            used += t.capacity(i).used;
        }
        const auto& c = *d.cartridge();
        out.push_back(counter(0x0001, d.medium_loads()));        // volume mounts
        out.push_back(counter(0x0002, k.records_written));       // data sets written
        out.push_back(counter(0x0004, 0));                       // unrecovered write errors
        out.push_back(counter(0x0007, k.records_read));          // data sets read
        out.push_back(counter(0x0009, 0));                       // unrecovered read errors
        out.push_back(counter(0x000E, k.bytes_to_medium / kMB));   // MB written, this mount
        out.push_back(counter(0x000F, k.bytes_from_medium / kMB)); // MB read, this mount
        out.push_back(counter(0x0016, total / kMB));             // total native capacity
        out.push_back(counter(0x0017, used / kMB));              // total used native capacity
        out.push_back(ascii(0x0040, c.barcode, 32));             // volume serial number
        out.push_back(binary(0x0080, d.write_refusal() ? 1 : 0, 1));  // write protect
        out.push_back(binary(0x0081, d.worm() ? 1 : 0, 1));           // WORM
        out.push_back({0x0202, kLogBinary, partition_records(d, [](const storage::CapacityInfo& i) { return i.capacity; })});
        out.push_back({0x0203, kLogBinary, partition_records(d, [](const storage::CapacityInfo& i) { return i.used; })});
        out.push_back({0x0204, kLogBinary, partition_records(d, [](const storage::CapacityInfo& i) { return i.remaining(); })});
        return out;
    };
    return p;
}

// Data compression: SSC-4 page 1Bh and IBM's 32h share parameters 0000h-0009h; 1Bh adds 0100h.
LogPage compression(TapeDrive& d, std::shared_ptr<Baselines> b, uint8_t code) {
    LogPage p;
    p.code = code;
    p.name = code == 0x1B ? "Data Compression" : "Data Compression (IBM)";
    p.parameters = [&d, b, code](LogPc) {
        const auto& io = d.statistics().io;
        const auto& base = b->compression_io;
        const uint64_t to_host = since(io.bytes_to_host, base.bytes_to_host);
        const uint64_t from_medium = since(io.bytes_from_medium, base.bytes_from_medium);
        const uint64_t from_host = since(io.bytes_from_host, base.bytes_from_host);
        const uint64_t to_medium = since(io.bytes_to_medium, base.bytes_to_medium);
        auto ratio = [](uint64_t host, uint64_t medium) { return medium ? host * 100 / medium : 0; };
        std::vector<LogParameter> out{
            counter(0x0000, ratio(to_host, from_medium), 2),  // read compression ratio x100
            counter(0x0001, ratio(from_host, to_medium), 2),  // write compression ratio x100
            counter(0x0002, to_host / kMiB),      counter(0x0003, to_host % kMiB),
            counter(0x0004, from_medium / kMiB),  counter(0x0005, from_medium % kMiB),
            counter(0x0006, from_host / kMiB),    counter(0x0007, from_host % kMiB),
            counter(0x0008, to_medium / kMiB),    counter(0x0009, to_medium % kMiB),
        };
        if (code == 0x1B) out.push_back(binary(0x0100, d.compression_enabled() ? 1 : 0, 1));
        return out;
    };
    p.reset = [&d, b] { b->compression_io = d.statistics().io; };
    return p;
}

LogPage tape_alert(TapeDrive& d) {
    LogPage p;
    p.code = 0x2E;
    p.name = "TapeAlert";
    p.parameters = [&d](LogPc pc) {
        std::vector<LogParameter> out;
        for (uint8_t flag = 1; flag <= 64; ++flag) {
            out.push_back({flag, kLogBinary, {static_cast<uint8_t>(d.alerts().active(flag) ? 1 : 0)}});
        }
        // Reading the current values reports the event flags; conditions stay until they end.
        if (pc == LogPc::Cumulative) d.alerts().reported();
        return out;
    };
    return p;
}

LogPage tape_capacity(TapeDrive& d) {
    LogPage p;
    p.code = 0x31;
    p.name = "Tape Capacity";
    p.parameters = [&d](LogPc) {
        const auto& t = d.tape();
        auto mib = [](uint64_t bytes) { return std::min<uint64_t>(bytes / kMiB, 0xFFFFFFFFu); };
        auto part = [&](uint8_t i) { return i < t.partitions() ? t.capacity(i) : storage::CapacityInfo{}; };
        return std::vector<LogParameter>{
            binary(0x0001, mib(part(0).remaining()), 4),  // partition 0 remaining
            binary(0x0002, mib(part(1).remaining()), 4),  // partition 1 remaining
            binary(0x0003, mib(part(0).capacity), 4),     // partition 0 maximum
            binary(0x0004, mib(part(1).capacity), 4),     // partition 1 maximum
        };
    };
    return p;
}

}  // namespace

void register_log_pages(LogicalUnit& lu, TapeDrive& drive) {
    auto baselines = std::make_shared<Baselines>();
    auto& pages = lu.log_pages();
    pages.add(error_counters(drive, baselines, true));
    pages.add(error_counters(drive, baselines, false));
    pages.add(sequential_access(drive, baselines));
    pages.add(device_status(drive));
    pages.add(volume_statistics(drive));
    pages.add(compression(drive, baselines, 0x1B));
    pages.add(tape_alert(drive));
    pages.add(tape_capacity(drive));
    pages.add(compression(drive, baselines, 0x32));
}

}  // namespace vtl::ssc
