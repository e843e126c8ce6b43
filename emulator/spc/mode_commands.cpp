// MODE SENSE(6/10) and MODE SELECT(6/10) (SPC-4), and the mode pages every device has:
// Control (0Ah, SPC-4 7.5.8), Control Extension (0Ah/01h), Informational Exceptions Control (1Ch).
#include <algorithm>
#include <bit>
#include <variant>

#include "core/logical_unit.h"
#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "scsi/opcodes.h"
#include "spc/spc.h"

namespace vtl {

namespace {

constexpr uint8_t kControlUsage = 0x07;  // NACA, FLAG, LINK: checked by the logical unit
constexpr uint32_t kNominalTimeout = 1;
constexpr uint32_t kRecommendedTimeout = 10;

template <typename T>
using Decoded = std::variant<T, scsi::Sense>;

// ---- MODE SENSE ----------------------------------------------------------------------------

struct ModeSenseCdb {
    bool ten = false;  // MODE SENSE(10): 8-byte header, 2-byte lengths
    bool dbd = false;
    bool llbaa = false;  // only short descriptors exist, so it changes nothing
    PageControl pc = PageControl::Current;
    uint8_t page = 0;
    uint8_t subpage = 0;
    uint16_t allocation = 0;
};

Decoded<ModeSenseCdb> decode_mode_sense(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    ModeSenseCdb c;
    c.ten = cdb[0] == scsi::op::kModeSense10;
    // MODE SENSE(6) byte 1 bits 7-5 are SCSI-2's LUN, obsolete: Linux's ch driver still fills
    // them in (LUN 1 of a bridging drive sends 20h), so they are ignored, not refused.
    r.reserved(1, c.ten ? 0xE7 : 0x17);
    c.dbd = r.bit(1, 3);
    c.llbaa = c.ten && r.bit(1, 4);
    c.pc = static_cast<PageControl>(r.bits(2, 6, 2));
    c.page = r.bits(2, 0, 6);
    c.subpage = r.u8(3);
    if (c.ten) {
        r.reserved(4).reserved(5).reserved(6);
        c.allocation = r.be16(7);
    } else {
        c.allocation = r.u8(4);
    }
    if (r.error()) return *r.error();
    return c;
}

// PC=changeable of a block descriptor: only BLOCK LENGTH (bytes 5-7) may be set.
std::vector<uint8_t> changeable_descriptors(size_t size) {
    std::vector<uint8_t> out(size, 0);
    for (size_t d = 0; d + 8 <= size; d += 8) out[d + 5] = out[d + 6] = out[d + 7] = 0xFF;
    return out;
}

Result mode_sense(Exec& exec) {
    auto decoded = decode_mode_sense(exec.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto& c = std::get<ModeSenseCdb>(decoded);
    auto& lu = exec.lu();

    // PAGE CODE 00h without a page 00h: the header and block descriptors alone. Linux st reads
    // a tape drive's block size and write protection this way (MODE SENSE(6), page 0).
    const bool header_only = c.page == 0 && c.subpage == 0 && !lu.mode_pages().contains(0, 0);
    auto report = header_only ? std::variant<std::vector<uint8_t>, scsi::Sense>(std::vector<uint8_t>{})
                              : lu.mode_pages().report(c.pc, c.page, c.subpage, 2);
    if (auto* err = std::get_if<scsi::Sense>(&report)) return Result::check(*err);
    const auto& pages = std::get<std::vector<uint8_t>>(report);

    // The device owns the header's device-specific byte and the block descriptors. It keeps no
    // default or saved copies of them, so PC=default and PC=saved report the current ones.
    std::vector<uint8_t> descriptors;
    if (!c.dbd) {
        descriptors = lu.device().mode_block_descriptors();
        if (c.pc == PageControl::Changeable) descriptors = changeable_descriptors(descriptors.size());
    }
    const uint8_t device_specific = c.pc == PageControl::Changeable ? 0 : lu.device().mode_device_specific();
    const uint8_t medium_type = c.pc == PageControl::Changeable ? 0 : lu.device().mode_medium_type();

    std::vector<uint8_t> data;
    scsi::ByteWriter w(data);
    if (c.ten) {
        const size_t total = 8 + descriptors.size() + pages.size();
        w.be16(static_cast<uint16_t>(std::min<size_t>(total - 2, 0xFFFF)))
            .u8(medium_type)
            .u8(device_specific)
            .u8(0)  // LONGLBA 0: short descriptors
            .u8(0)
            .be16(static_cast<uint16_t>(descriptors.size()));
    } else {
        const size_t total = 4 + descriptors.size() + pages.size();
        // A one-byte MODE DATA LENGTH cannot describe more than 256 bytes; the rest is cut.
        w.u8(static_cast<uint8_t>(std::min<size_t>(total - 1, 0xFF)))
            .u8(medium_type)
            .u8(device_specific)
            .u8(static_cast<uint8_t>(descriptors.size()));
    }
    w.bytes(descriptors).bytes(pages);
    if (!c.ten && data.size() > 256) data.resize(256);
    return Result::good(std::move(data), c.allocation);
}

// ---- MODE SELECT ---------------------------------------------------------------------------

struct ModeSelectCdb {
    bool ten = false;
    bool pf = false;  // accepted either way: our only page format is SPC's
    bool sp = false;
    uint16_t length = 0;
};

Decoded<ModeSelectCdb> decode_mode_select(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    ModeSelectCdb c;
    c.ten = cdb[0] == scsi::op::kModeSelect10;
    r.reserved(1, 0xEE);
    c.pf = r.bit(1, 4);
    c.sp = r.bit(1, 0);
    if (c.ten) {
        r.reserved(2).reserved(3).reserved(4).reserved(5).reserved(6);
        c.length = r.be16(7);
    } else {
        r.reserved(2).reserved(3);
        c.length = r.u8(4);
    }
    if (r.error()) return *r.error();
    return c;
}

scsi::Sense list_length_error() { return scsi::Sense::illegal_request(scsi::asc::kParameterListLengthError); }

Result mode_select(Exec& exec) {
    auto decoded = decode_mode_select(exec.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto& c = std::get<ModeSelectCdb>(decoded);
    auto& lu = exec.lu();
    auto& modes = lu.mode_pages();

    if (c.length == 0) {
        // Nothing to change; SP=1 still saves the current values of every savable page.
        if (c.sp) modes.select({}, 0, true, nullptr);
        return Result::good();
    }
    if (exec.data_out().size() < c.length) return Result::check(list_length_error());
    const auto list = exec.data_out().first(c.length);

    const size_t header = c.ten ? 8 : 4;
    if (list.size() < header) return Result::check(list_length_error());
    // MODE DATA LENGTH is reserved in MODE SELECT.
    if (c.ten ? scsi::get_be16(&list[0]) != 0 : list[0] != 0) {
        return Result::check(scsi::Sense::invalid_parameter_field(0));
    }
    const size_t medium_type_at = c.ten ? 2 : 1;
    if (list[medium_type_at] != 0 && list[medium_type_at] != lu.device().mode_medium_type()) {
        return Result::check(scsi::Sense::invalid_parameter_field(medium_type_at));
    }
    const uint8_t device_specific = list[c.ten ? 3 : 2];
    size_t descriptor_length = list[3];
    if (c.ten) {
        // Byte 4: reserved, LONGLBA (bit 0; long descriptors are not supported). Byte 5 reserved.
        if (list[4] != 0) return Result::check(scsi::Sense::invalid_parameter_field(4, 7 - std::countl_zero(list[4])));
        if (list[5] != 0) return Result::check(scsi::Sense::invalid_parameter_field(5));
        descriptor_length = scsi::get_be16(&list[6]);
    }
    if (list.size() < header + descriptor_length) return Result::check(list_length_error());
    const auto descriptors = list.subspan(header, descriptor_length);
    const size_t pages_at = header + descriptor_length;
    const auto pages = list.subspan(pages_at);

    // All or nothing: the pages are checked first, then the device checks and applies the
    // header, and only then do the pages change (which cannot fail any more).
    if (auto err = modes.validate(pages, pages_at, c.sp)) return Result::check(*err);
    const auto specific_before = lu.device().mode_device_specific();
    const auto descriptors_before = lu.device().mode_block_descriptors();
    if (auto err = lu.device().mode_select_header(device_specific, descriptors, header)) {
        return Result::check(*err);
    }
    bool changed = specific_before != lu.device().mode_device_specific() ||
                   descriptors_before != lu.device().mode_block_descriptors();
    if (auto err = modes.select(pages, pages_at, c.sp, &changed)) return Result::check(*err);
    // SPC-4 5.14: every other I_T nexus learns that the parameters changed under it.
    if (changed) lu.unit_attentions().add_all(scsi::asc::kModeParametersChanged, &exec.nexus());
    return Result::good();
}

// ---- Common mode pages ---------------------------------------------------------------------

ModePage control_page() {
    ModePage p;
    p.code = 0x0A;
    p.defaults = mode_page_header(0x0A, 0, 10);
    scsi::ByteWriter(p.defaults)
        .u8(0x02)      // TST 0, TMF_ONLY 0, DPICZ 0, D_SENSE 0, GLTSD 1 (log parameters are never saved), RLEC 0
        .u8(0x10)      // QUEUE ALGORITHM MODIFIER 1 (unrestricted), NUAR 0, QERR 0
        .u8(0x00)      // VS, RAC, UA_INTLCK_CTRL 0, SWP 0
        .u8(0x40)      // ATO 0, TAS 1 (aborted tasks end with TASK ABORTED), AUTOLOAD MODE 0
        .be16(0)       // obsolete
        .be16(0xFFFF)  // BUSY TIMEOUT PERIOD: unlimited
        .be16(0);      // EXTENDED SELF-TEST COMPLETION TIME
    p.changeable.assign(p.defaults.size(), 0);
    p.changeable[2] = 0x06;  // D_SENSE, GLTSD
    return p;
}

ModePage control_extension_page() {
    ModePage p;
    p.code = 0x0A;
    p.subpage = 0x01;
    p.defaults = mode_page_header(0x0A, 0x01, 0x1C);
    // TCMOS, SCSIP, IALUAE 0; INITIAL COMMAND PRIORITY 0; MAXIMUM SENSE DATA LENGTH 0 (no limit).
    scsi::ByteWriter(p.defaults).zeros(0x1C);
    p.changeable.assign(p.defaults.size(), 0);
    return p;
}

ModePage informational_exceptions_page() {
    constexpr uint8_t kMaxMrie = 6;  // 7h-Bh reserved, Ch-Fh vendor specific: none supported
    ModePage p;
    p.code = 0x1C;
    p.defaults = mode_page_header(0x1C, 0, 10);
    scsi::ByteWriter(p.defaults)
        .u8(0x00)   // PERF, EBF, EWASC, DEXCPT, TEST, EBACKERR, LOGERR all 0: TapeAlert enabled
        .u8(0x03)   // MRIE 3: conditionally generate recovered error
        .be32(0)    // INTERVAL TIMER
        .be32(0);   // REPORT COUNT
    p.changeable.assign(p.defaults.size(), 0);
    p.changeable[2] = 0x0C;  // DEXCPT, TEST
    p.changeable[3] = 0x0F;  // MRIE
    for (size_t i = 4; i < 12; ++i) p.changeable[i] = 0xFF;
    p.validate = [](std::span<const uint8_t> page, size_t offset) -> std::optional<scsi::Sense> {
        const uint16_t mrie_byte = static_cast<uint16_t>(offset + 3);
        if ((page[3] & 0x0F) > kMaxMrie) return scsi::Sense::invalid_parameter_field(mrie_byte, 3);
        return std::nullopt;
    };
    return p;
}

}  // namespace

void register_mode_commands(LogicalUnit& lu) {
    using namespace scsi::op;
    auto& cmds = lu.commands();
    cmds.add(make_command(kModeSense6, "MODE SENSE(6)", {kModeSense6, 0x08, 0xFF, 0xFF, 0xFF, kControlUsage},
                          kNominalTimeout, kRecommendedTimeout, mode_sense));
    cmds.add(make_command(kModeSense10, "MODE SENSE(10)",
                          {kModeSense10, 0x18, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0xFF, kControlUsage},
                          kNominalTimeout, kRecommendedTimeout, mode_sense));
    cmds.add(make_command(kModeSelect6, "MODE SELECT(6)", {kModeSelect6, 0x11, 0x00, 0x00, 0xFF, kControlUsage},
                          kNominalTimeout, kRecommendedTimeout, mode_select));
    cmds.add(make_command(kModeSelect10, "MODE SELECT(10)",
                          {kModeSelect10, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, kControlUsage},
                          kNominalTimeout, kRecommendedTimeout, mode_select));

    auto& pages = lu.mode_pages();
    pages.add(control_page());
    pages.add(control_extension_page());
    pages.add(informational_exceptions_page());
}

}  // namespace vtl
