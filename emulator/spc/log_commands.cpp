// LOG SENSE and LOG SELECT (SPC-4) over the logical unit's log page registry, the
// supported pages lists (00h, 00h/FFh, X/FFh) built from it, and the Temperature page (0Dh).
#include <algorithm>
#include <set>
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

constexpr uint8_t kSupportedPages = 0x00;
constexpr uint8_t kAllSubpages = 0xFF;
constexpr uint8_t kDsBit = 0x80;   // log parameters are never saved
constexpr uint8_t kSpfBit = 0x40;
constexpr uint8_t kPageCodeMask = 0x3F;

// CDB field positions shared by LOG SENSE and LOG SELECT, for field pointers.
constexpr uint16_t kPageCodeByte = 2;
constexpr uint16_t kSubpageByte = 3;
constexpr uint16_t kParameterPointerByte = 5;

template <typename T>
using Decoded = std::variant<T, scsi::Sense>;
using PageKey = std::pair<uint8_t, uint8_t>;

// Every (page, subpage) LOG SENSE answers: the registry plus the two lists built here.
std::set<PageKey> supported(const LogPages& pages) {
    std::set<PageKey> out{{kSupportedPages, 0}, {kSupportedPages, kAllSubpages}};
    for (const LogPage* p : pages.all()) out.insert({p->code, p->subpage});
    return out;
}

bool code_known(const std::set<PageKey>& known, uint8_t code) {
    auto it = known.lower_bound({code, 0});
    return it != known.end() && it->first == code;
}

// 05/24/00 for a page/subpage combination nobody implements: at the subpage byte when the page
// exists with other subpages, else at the page code byte.
scsi::Sense unsupported_page(const std::set<PageKey>& known, uint8_t code) {
    return scsi::Sense::invalid_cdb_field(code_known(known, code) ? kSubpageByte : kPageCodeByte);
}

// ---- LOG SENSE -----------------------------------------------------------------------------

struct LogSenseCdb {
    LogPc pc = LogPc::Cumulative;
    uint8_t page = 0;
    uint8_t subpage = 0;
    uint16_t parameter_pointer = 0;
    uint16_t allocation = 0;
};

Decoded<LogSenseCdb> decode_log_sense(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    r.reserved(1, 0xFC);
    r.require(!r.bit(1, 1), 1, 1);  // PPC: only whole pages are reported
    r.require(!r.bit(1, 0), 1, 0);  // SP: log parameters are never saved
    r.reserved(4);
    LogSenseCdb c;
    c.pc = static_cast<LogPc>(r.bits(2, 6, 2));
    c.page = r.bits(2, 0, 6);
    c.subpage = r.u8(3);
    c.parameter_pointer = r.be16(5);
    c.allocation = r.be16(7);
    if (r.error()) return *r.error();
    return c;
}

std::vector<uint8_t> page_header(uint8_t code, uint8_t subpage) {
    std::vector<uint8_t> out;
    scsi::ByteWriter(out).u8(kDsBit | (subpage ? kSpfBit : 0) | code).u8(subpage).be16(0);
    return out;
}

