// READ ATTRIBUTE and WRITE ATTRIBUTE (SPC-4 6.17, 6.44) over the cartridge's medium auxiliary
// memory. Three kinds of attributes:
// - device and medium attributes the drive reports from what it knows (capacity, TapeAlert
//   flags, the medium's density, length, width and type, serial number = barcode, manufacturer
//   "VTL"), never stored, read-only;
// - device attributes the drive keeps in the MAM (load count, the last drives that loaded the
//   cartridge, megabytes written and read), read-only to hosts;
// - host attributes (0800h-0BFFh as SPC-4 defines them, 1400h-17FFh vendor-specific), written
//   by hosts and kept in the MAM. VOLUME COHERENCY INFORMATION (080Ch) is kept per partition,
//   as LTFS writes one per partition; every other host attribute belongs to the cartridge.
#include <map>

#include "scsi/bytes.h"
#include "ssc/drive_models.h"
#include "ssc/medium_memory.h"
#include "ssc/ssc.h"
#include "ssc/ssc_common.h"
#include "storage/cartridge.h"

namespace vtl::ssc {

namespace {

using Outcome = TapeDrive::JobOutcome;
using storage::Attribute;
namespace fmt_ = storage::mam_format;

constexpr uint8_t kReadAttribute = 0x8C;
constexpr uint8_t kWriteAttribute = 0x8D;
enum ServiceAction : uint8_t { kValues = 0x00, kList = 0x01, kVolumes = 0x02, kPartitions = 0x03, kSupported = 0x05 };

constexpr uint8_t kReadOnly = 0x80;
constexpr size_t kEntryHeader = 5;  // identifier, format, length
constexpr uint16_t kFirstReserved = 0x1800;
constexpr uint16_t kMaxCoherencyLength = 1024;

struct HostSpec {
    uint16_t id;
    uint8_t format;
    uint16_t length;  // 0: variable
};

// SPC-4 host type attributes and their sizes.
constexpr HostSpec kHostAttributes[] = {
    {0x0800, fmt_::kAscii, 8},    // APPLICATION VENDOR
    {0x0801, fmt_::kAscii, 32},   // APPLICATION NAME
    {0x0802, fmt_::kAscii, 8},    // APPLICATION VERSION
    {0x0803, fmt_::kText, 160},   // USER MEDIUM TEXT LABEL
    {0x0804, fmt_::kAscii, 12},   // DATE AND TIME LAST WRITTEN
    {0x0805, fmt_::kBinary, 1},   // TEXT LOCALIZATION IDENTIFIER
    {0x0806, fmt_::kAscii, 32},   // BARCODE
    {0x0807, fmt_::kText, 80},    // OWNING HOST TEXTUAL NAME
    {0x0808, fmt_::kText, 160},   // MEDIA POOL
    {0x0809, fmt_::kAscii, 16},   // PARTITION USER TEXT LABEL
    {0x080A, fmt_::kBinary, 1},   // LOAD/UNLOAD AT PARTITION
    {0x080B, fmt_::kAscii, 16},   // APPLICATION FORMAT VERSION
    {0x080C, fmt_::kBinary, 0},   // VOLUME COHERENCY INFORMATION
    {0x0820, fmt_::kBinary, 36},  // MEDIUM GLOBALLY UNIQUE IDENTIFIER
    {0x0821, fmt_::kBinary, 36},  // MEDIA POOL GLOBALLY UNIQUE IDENTIFIER
};

const HostSpec* host_spec(uint16_t id) {
    for (const auto& s : kHostAttributes) {
        if (s.id == id) return &s;
    }
    return nullptr;
}
bool host_vendor(uint16_t id) { return id >= 0x1400 && id < 0x1800; }
bool per_partition(uint16_t id) { return id == mam::kVolumeCoherencyInformation; }
// Where a per-partition attribute of partition p > 0 is kept: an identifier in SPC's reserved
// range, never shown to hosts.
uint16_t stored_id(uint16_t id, uint8_t partition) {
    return partition == 0 || !per_partition(id) ? id : static_cast<uint16_t>(0xF000 | partition << 8 | (id & 0xFF));
}

// Device-kept attributes reported read-only from the MAM.
constexpr uint16_t kKept[] = {mam::kLoadCount,          mam::kInitializationCount, mam::kDeviceAtLastLoad,
                              mam::kDeviceAtLastLoad + 1, mam::kDeviceAtLastLoad + 2, mam::kDeviceAtLastLoad + 3,
                              mam::kTotalMbWritten,     mam::kTotalMbRead,         mam::kMbWrittenThisLoad,
                              mam::kMbReadThisLoad};

Attribute binary(uint16_t id, uint64_t v, size_t width) {
    Attribute a{id, fmt_::kBinary, true, std::vector<uint8_t>(width)};
    for (size_t i = 0; i < width; ++i) a.value[width - 1 - i] = static_cast<uint8_t>(i < 8 ? v >> (8 * i) : 0);
    return a;
}
Attribute ascii(uint16_t id, std::string_view text, size_t width) {
    Attribute a{id, fmt_::kAscii, true, {}};
    scsi::ByteWriter(a.value).ascii(text, width);
    return a;
}

// What the drive reports without storing it, for `partition`, from the clock thread's view.
std::map<uint16_t, Attribute> reported(TapeDrive& d, uint8_t partition) {
    std::map<uint16_t, Attribute> out;
    auto put = [&](Attribute a) { out.emplace(a.id, std::move(a)); };
    const auto cap = d.tape().capacity(partition);
    constexpr uint64_t kMiB = 1u << 20;
    put(binary(mam::kRemainingCapacity, cap.remaining() / kMiB, 8));
    put(binary(mam::kMaximumCapacity, cap.capacity / kMiB, 8));
    uint64_t alerts = 0;  // flag 01h in the most significant bit
    for (uint8_t flag = 1; flag <= 64; ++flag) {
        if (d.alerts().active(flag)) alerts |= uint64_t(1) << (64 - flag);
    }
    put(binary(mam::kTapeAlertFlags, alerts, 8));
    put(ascii(mam::kAssigningOrganization, kAssigningOrganization, 8));
    const uint8_t density = d.medium_density();
    put(binary(mam::kFormattedDensityCode, density, 1));
    const auto& c = *d.cartridge();
    put(ascii(mam::kMediumManufacturer, "VTL", 8));
    put(ascii(mam::kMediumSerialNumber, c.barcode, 32));
    const Density* format = density_by_code(density);
    put(binary(mam::kMediumLength, format ? format->length_m : 0, 4));
    put(binary(mam::kMediumWidth, kMediaWidthTenthsMm, 4));
    put(ascii(mam::kMediumAssigningOrganization, kAssigningOrganization, 8));
    put(binary(mam::kMediumDensityCode, density, 1));
    put(binary(mam::kMamCapacity, mam::kCapacityBytes, 8));
    const uint8_t type = c.type == config::MediaType::Worm ? 0x80 : c.type == config::MediaType::Cleaning ? 0x01 : 0x00;
    put(binary(mam::kMediumType, type, 1));
    put(binary(mam::kMediumTypeInformation, 0, 2));
    return out;
}

// Every attribute of `partition` in an available state: reported, kept and host attributes.
std::map<uint16_t, Attribute> available(const storage::Mam& m, std::map<uint16_t, Attribute> all, uint8_t partition) {
    size_t stored_bytes = 0;
    for (const auto& [id, a] : m.attributes()) {
        stored_bytes += kEntryHeader + a.value.size();
        if (id >= kFirstReserved) continue;
        if (id < 0x0800) {
            if (std::find(std::begin(kKept), std::end(kKept), id) == std::end(kKept)) continue;
            Attribute kept = a;
            kept.read_only = true;
            all.insert_or_assign(id, std::move(kept));
        } else if (!per_partition(id)) {
            Attribute host = a;
            host.read_only = false;
            all.insert_or_assign(id, std::move(host));
        }
    }
    for (const auto& s : kHostAttributes) {
        if (!per_partition(s.id)) continue;
        if (const Attribute* a = m.find(stored_id(s.id, partition))) {
            Attribute host = *a;
            host.id = s.id;
            host.read_only = false;
            all.insert_or_assign(s.id, std::move(host));
        }
    }
    const uint64_t remaining = mam::kCapacityBytes > stored_bytes ? mam::kCapacityBytes - stored_bytes : 0;
    all.insert_or_assign(mam::kMamSpaceRemaining, binary(mam::kMamSpaceRemaining, remaining, 8));
    return all;
}

void put_entry(scsi::ByteWriter& w, const Attribute& a) {
    w.be16(a.id).u8(static_cast<uint8_t>((a.read_only ? kReadOnly : 0) | (a.format & 0x03)));
    w.be16(static_cast<uint16_t>(a.value.size())).bytes(a.value);
}

// ---- READ ATTRIBUTE -----------------------------------------------------------------------

struct ReadAttributeCdb {
    uint8_t action = 0;
    uint8_t partition = 0;
    uint16_t first = 0;
    uint32_t allocation = 0;
};

Result read_attribute(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    ReadAttributeCdb c;
    r.reserved(1, 0xE0).reserved(2).reserved(3).reserved(4).reserved(6).reserved(14, 0xFE);
    c.action = r.bits(1, 0, 5);
    r.require(c.action <= kPartitions || c.action == kSupported, 1, 4);
    r.require(r.u8(5) == 0, 5);  // LOGICAL VOLUME NUMBER: a cartridge is one volume
    c.partition = r.u8(7);
    c.first = r.be16(8);
    c.allocation = r.be32(10);
    if (r.error()) return Result::check(*r.error());

    std::vector<uint8_t> data;
    scsi::ByteWriter w(data);
    if (c.action == kSupported) {
        std::vector<uint16_t> ids = {mam::kRemainingCapacity, mam::kMaximumCapacity, mam::kTapeAlertFlags,
                                     mam::kMamSpaceRemaining, mam::kAssigningOrganization, mam::kFormattedDensityCode};
        ids.insert(ids.end(), std::begin(kKept), std::end(kKept));
        for (uint16_t id : {mam::kMediumManufacturer, mam::kMediumSerialNumber, mam::kMediumLength, mam::kMediumWidth,
                            mam::kMediumAssigningOrganization, mam::kMediumDensityCode, mam::kMamCapacity,
                            mam::kMediumType, mam::kMediumTypeInformation}) {
            ids.push_back(id);
        }
        for (const auto& s : kHostAttributes) ids.push_back(s.id);
        std::sort(ids.begin(), ids.end());
        w.be32(static_cast<uint32_t>(2 * ids.size()));
        for (uint16_t id : ids) w.be16(id);
        return Result::good(std::move(data), c.allocation);
    }
    if (auto s = d.medium_ready()) return Result::check(*s);
    if (c.partition >= d.tape().partitions()) return Result::check(scsi::Sense::invalid_cdb_field(7));
    if (c.action == kVolumes) {
        w.be16(2).u8(0).u8(1);
        return Result::good(std::move(data), c.allocation);
    }
    if (c.action == kPartitions) {
        w.be16(2).u8(0).u8(d.tape().partitions());
        return Result::good(std::move(data), c.allocation);
    }
    auto known = reported(d, c.partition);
    return d.run_job(x.task(), [c, known = std::move(known)](storage::Cartridge& cart) -> Outcome {
        auto m = cart.mam();
        if (!m.ok()) return store_failure(m.error(), false);
        const auto all = available(**m, known, c.partition);
        std::vector<uint8_t> out;
        scsi::ByteWriter o(out);
        o.be32(0);
        if (c.action == kList) {
            for (const auto& [id, a] : all) o.be16(id);
        } else {
            // The first attribute must exist; LTFS reads a missing one as "not written yet".
            if (!all.contains(c.first)) return {Result::check(scsi::Sense::invalid_cdb_field(8))};
            for (auto it = all.lower_bound(c.first); it != all.end(); ++it) put_entry(o, it->second);
        }
        o.patch_be32(0, static_cast<uint32_t>(out.size() - 4));
        return {Result::good(std::move(out), c.allocation)};
    });
}

// ---- WRITE ATTRIBUTE ----------------------------------------------------------------------

scsi::Sense list_length_error() { return scsi::Sense::illegal_request(asc::kParameterListLengthError); }

Result write_attribute(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xFE).reserved(2).reserved(3).reserved(4).reserved(6).reserved(8).reserved(9).reserved(14);
    r.require(r.u8(5) == 0, 5);
    const uint8_t partition = r.u8(7);
    const uint32_t length = r.be32(10);
    if (r.error()) return Result::check(*r.error());
    if (auto s = d.medium_ready()) return Result::check(*s);
    if (partition >= d.tape().partitions()) return Result::check(scsi::Sense::invalid_cdb_field(7));
    if (length == 0) return Result::good();
    if (length < 4 || x.data_out().size() < length) return Result::check(list_length_error());
    const auto list = x.data_out().first(length);
    const uint32_t data_length = scsi::get_be32(list.data());
    if (data_length > length - 4) return Result::check(list_length_error());

