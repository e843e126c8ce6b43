// Mode page storage and the page-level rules of MODE SENSE and MODE SELECT (SPC-4). The
// command handlers (mode_commands.cpp) own the CDBs, headers and block descriptors.
#include "spc/mode_pages.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

#include "scsi/bytes.h"

namespace vtl {

namespace {

constexpr uint8_t kPsBit = 0x80;
constexpr uint8_t kSpfBit = 0x40;
constexpr uint8_t kPageCodeMask = 0x3F;
constexpr uint16_t kSpBit = 0;  // SP: byte 1 bit 0 of MODE SELECT(6) and (10)

size_t header_size(uint8_t subpage) { return subpage == 0 ? 2 : 4; }

scsi::Sense truncated() { return scsi::Sense::illegal_request(scsi::asc::kParameterListLengthError); }

scsi::Sense bad_field(size_t byte, int bit = -1) {
    return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(byte), bit);
}

}  // namespace

std::vector<uint8_t> mode_page_header(uint8_t code, uint8_t subpage, size_t length) {
    std::vector<uint8_t> h;
    scsi::ByteWriter w(h);
    if (subpage == 0) {
        w.u8(code & kPageCodeMask).u8(static_cast<uint8_t>(length));
    } else {
        w.u8(kSpfBit | (code & kPageCodeMask)).u8(subpage).be16(static_cast<uint16_t>(length));
    }
    return h;
}

void ModePages::add(ModePage page) {
    // A malformed declaration is a programming error: catch it at start-up, not on the wire.
    const std::string what = "mode page " + std::to_string(page.code) + "/" + std::to_string(page.subpage);
    const size_t hs = header_size(page.subpage);
    if (page.code > kPageCodeMask || page.code == kAllPages || page.subpage == kAllSubpages) {
        throw std::logic_error(what + ": reserved page code");
    }
    if (page.defaults.size() < hs || (page.subpage == 0 && page.defaults.size() - hs > 0xFF)) {
        throw std::logic_error(what + ": bad size");
    }
    const auto header = mode_page_header(page.code, page.subpage, page.defaults.size() - hs);
    if (!std::equal(header.begin(), header.end(), page.defaults.begin())) {
        throw std::logic_error(what + ": header does not match the page");
    }
    if (page.changeable.empty()) page.changeable.assign(page.defaults.size(), 0);
    if (page.changeable.size() != page.defaults.size()) throw std::logic_error(what + ": mask size");
    for (size_t i = 0; i < hs; ++i) {
        if (page.changeable[i]) throw std::logic_error(what + ": header bytes are not changeable");
    }
    Entry e{std::move(page), {}, {}};
    e.current = e.page.defaults;
    e.saved = e.page.defaults;
    const Key key{e.page.code, e.page.subpage};
    pages_.insert_or_assign(key, std::move(e));
}

bool ModePages::contains(uint8_t code, uint8_t subpage) const { return pages_.contains({code, subpage}); }

std::vector<uint8_t> ModePages::current(uint8_t code, uint8_t subpage) const {
    return value(pages_.at({code, subpage}), PageControl::Current);
}

std::vector<uint8_t> ModePages::value(const Entry& e, PageControl pc) const {
    std::vector<uint8_t> v;
    switch (pc) {
        case PageControl::Current:
            v = e.current;
            if (e.page.refresh) e.page.refresh(v);
            break;
        case PageControl::Changeable: {
            v = e.page.changeable;
            const size_t hs = header_size(e.page.subpage);
            std::copy(e.page.defaults.begin(), e.page.defaults.begin() + hs, v.begin());
            break;
        }
        case PageControl::Default:
            v = e.page.defaults;
            break;
        case PageControl::Saved:
            // A page that cannot be saved comes back as it would after power on.
            v = e.page.savable ? e.saved : e.page.defaults;
            break;
    }
    v[0] = static_cast<uint8_t>((v[0] & ~kPsBit) | (e.page.savable ? kPsBit : 0));
    return v;
}

