// INQUIRY (SPC-4 6.6): standard inquiry data and the VPD pages every device has: supported
// pages (00h), unit serial number (80h), device identification (83h), extended INQUIRY (86h).
#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/logical_unit.h"
#include "scsi/cdb.h"
#include "scsi/opcodes.h"
#include "spc/spc.h"

namespace vtl {

namespace {

constexpr uint8_t kPageSupportedPages = 0x00;
constexpr uint8_t kPageUnitSerialNumber = 0x80;
constexpr uint8_t kPageDeviceIdentification = 0x83;
constexpr uint8_t kPageExtendedInquiry = 0x86;

// Standard data (SPC-4 table 142).
constexpr size_t kStandardLength = 96;
constexpr uint8_t kRmb = 0x80;
constexpr uint8_t kVersionSpc4 = 0x06;
constexpr uint8_t kHisup = 0x10;
constexpr uint8_t kResponseDataFormat = 0x02;
constexpr uint8_t kCmdQue = 0x02;
constexpr size_t kVersionDescriptors = 8;

// Designation descriptors (SPC-4 7.8.6.1).
enum class CodeSet : uint8_t { Binary = 1, Ascii = 2, Utf8 = 3 };
enum class Association : uint8_t { LogicalUnit = 0, TargetPort = 1 };
enum class DesignatorType : uint8_t { T10VendorId = 1, Naa = 3, RelativeTargetPort = 4, ScsiNameString = 8 };
constexpr uint8_t kPiv = 0x80;
constexpr size_t kMaxDesignatorLength = 255;

// Extended INQUIRY data (SPC-4 7.8.7): the page length, SIMPSUP (page byte 5) and LUICLR
// (page byte 7), given here as offsets into the payload after the 4-byte header.
constexpr size_t kExtendedInquiryLength = 0x3C;
constexpr size_t kSimpsupAt = 5 - 4;
constexpr uint8_t kSimpsup = 0x01;
constexpr size_t kLuiclrAt = 7 - 4;
constexpr uint8_t kLuiclr = 0x01;

constexpr uint8_t kControlUsage = 0x07;  // NACA, FLAG, LINK: checked by the logical unit
constexpr uint32_t kNominalTimeout = 1;
constexpr uint32_t kRecommendedTimeout = 10;

struct InquiryCdb {
    bool evpd = false;
    uint8_t page_code = 0;
    uint16_t allocation_length = 0;
    std::optional<scsi::Sense> error;  // the first invalid field
};

InquiryCdb decode_inquiry(std::span<const uint8_t> cdb, const VpdPages& pages) {
    scsi::CdbReader r(cdb);
    InquiryCdb c;
    c.evpd = r.bit(1, 0);
    c.page_code = r.u8(2);
    c.allocation_length = r.be16(3);
    const bool page_known = c.page_code == kPageSupportedPages || pages.find(c.page_code) != nullptr;
    r.reserved(1, 0xFC)
        .require(!r.bit(1, 1), 1, 1)  // CMDDT: obsolete since SPC-3, replaced by RSOC
        .require(c.evpd || c.page_code == 0, 2)
        .require(!c.evpd || page_known, 2);
    c.error = r.error();
    return c;
}

uint8_t peripheral_byte(const DeviceIdentity& id) {
    return static_cast<uint8_t>(id.type);  // PERIPHERAL QUALIFIER 000b: connected
}

std::vector<uint8_t> standard_data(const DeviceIdentity& id) {
    std::vector<uint8_t> d;
    scsi::ByteWriter w(d);
    w.u8(peripheral_byte(id))
        .u8(id.removable ? kRmb : 0)
        .u8(kVersionSpc4)
        .u8(kHisup | kResponseDataFormat)
        .u8(kStandardLength - 5)  // ADDITIONAL LENGTH: bytes after byte 4
        .u8(0)                    // SCCS, ACC, TPGS, 3PC, PROTECT
        .u8(0)                    // MULTIP, MCHNGR=0 (mtx refuses drives that claim a changer)
        .u8(kCmdQue)
        .ascii(id.vendor, 8)
        .ascii(id.product, 16)
        .ascii(id.revision, 4)
        .ascii("", 20)  // vendor specific
        .zeros(2);      // CLOCKING, QAS, IUS; reserved
    for (size_t i = 0; i < kVersionDescriptors; ++i) {
        w.be16(i < id.version_descriptors.size() ? id.version_descriptors[i] : 0);
    }
    w.zeros(kStandardLength - w.size());
    return d;
}

std::vector<uint8_t> supported_pages(const VpdPages& pages) {
    std::vector<uint8_t> codes = pages.codes();
    codes.push_back(kPageSupportedPages);
    std::sort(codes.begin(), codes.end());
    codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
    return codes;
}

std::vector<uint8_t> serial_page(const DeviceIdentity& id) {
    // SPC-4 7.8.17: spaces when there is no serial number.
    const std::string serial = id.serial.empty() ? std::string(8, ' ') : id.serial;
    return std::vector<uint8_t>(serial.begin(), serial.end());
}

void designator(scsi::ByteWriter& w, CodeSet code_set, Association association, DesignatorType type,
                Protocol protocol, std::span<const uint8_t> value) {
    // The protocol identifier is valid (PIV) only for a target port association and a known
    // protocol; otherwise the field is reserved.
    const bool piv = association == Association::TargetPort && protocol != Protocol::Unknown;
    w.u8(static_cast<uint8_t>((piv ? uint8_t(protocol) << 4 : 0) | uint8_t(code_set)))
        .u8(static_cast<uint8_t>((piv ? kPiv : 0) | uint8_t(association) << 4 | uint8_t(type)))
        .u8(0)
        .u8(static_cast<uint8_t>(value.size()))
        .bytes(value);
}

std::vector<uint8_t> be64_bytes(uint64_t v) {
    std::vector<uint8_t> b;
    scsi::ByteWriter(b).be64(v);
    return b;
}

// "naa." followed by exactly 16 hex digits (an 8-byte NAA name), as FC and SAS name ports.
std::optional<uint64_t> parse_naa_name(std::string_view name) {
    constexpr std::string_view kPrefix = "naa.";
    if (!name.starts_with(kPrefix) || name.size() != kPrefix.size() + 16) return std::nullopt;
    uint64_t value = 0;
    const char* first = name.data() + kPrefix.size();
    const char* last = name.data() + name.size();
    auto [end, ec] = std::from_chars(first, last, value, 16);
    if (ec != std::errc() || end != last) return std::nullopt;
    return value;
}

std::vector<uint8_t> device_identification(const DeviceIdentity& id, const Nexus& nexus) {
    std::vector<uint8_t> d;
    scsi::ByteWriter w(d);
    const Protocol protocol = nexus.target.protocol;

    designator(w, CodeSet::Binary, Association::LogicalUnit, DesignatorType::Naa, protocol, be64_bytes(id.naa));

    std::vector<uint8_t> t10;
    scsi::ByteWriter(t10).ascii(id.vendor, 8).ascii(id.product, 16);
    const size_t serial_room = kMaxDesignatorLength - t10.size();
    t10.insert(t10.end(), id.serial.begin(), id.serial.begin() + std::min(id.serial.size(), serial_room));
    designator(w, CodeSet::Ascii, Association::LogicalUnit, DesignatorType::T10VendorId, protocol, t10);

    const uint16_t relative_id = nexus.target.relative_id;
    if (relative_id != 0) {  // 0 is reserved: no relative port identifier known
        std::vector<uint8_t> port;
        scsi::ByteWriter(port).be16(0).be16(relative_id);
        designator(w, CodeSet::Binary, Association::TargetPort, DesignatorType::RelativeTargetPort, protocol, port);
    }

    const std::string& name = nexus.target.name;
    if (!name.empty()) {
        if (auto naa = parse_naa_name(name)) {
            designator(w, CodeSet::Binary, Association::TargetPort, DesignatorType::Naa, protocol, be64_bytes(*naa));
        } else {
            // SPC-4 7.8.6.11: an iSCSI target port is named "<target name>,t,0x<tag>"; the
            // string is NUL terminated and padded with NULs to a multiple of 4 bytes.
            std::string s = fmt::format("{},t,0x{:04x}", name, relative_id);
            std::vector<uint8_t> value(s.begin(), s.end());
            value.resize((value.size() + 1 + 3) / 4 * 4, 0);
            if (value.size() <= kMaxDesignatorLength) {
                designator(w, CodeSet::Utf8, Association::TargetPort, DesignatorType::ScsiNameString, protocol,
                           value);
            }
        }
    }
    return d;
}

std::vector<uint8_t> extended_inquiry() {
    std::vector<uint8_t> d(kExtendedInquiryLength, 0);
    d[kSimpsupAt] = kSimpsup;  // only the SIMPLE task attribute
    d[kLuiclrAt] = kLuiclr;    // unit attentions are cleared per I_T nexus
    return d;
}

std::vector<uint8_t> vpd_page(LogicalUnit& lu, uint8_t code, const Nexus& nexus) {
    std::vector<uint8_t> body;
    if (code == kPageSupportedPages) {
        body = supported_pages(lu.vpd_pages());
    } else {
        body = (*lu.vpd_pages().find(code))(nexus);  // the decoder refused unknown pages
    }
    std::vector<uint8_t> page;
    scsi::ByteWriter(page)
        .u8(peripheral_byte(lu.device().identity()))
        .u8(code)
        .be16(static_cast<uint16_t>(body.size()))
        .bytes(body);
    return page;
}

Result inquiry(Exec& x) {
    LogicalUnit& lu = x.lu();
    const InquiryCdb cdb = decode_inquiry(x.cdb(), lu.vpd_pages());
    if (cdb.error) return Result::check(*cdb.error);
    auto data = cdb.evpd ? vpd_page(lu, cdb.page_code, x.nexus()) : standard_data(lu.device().identity());
    return Result::good(std::move(data), cdb.allocation_length);
}

}  // namespace

void register_inquiry(LogicalUnit& lu) {
    LogicalUnit* unit = &lu;  // the pages live in the unit, so they never outlive it
    lu.vpd_pages().add(kPageUnitSerialNumber,
                       [unit](const Nexus&) { return serial_page(unit->device().identity()); });
    lu.vpd_pages().add(kPageDeviceIdentification, [unit](const Nexus& nexus) {
        return device_identification(unit->device().identity(), nexus);
    });
    lu.vpd_pages().add(kPageExtendedInquiry, [](const Nexus&) { return extended_inquiry(); });

    lu.commands().add(CommandInfo{
        .opcode = scsi::op::kInquiry,
        .name = "INQUIRY",
        .usage = {scsi::op::kInquiry, 0x01, 0xFF, 0xFF, 0xFF, kControlUsage},
        .nominal_timeout_s = kNominalTimeout,
        .recommended_timeout_s = kRecommendedTimeout,
        .queueing = Queueing::Immediate,
        .unit_attention = UnitAttentionRule::Ignore,
        .allowed_when_reserved = [](std::span<const uint8_t>) { return true; },
        .handler = inquiry,
    });
}

}  // namespace vtl