Result log_sense(Exec& exec) {
    auto decoded = decode_log_sense(exec.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto& c = std::get<LogSenseCdb>(decoded);
    const auto& pages = exec.lu().log_pages();
    const auto known = supported(pages);

    std::vector<uint8_t> data = page_header(c.page, c.subpage);
    scsi::ByteWriter w(data);
    if (c.subpage == kAllSubpages || (c.page == kSupportedPages && c.subpage == 0)) {
        // The lists have no parameter codes: any pointer is past the last one.
        if (c.parameter_pointer != 0) return Result::check(scsi::Sense::invalid_cdb_field(kParameterPointerByte));
        if (c.subpage == 0) {
            std::set<uint8_t> codes;
            for (const auto& [code, subpage] : known) {
                if (subpage == 0) codes.insert(code);
            }
            for (uint8_t code : codes) w.u8(code);
        } else {
            const bool all = c.page == kSupportedPages;
            bool any = false;
            for (const auto& [code, subpage] : known) {
                if (!all && (code != c.page || subpage == kAllSubpages)) continue;
                w.u8(code).u8(subpage);
                any = true;
            }
            if (!any) return Result::check(scsi::Sense::invalid_cdb_field(kPageCodeByte));
        }
    } else {
        const LogPage* page = pages.find(c.page, c.subpage);
        if (!page) return Result::check(unsupported_page(known, c.page));
        const auto params = page->parameters ? page->parameters(c.pc) : std::vector<LogParameter>{};
        const auto at_or_after = [&](const LogParameter& p) { return p.code >= c.parameter_pointer; };
        const bool past_last = c.parameter_pointer != 0 && std::none_of(params.begin(), params.end(), at_or_after);
        if (past_last) return Result::check(scsi::Sense::invalid_cdb_field(kParameterPointerByte));
        for (const auto& p : params) {
            if (p.code < c.parameter_pointer) continue;
            w.be16(p.code).u8(p.control).u8(static_cast<uint8_t>(p.value.size())).bytes(p.value);
        }
    }
    // PAGE LENGTH is the whole page's, however much the allocation length lets through.
    w.patch_be16(2, static_cast<uint16_t>(data.size() - 4));
    return Result::good(std::move(data), c.allocation);
}

// ---- LOG SELECT ----------------------------------------------------------------------------

struct LogSelectCdb {
    bool pcr = false;
    LogPc pc = LogPc::Cumulative;
    uint8_t page = 0;
    uint8_t subpage = 0;
    uint16_t length = 0;
};

Decoded<LogSelectCdb> decode_log_select(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    r.reserved(1, 0xFC);
    LogSelectCdb c;
    c.pcr = r.bit(1, 1);
    c.pc = static_cast<LogPc>(r.bits(2, 6, 2));
    c.page = r.bits(2, 0, 6);
    c.subpage = r.u8(3);
    c.length = r.be16(7);
    r.require(!r.bit(1, 0), 1, 0);  // SP: log parameters are never saved
    // A reset takes no parameter list.
    r.require(!(c.pcr && c.length != 0), 1, 1);
    // With a parameter list the pages are named in it, not in the CDB.
    if (c.length != 0) r.require(c.page == 0, kPageCodeByte).require(c.subpage == 0, kSubpageByte);
    r.reserved(4).reserved(5).reserved(6);
    if (r.error()) return *r.error();
    return c;
}

// A parameter list: every page it names must exist, and carries no parameters, because no
// parameter here can be set (thresholds and values are the device's).
std::optional<scsi::Sense> check_parameter_list(std::span<const uint8_t> list, const std::set<PageKey>& known,
                                                const LogPages& pages) {
    for (size_t at = 0; at < list.size();) {
        if (list.size() - at < 4) return scsi::Sense::illegal_request(scsi::asc::kParameterListLengthError);
        const uint8_t code = list[at] & kPageCodeMask;
        const bool spf = list[at] & kSpfBit;
        const uint8_t subpage = list[at + 1];
        if (!spf && subpage != 0) return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(at + 1));
        if (!pages.find(code, subpage)) {
            return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(code_known(known, code) ? at + 1 : at));
        }
        const size_t length = scsi::get_be16(&list[at + 2]);
        if (at + 4 + length > list.size()) return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(at + 2));
        if (length != 0) return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(at + 4));
        at += 4;
    }
    return std::nullopt;
}

Result log_select(Exec& exec) {
    auto decoded = decode_log_select(exec.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto& c = std::get<LogSelectCdb>(decoded);
    auto& lu = exec.lu();
    const auto& pages = lu.log_pages();
    const auto known = supported(pages);

    if (c.length != 0) {
        if (exec.data_out().size() < c.length) {
            return Result::check(scsi::Sense::illegal_request(scsi::asc::kParameterListLengthError));
        }
        if (auto err = check_parameter_list(exec.data_out().first(c.length), known, pages)) return Result::check(*err);
        return Result::good();
    }

    // No list: PAGE CODE and SUBPAGE CODE choose the pages (00h/00h: all of them).
    std::vector<const LogPage*> chosen;
    const bool everything = c.page == kSupportedPages && c.subpage == 0;
    const bool exists = c.subpage == kAllSubpages ? code_known(known, c.page) : known.contains({c.page, c.subpage});
    if (!everything && !exists) return Result::check(unsupported_page(known, c.page));
    for (const LogPage* p : pages.all()) {
        if (everything || (p->code == c.page && (c.subpage == kAllSubpages || p->subpage == c.subpage))) {
            chosen.push_back(p);
        }
    }
    if (!c.pcr) return Result::good();  // PCR=0 without a list changes nothing

    bool reset = false;
    for (const LogPage* p : chosen) {
        if (p->reset) {
            p->reset();
            reset = true;
        }
    }
    if (reset) lu.unit_attentions().add_all(scsi::asc::kLogParametersChanged, &exec.nexus());
    return Result::good();
}

// ---- Temperature log page (SPC-4 7.3.21) ---------------------------------------------------

LogPage temperature_page() {
    constexpr uint8_t kTemperature = 35;           // °C
    constexpr uint8_t kReferenceTemperature = 55;  // °C: the highest continuous operating one
    LogPage p;
    p.code = 0x0D;
    p.name = "Temperature";
    // The same values for every PAGE CONTROL: there are no thresholds or counters to keep.
    p.parameters = [](LogPc) {
        return std::vector<LogParameter>{
            {0x0000, kLogBinary, {0x00, kTemperature}},
            {0x0001, kLogBinary, {0x00, kReferenceTemperature}},
        };
    };
    return p;
}

}  // namespace

void register_log_commands(LogicalUnit& lu) {
    using namespace scsi::op;
    auto sense =
        make_command(kLogSense, "LOG SENSE", {kLogSense, 0x03, 0xFF, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, kControlUsage},
                     kNominalTimeout, kRecommendedTimeout, log_sense);
    // Reading counters does not disturb the reservation holder, so RESERVE lets it through.
    sense.allowed_when_reserved = [](std::span<const uint8_t>) { return true; };
    lu.commands().add(std::move(sense));
    lu.commands().add(make_command(kLogSelect, "LOG SELECT",
                                   {kLogSelect, 0x03, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0xFF, kControlUsage},
                                   kNominalTimeout, kRecommendedTimeout, log_select));
    lu.log_pages().add(temperature_page());
}

}  // namespace vtl
