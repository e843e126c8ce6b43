// READ ELEMENT STATUS (SMC-3) and the element status report it shares with REQUEST VOLUME
// ELEMENT ADDRESS: an 8-byte header, then one element status page per run of elements of one
// type, each an 8-byte page header and fixed-length element descriptors.
#include <algorithm>
#include <string>
#include <variant>

#include "core/logical_unit.h"
#include "device/medium_changer.h"
#include "library/library.h"
#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "smc/smc.h"

namespace vtl::smc {

namespace {

constexpr size_t kHeaderLength = 8;
constexpr size_t kPageHeaderLength = 8;
constexpr size_t kFixedPart = 12;  // ELEMENT ADDRESS .. SOURCE STORAGE ELEMENT ADDRESS
constexpr size_t kVolumeTagLength = 36;
constexpr size_t kVolumeIdentifierLength = 32;
// CODE SET, IDENTIFIER TYPE, reserved, IDENTIFIER LENGTH. SMC-3 places them after the volume
// tags of every descriptor; with DVCID=0, or no device, they are zero and no identifier follows.
constexpr size_t kIdentificationHeader = 4;
constexpr size_t kMaxIdentifierLength = 0xFF;
constexpr uint32_t kMaxByteCount = 0xFFFFFF;  // 24-bit BYTE COUNT fields

// Descriptor byte 2.
constexpr uint8_t kFull = 0x01;
constexpr uint8_t kImpExp = 0x02;
constexpr uint8_t kExcept = 0x04;
constexpr uint8_t kAccess = 0x08;
constexpr uint8_t kExEnab = 0x10;
constexpr uint8_t kInEnab = 0x20;
constexpr uint8_t kOir = 0x80;
// Descriptor byte 9.
constexpr uint8_t kSValid = 0x80;
constexpr uint8_t kInvert = 0x40;
// Page header byte 1.
constexpr uint8_t kPVolTag = 0x80;
constexpr uint8_t kAVolTag = 0x40;

// Device identifier (SPC-4 7.8.6 code sets and designator types, as SMC-3 uses them).
constexpr uint8_t kCodeSetAscii = 0x2;
constexpr uint8_t kIdentifierVendorSpecific = 0x0;
constexpr uint8_t kIdentifierT10VendorId = 0x1;
constexpr size_t kVendorWidth = 8;
constexpr size_t kProductWidth = 16;

// SMC-3 MEDIUM TYPE (descriptor byte 9 bits 2-0).
uint8_t medium_type_code(config::MediaType type) {
    switch (type) {
        case config::MediaType::Data: return 1;
        case config::MediaType::Cleaning: return 2;
        case config::MediaType::Diagnostic: return 3;
        case config::MediaType::Worm: return 4;
    }
    return 0;
}

struct DeviceIdentifier {
    uint8_t code_set = 0;
    uint8_t type = 0;
    std::string value;
};

std::string fixed_width(std::string_view s, size_t width) {
    std::string out(s.substr(0, width));
    out.resize(width, ' ');
    return out;
}

// What a DTE reports with DVCID=1: the drive's serial, or (IBM, Spectra, Quantum) its T10 vendor
// identification, product identification and serial, as in the drive's own VPD page 83h.
std::optional<DeviceIdentifier> device_identifier(library::Library& lib, uint16_t address) {
    LogicalUnit* lu = lib.drive_lu_at(address);
    if (!lu) return std::nullopt;
    const DeviceIdentity& id = lu->device().identity();
    DeviceIdentifier d;
    d.code_set = kCodeSetAscii;
    if (lib.traits().dvcid == DvcidFormat::SerialOnly) {
        d.type = kIdentifierVendorSpecific;
        d.value = id.serial;
    } else {
        d.type = kIdentifierT10VendorId;
        d.value = fixed_width(id.vendor, kVendorWidth) + fixed_width(id.product, kProductWidth) + id.serial;
    }
    if (d.value.size() > kMaxIdentifierLength) d.value.resize(kMaxIdentifierLength);
    return d;
}

// Alternate volume tags are reported (AVOLTAG=1) once any cartridge has one: the layout is the
// library's, not the request's, so a one-element probe sees the length a full report uses.
bool any_alternate_tag(const Inventory& inv) {
    for (const Element& e : inv.all()) {
        if (e.cartridge && !inv.cartridge(*e.cartridge).alternate_tag.empty()) return true;
    }
    return false;
}

// Descriptor layout of every page of one report.
struct Layout {
    bool pvoltag = false;
    bool avoltag = false;
    bool dvcid = false;
    size_t identifier_width = 0;  // DTE page with DVCID=1: the longest identifier of any DTE