std::variant<std::vector<uint8_t>, scsi::Sense> ModePages::report(PageControl pc, uint8_t code, uint8_t subpage,
                                                                  uint16_t page_code_byte) const {
    const uint16_t subpage_byte = page_code_byte + 1;
    std::vector<const Entry*> selected;
    if (code == kAllPages) {
        // 3Fh/00h: every page_0 page; 3Fh/FFh: everything; 3Fh/01h-FEh is reserved.
        if (subpage != 0 && subpage != kAllSubpages) return scsi::Sense::invalid_cdb_field(subpage_byte);
        for (const auto& [key, e] : pages_) {
            if (subpage == kAllSubpages || key.second == 0) selected.push_back(&e);
        }
    } else {
        bool code_known = false;
        for (const auto& [key, e] : pages_) {
            if (key.first != code) continue;
            code_known = true;
            if (subpage == kAllSubpages || key.second == subpage) selected.push_back(&e);
        }
        if (!code_known) return scsi::Sense::invalid_cdb_field(page_code_byte);
        if (selected.empty()) return scsi::Sense::invalid_cdb_field(subpage_byte);
    }
    if (pc == PageControl::Saved && !selected.empty() &&
        std::none_of(selected.begin(), selected.end(), [](const Entry* e) { return e->page.savable; })) {
        return scsi::Sense::illegal_request(scsi::asc::kSavingParametersNotSupported);
    }
    std::vector<uint8_t> out;
    for (const Entry* e : selected) {
        const auto v = value(*e, pc);
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

std::variant<std::vector<ModePages::Incoming>, scsi::Sense> ModePages::parse(std::span<const uint8_t> pages,
                                                                             size_t offset, bool save) const {
    std::vector<Incoming> found;
    size_t at = 0;
    while (at < pages.size()) {
        const size_t remaining = pages.size() - at;
        const size_t base = offset + at;  // the page's first byte in the parameter list
        if (remaining < 2) return truncated();
        const uint8_t b0 = pages[at];
        const bool spf = b0 & kSpfBit;
        if (spf && remaining < 4) return truncated();
        // PS is reserved in MODE SELECT.
        if (b0 & kPsBit) return bad_field(base, 7);
        const uint8_t code = b0 & kPageCodeMask;
        const uint8_t subpage = spf ? pages[at + 1] : 0;
        if (spf && subpage == 0) return bad_field(base, 6);  // sub_page format names subpage 00h
        auto it = pages_.find({code, subpage});
        if (it == pages_.end()) {
            const auto next = pages_.lower_bound({code, 0});
            const bool code_known = next != pages_.end() && next->first.first == code;
            return bad_field(spf && code_known ? base + 1 : base);
        }
        const Entry& e = it->second;
        const size_t hs = header_size(subpage);
        const size_t length = spf ? scsi::get_be16(&pages[at + 2]) : pages[at + 1];
        if (length != e.page.defaults.size() - hs) return bad_field(spf ? base + 2 : base + 1);
        const size_t size = hs + length;
        if (remaining < size) return truncated();

        const auto page = pages.subspan(at, size);
        const auto cur = value(e, PageControl::Current);
        for (size_t i = hs; i < size; ++i) {
            const uint8_t wrong = (page[i] ^ cur[i]) & ~e.page.changeable[i];
            if (wrong) return bad_field(base + i, 7 - std::countl_zero(wrong));
        }
        if (e.page.validate) {
            if (auto err = e.page.validate(page, base)) return *err;
        }
        if (save && !e.page.savable) return scsi::Sense::invalid_cdb_field(1, kSpBit);
        found.push_back({it->first, at, size});
        at += size;
    }
    return found;
}

std::optional<scsi::Sense> ModePages::validate(std::span<const uint8_t> pages, size_t offset, bool save) const {
    auto parsed = parse(pages, offset, save);
    if (auto* err = std::get_if<scsi::Sense>(&parsed)) return *err;
    return std::nullopt;
}

std::optional<scsi::Sense> ModePages::select(std::span<const uint8_t> pages, size_t offset, bool save,
                                             bool* changed) {
    auto parsed = parse(pages, offset, save);
    if (auto* err = std::get_if<scsi::Sense>(&parsed)) return *err;
    for (const Incoming& in : std::get<std::vector<Incoming>>(parsed)) {
        Entry& e = pages_.at(in.key);
        const auto page = pages.subspan(in.at, in.size);
        for (size_t i = header_size(e.page.subpage); i < in.size; ++i) {
            const uint8_t mask = e.page.changeable[i];
            const uint8_t next = static_cast<uint8_t>((e.current[i] & ~mask) | (page[i] & mask));
            if (next != e.current[i] && changed) *changed = true;
            e.current[i] = next;
        }
    }
    // SP=1 saves every savable page, not only the ones sent (SPC-4 MODE SELECT).
    if (save) {
        for (auto& [key, e] : pages_) {
            if (e.page.savable) e.saved = e.current;
        }
    }
    return std::nullopt;
}

void ModePages::restore_saved() {
    for (auto& [key, e] : pages_) e.current = e.page.savable ? e.saved : e.page.defaults;
}

}  // namespace vtl