    // Every attribute is checked before any is written: all or nothing.
    std::vector<Attribute> changes;
    for (size_t at = 4; at < 4 + size_t(data_length);) {
        if (4 + size_t(data_length) - at < kEntryHeader) return Result::check(list_length_error());
        const uint16_t id = scsi::get_be16(&list[at]);
        const uint8_t format = list[at + 2] & 0x03;
        const uint16_t size = scsi::get_be16(&list[at + 3]);
        if (4 + size_t(data_length) - at - kEntryHeader < size) return Result::check(list_length_error());
        const auto field = [&](size_t offset) {
            return Result::check(scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(at + offset)));
        };
        const HostSpec* spec = host_spec(id);
        if (!spec && !host_vendor(id)) return field(0);  // read-only, vendor device/medium, unknown or reserved
        if (spec && size != 0) {
            if (format != spec->format) return field(2);
            if (spec->length ? size != spec->length : size > kMaxCoherencyLength) return field(3);
        }
        changes.push_back(Attribute{stored_id(id, partition), format, false,
                                    std::vector<uint8_t>(list.begin() + at + kEntryHeader,
                                                         list.begin() + at + kEntryHeader + size)});
        at += kEntryHeader + size;
    }
    return d.run_job(x.task(), [changes = std::move(changes)](storage::Cartridge& cart) -> Outcome {
        auto m = cart.mam();
        if (!m.ok()) return store_failure(m.error(), true);
        for (const auto& a : changes) {
            if (a.value.empty()) {
                (**m).erase(a.id);  // a zero length removes the attribute
            } else if (auto set = (**m).set(a); !set.ok()) {
                return store_failure(set.error(), true);
            }
        }
        if (auto committed = (**m).commit(); !committed.ok()) return store_failure(committed.error(), true);
        return {Result::good()};
    });
}

}  // namespace

void register_attributes(LogicalUnit& lu, TapeDrive& drive) {
    auto& cmds = lu.commands();
    cmds.add(command(drive, kReadAttribute, std::nullopt, "READ ATTRIBUTE",
                     {kReadAttribute, 0x1F, 0x00, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                      0x01, kControlUsage},
                     kQuick, read_attribute));
    cmds.add(command(drive, kWriteAttribute, std::nullopt, "WRITE ATTRIBUTE",
                     {kWriteAttribute, 0x01, 0x00, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
                      0x00, kControlUsage},
                     kQuick, write_attribute));
}

}  // namespace vtl::ssc