    uint16_t length(ElementType type) const {
        size_t n = kFixedPart + (pvoltag ? kVolumeTagLength : 0) + (avoltag ? kVolumeTagLength : 0) +
                   kIdentificationHeader;
        if (dvcid && type == ElementType::DataTransfer) n += identifier_width;
        return static_cast<uint16_t>(n);
    }
};

Layout layout_for(library::Library& lib, const ElementReportOptions& options) {
    Layout l;
    const Inventory& inv = lib.inventory();
    l.pvoltag = options.voltag;
    l.avoltag = options.voltag && any_alternate_tag(inv);
    l.dvcid = options.dvcid;
    if (l.dvcid) {
        for (const Element* e : inv.of_type(ElementType::DataTransfer)) {
            if (auto id = device_identifier(lib, e->address)) {
                l.identifier_width = std::max(l.identifier_width, id->value.size());
            }
        }
    }
    return l;
}

// 32-byte VOLUME IDENTIFIER, space padded, then 2 reserved bytes and VOLUME SEQUENCE NUMBER 0
// (no sequence numbers are kept). An absent tag (empty element, no label) is all zeros.
void put_volume_tag(uint8_t* at, std::string_view tag) {
    if (tag.empty()) return;  // the buffer is zeroed
    for (size_t i = 0; i < kVolumeIdentifierLength; ++i) at[i] = i < tag.size() ? uint8_t(tag[i]) : uint8_t(' ');
}

bool dte_accessible(library::Library& lib, const Element& e) {
    if (!lib.traits().access_zero_while_threaded) return true;
    const DriveMechanism* drive = lib.drive_at(e.address);
    if (!drive) return true;
    // IBM: the robot cannot take a cartridge the drive is threading, holds threaded, or is
    // still unthreading; it is accessible once ejected into the drive's mouth.
    switch (drive->state()) {
        case DriveMechanism::State::Loading:
        case DriveMechanism::State::Loaded:
        case DriveMechanism::State::Unloading: return false;
        case DriveMechanism::State::Empty:
        case DriveMechanism::State::Ejected: return true;
    }
    return true;
}

void write_descriptor(uint8_t* d, const Element& e, const Layout& layout, library::Library& lib,
                      const std::optional<DeviceIdentifier>& identifier) {
    const Inventory& inv = lib.inventory();
    const Cartridge* cart = e.cartridge ? &inv.cartridge(*e.cartridge) : nullptr;

    scsi::put_be16(d, e.address);
    uint8_t flags = cart ? kFull : 0;
    if (e.exception) flags |= kExcept;
    switch (e.type) {
        case ElementType::MediumTransport: break;  // FULL and EXCEPT only
        case ElementType::Storage: flags |= kAccess; break;
        case ElementType::ImportExport:
            // Both directions are supported; while the operator has the door open the robot
            // cannot reach the station.
            flags |= kExEnab | kInEnab;
            if (e.impexp && cart) flags |= kImpExp;
            flags |= lib.ie_door_open() ? kOir : kAccess;
            break;
        case ElementType::DataTransfer:
            if (dte_accessible(lib, e)) flags |= kAccess;
            break;
        case ElementType::All: break;
    }
    d[2] = flags;
    if (e.exception) {
        d[4] = e.exception->asc;
        d[5] = e.exception->ascq;
    }
    // Bytes 6-7 of a DTE: NOT BUS 0, ID VALID 0, LU VALID 0: hosts reach drives through their
    // own LUNs, whose addresses the changer does not know.
    if (cart) {
        uint8_t b9 = medium_type_code(cart->type);
        if (e.source) {
            b9 |= kSValid;
            if (e.invert) b9 |= kInvert;
            scsi::put_be16(d + 10, *e.source);
        }
        d[9] = b9;
    }
    size_t at = kFixedPart;
    if (layout.pvoltag) {
        if (cart) put_volume_tag(d + at, cart->barcode);
        at += kVolumeTagLength;
    }
    if (layout.avoltag) {
        if (cart) put_volume_tag(d + at, cart->alternate_tag);
        at += kVolumeTagLength;
    }
    if (identifier) {
        d[at] = identifier->code_set;
        d[at + 1] = identifier->type;
        d[at + 3] = static_cast<uint8_t>(identifier->value.size());
        std::copy(identifier->value.begin(), identifier->value.end(), d + at + kIdentificationHeader);
    }
}

// ---- READ ELEMENT STATUS -------------------------------------------------------------------

constexpr uint32_t kNominalTimeout = 1;
constexpr uint32_t kRecommendedTimeout = 60;
constexpr uint8_t kMaxElementType = 4;

struct ReadElementStatusCdb {
    bool voltag = false;
    ElementType type = ElementType::All;
    uint16_t start = 0;
    uint16_t count = 0;
    bool curdata = false;  // never any robot motion: the inventory is always current
    bool dvcid = false;
    uint32_t allocation = 0;
};

std::variant<ReadElementStatusCdb, scsi::Sense> decode_read_element_status(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    ReadElementStatusCdb c;
    c.voltag = r.bit(1, 4);
    const uint8_t type = r.bits(1, 0, 4);
    r.require(type <= kMaxElementType, 1, 3);
    c.type = static_cast<ElementType>(type);
    c.start = r.be16(2);
    c.count = r.be16(4);
    r.reserved(6, 0xFC);
    c.curdata = r.bit(6, 1);
    c.dvcid = r.bit(6, 0);
    c.allocation = r.be24(7);
    r.reserved(10);
    if (r.error()) return *r.error();
    return c;
}

// SMC-3: the starting address must be an element of the requested type. For all types, it may
// also lie below every element, so that a walk "from the beginning" (mtx altres starts at 0)
// works whatever the personality's address bases. A type with no elements reports nothing.
bool start_valid(const Inventory& inv, ElementType type, uint16_t start) {
    const Element* e = inv.at(start);
    if (type == ElementType::All) return e || inv.all().empty() || start < inv.all().front().address;
    return e && e->type == type;
}

Result read_element_status(Exec& x, MediumChanger& changer) {
    auto decoded = decode_read_element_status(x.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto& c = std::get<ReadElementStatusCdb>(decoded);
    library::Library& lib = changer.library();
    const Inventory& inv = lib.inventory();

    const bool type_empty = c.type != ElementType::All && inv.count(c.type) == 0;
    if (!type_empty && !start_valid(inv, c.type, c.start)) {
        return Result::check(scsi::Sense::illegal_request(scsi::asc::kInvalidElementAddress));
    }

    std::vector<const Element*> chosen;
    const auto all = inv.all();
    auto it = std::partition_point(all.begin(), all.end(), [&](const Element& e) { return e.address < c.start; });
    for (; it != all.end() && chosen.size() < c.count && !type_empty; ++it) {
        if (c.type == ElementType::All || it->type == c.type) chosen.push_back(&*it);
    }
    ElementReportOptions options{.voltag = c.voltag, .dvcid = c.dvcid, .allocation = c.allocation};
    return Result::good(element_report(lib, chosen, options), c.allocation);
}

}  // namespace

uint16_t descriptor_length(library::Library& library, ElementType type, const ElementReportOptions& options) {
    return layout_for(library, options).length(type);
}

std::vector<uint8_t> element_report(library::Library& lib, std::span<const Element* const> elements,
                                    const ElementReportOptions& options) {
    const Layout layout = layout_for(lib, options);

    // Runs of one type: each becomes a page.
    struct Page {
        ElementType type;
        size_t first;
        size_t count;
        uint16_t length;
    };
    std::vector<Page> pages;
    size_t total = kHeaderLength;
    for (size_t i = 0; i < elements.size(); ++i) {
        const ElementType t = elements[i]->type;
        if (pages.empty() || pages.back().type != t) {
            pages.push_back(Page{t, i, 0, layout.length(t)});
            total += kPageHeaderLength;
        }
        ++pages.back().count;
        total += pages.back().length;
    }

    std::vector<uint8_t> out;
    const size_t room = std::max<size_t>(options.allocation, kHeaderLength);
    out.reserve(std::min(total, room));
    scsi::ByteWriter w(out);
    w.be16(elements.empty() ? 0 : elements.front()->address)
        .be16(static_cast<uint16_t>(elements.size()))
        .u8(options.header_byte4)
        .be24(static_cast<uint32_t>(std::min<size_t>(total - kHeaderLength, kMaxByteCount)));

    // Only whole page headers and descriptors go out; the byte counts stay those of the whole
    // report, so a host re-asks with the length it needs.
    for (const Page& p : pages) {
        if (out.size() + kPageHeaderLength > room) break;
        const uint8_t tag_bits = (layout.pvoltag ? kPVolTag : 0) | (layout.avoltag ? kAVolTag : 0);
        w.u8(static_cast<uint8_t>(p.type))
            .u8(tag_bits)
            .be16(p.length)
            .u8(0)
            .be24(static_cast<uint32_t>(std::min<size_t>(p.count * p.length, kMaxByteCount)));
        const bool identifiers = layout.dvcid && p.type == ElementType::DataTransfer;
        for (size_t i = p.first; i < p.first + p.count; ++i) {
            if (out.size() + p.length > room) return out;
            const size_t at = out.size();
            out.resize(at + p.length, 0);
            const Element& e = *elements[i];
            write_descriptor(out.data() + at, e, layout, lib,
                             identifiers ? device_identifier(lib, e.address) : std::nullopt);
        }
    }
    return out;
}

void register_element_status_commands(LogicalUnit& lu, MediumChanger& changer) {
    MediumChanger* c = &changer;
    lu.commands().add(CommandInfo{
        .opcode = op::kReadElementStatus,
        .name = "READ ELEMENT STATUS",
        .usage = {op::kReadElementStatus, 0x1F, 0xFF, 0xFF, 0xFF, 0xFF, 0x03, 0xFF, 0xFF, 0xFF, 0x00, kControlUsage},
        .nominal_timeout_s = kNominalTimeout,
        .recommended_timeout_s = kRecommendedTimeout,
        .handler = [c](Exec& x) { return read_element_status(x, *c); },
    });
}

}  // namespace vtl::smc
