// SEND VOLUME TAG (SMC-3) and REQUEST VOLUME ELEMENT ADDRESS. A translate searches
// the volume tags with a template ('?' one character, '*' the rest) and keeps, per I_T nexus,
// the addresses of the elements that matched; REQUEST VOLUME ELEMENT ADDRESS reports them as
// element status pages. Assert, replace and undefine change a cartridge's alternate tag; the
// primary tag is the barcode label the robot reads, which no command can change.
#include <algorithm>
#include <variant>

#include "core/logical_unit.h"
#include "device/medium_changer.h"
#include "library/library.h"
#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "smc/smc.h"

namespace vtl::smc {

namespace {

constexpr uint32_t kNominalTimeout = 1;
constexpr uint32_t kRecommendedTimeout = 60;
constexpr uint8_t kMaxElementType = 4;
constexpr scsi::Asc kCommandSequenceError{0x2C, 0x00};

// SEND ACTION CODE (SMC-3).
enum class Action : uint8_t {
    TranslateAll = 0x0,
    TranslatePrimary = 0x1,
    TranslateAlternate = 0x2,
    TranslateAllIgnoreSequence = 0x4,
    TranslatePrimaryIgnoreSequence = 0x5,
    TranslateAlternateIgnoreSequence = 0x6,
    AssertPrimary = 0x8,
    AssertAlternate = 0x9,
    ReplacePrimary = 0xA,
    ReplaceAlternate = 0xB,
    UndefinePrimary = 0xC,
    UndefineAlternate = 0xD,
};

bool is_translate(uint8_t a) { return a <= 0x6 && a != 0x3; }
bool is_defined(uint8_t a) { return is_translate(a) || (a >= 0x8 && a <= 0xD); }

// Send volume tag parameters (SMC-3).
constexpr size_t kParameterLength = 40;
constexpr size_t kTemplateLength = 32;
constexpr size_t kMinSequenceAt = 34;
constexpr size_t kMaxSequenceAt = 38;

struct SendVolumeTagCdb {
    ElementType type = ElementType::All;  // translate only
    uint16_t address = 0;
    uint8_t action = 0;
    uint16_t list_length = 0;
};

std::variant<SendVolumeTagCdb, scsi::Sense> decode_send_volume_tag(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    SendVolumeTagCdb c;
    r.reserved(1, 0x10);
    c.action = r.bits(5, 0, 5);
    const uint8_t type = r.bits(1, 0, 4);
    // ELEMENT TYPE CODE only means something to a translate; it is reserved otherwise, but hosts
    // that send a type with an assert are not refused for it.
    if (is_translate(c.action)) r.require(type <= kMaxElementType, 1, 3);
    c.type = static_cast<ElementType>(type <= kMaxElementType ? type : 0);
    c.address = r.be16(2);
    r.reserved(4).reserved(5, 0xE0).require(is_defined(c.action), 5, 4);
    // The primary tag is the label on the cartridge.
    r.require(c.action != uint8_t(Action::AssertPrimary) && c.action != uint8_t(Action::ReplacePrimary) &&
                  c.action != uint8_t(Action::UndefinePrimary),
              5, 4);
    r.reserved(6).reserved(7);
    c.list_length = r.be16(8);
    r.reserved(10);
    if (r.error()) return *r.error();
    return c;
}

struct Parameters {
    std::string templ;  // up to the first NUL, space padded to 32
    uint16_t min_sequence = 0;
    uint16_t max_sequence = 0;
};

std::variant<Parameters, scsi::Sense> decode_parameters(std::span<const uint8_t> list) {
    Parameters p;
    for (size_t i = 0; i < kTemplateLength && list[i] != 0; ++i) p.templ.push_back(static_cast<char>(list[i]));
    p.templ.resize(kTemplateLength, ' ');
    for (size_t at : {32u, 33u, 36u, 37u}) {
        if (list[at] != 0) return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(at));
    }
    p.min_sequence = scsi::get_be16(&list[kMinSequenceAt]);
    p.max_sequence = scsi::get_be16(&list[kMaxSequenceAt]);
    return p;
}

// The template against a 32-byte space-padded identifier: '?' matches any one character, '*'
// ends the comparison (what follows it is not used).
bool matches(std::string_view templ, std::string_view tag) {
    for (size_t i = 0; i < kTemplateLength; ++i) {
        const char t = templ[i];
        if (t == '*') return true;
        const char c = i < tag.size() ? tag[i] : ' ';
        if (t != '?' && t != c) return false;
    }
    return true;
}

// Addresses a host may start a search from: any element, or below every element.
bool start_valid(const Inventory& inv, uint16_t start) {
    return inv.at(start) || inv.all().empty() || start < inv.all().front().address;
}

scsi::Sense invalid_address() { return scsi::Sense::illegal_request(scsi::asc::kInvalidElementAddress); }

Result translate(Exec& x, MediumChanger& changer, const SendVolumeTagCdb& c, const Parameters& p) {
    const Inventory& inv = changer.library().inventory();
    if (!start_valid(inv, c.address)) return Result::check(invalid_address());
    const auto action = static_cast<Action>(c.action);
    const bool primary = action != Action::TranslateAlternate && action != Action::TranslateAlternateIgnoreSequence;
    const bool alternate = action != Action::TranslatePrimary && action != Action::TranslatePrimaryIgnoreSequence;
    const bool ignore_sequence = c.action >= uint8_t(Action::TranslateAllIgnoreSequence);
    // No tag here carries a sequence number: each is 0, inside the range only when it starts at 0.
    const bool sequence_ok = ignore_sequence || (p.min_sequence == 0 && p.max_sequence >= p.min_sequence);

    MediumChanger::Translation t;
    t.action = c.action;
    if (sequence_ok) {
        for (const Element& e : inv.all()) {
            if (e.address < c.address || !e.cartridge) continue;
            if (c.type != ElementType::All && e.type != c.type) continue;
            const Cartridge& cart = inv.cartridge(*e.cartridge);
            const bool hit = (primary && !cart.barcode.empty() && matches(p.templ, cart.barcode)) ||
                             (alternate && !cart.alternate_tag.empty() && matches(p.templ, cart.alternate_tag));
            if (hit) t.addresses.push_back(e.address);
        }
    }
    changer.translations()[x.nexus().key()] = std::move(t);
    return Result::good();
}

Result change_alternate_tag(MediumChanger& changer, const SendVolumeTagCdb& c, const Parameters* p) {
    library::Library& lib = changer.library();
    const Inventory& inv = lib.inventory();
    const Element* e = inv.at(c.address);
    if (!e) return Result::check(invalid_address());
    if (!e->cartridge) return Result::check(scsi::Sense::illegal_request(scsi::asc::kMediumSourceElementEmpty));
    const auto action = static_cast<Action>(c.action);
    if (action == Action::UndefineAlternate) {
        lib.set_alternate_tag(*e->cartridge, "");
        return Result::good();
    }
    // A new tag is printable ASCII without wildcards, left-justified.
    std::string tag = p->templ;
    for (size_t i = 0; i < tag.size(); ++i) {
        const char ch = tag[i];
        if (ch == '*' || ch == '?' || ch < 0x20 || ch > 0x7E) {
            return Result::check(scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(i)));
        }
    }
    while (!tag.empty() && tag.back() == ' ') tag.pop_back();
    if (tag.empty() || tag.front() == ' ') return Result::check(scsi::Sense::invalid_parameter_field(0));
    // Assert defines a tag that is not yet defined; replace overwrites.
    if (action == Action::AssertAlternate && !inv.cartridge(*e->cartridge).alternate_tag.empty()) {
        return Result::check(scsi::Sense::invalid_parameter_field(0));
    }
    lib.set_alternate_tag(*e->cartridge, std::move(tag));
    return Result::good();
}

Result send_volume_tag(Exec& x, MediumChanger& changer) {
    auto decoded = decode_send_volume_tag(x.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto& c = std::get<SendVolumeTagCdb>(decoded);

    // Undefine takes no parameters (any sent are ignored); a zero-length list elsewhere
    // transfers nothing and is not an error (SPC), so it changes nothing.
    if (c.action == uint8_t(Action::UndefineAlternate)) return change_alternate_tag(changer, c, nullptr);
    if (c.list_length == 0) return Result::good();
    if (c.list_length < kParameterLength || x.data_out().size() < c.list_length) {
        return Result::check(scsi::Sense::illegal_request(scsi::asc::kParameterListLengthError));
    }
    auto params = decode_parameters(x.data_out().first(kParameterLength));
    if (auto* err = std::get_if<scsi::Sense>(&params)) return Result::check(*err);
    const auto& p = std::get<Parameters>(params);
    if (is_translate(c.action)) return translate(x, changer, c, p);
    return change_alternate_tag(changer, c, &p);
}

// ---- REQUEST VOLUME ELEMENT ADDRESS --------------------------------------------------------

struct RequestCdb {
    bool voltag = false;
    ElementType type = ElementType::All;
    uint16_t start = 0;
    uint16_t count = 0;
    bool dvcid = false;  // byte 6 bit 0, as in READ ELEMENT STATUS: the reports share a format
    uint32_t allocation = 0;
};

std::variant<RequestCdb, scsi::Sense> decode_request(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    RequestCdb c;
    c.voltag = r.bit(1, 4);
    const uint8_t type = r.bits(1, 0, 4);
    r.require(type <= kMaxElementType, 1, 3);
    c.type = static_cast<ElementType>(type);
    c.start = r.be16(2);
    c.count = r.be16(4);
    r.reserved(6, 0xFE);
    c.dvcid = r.bit(6, 0);
    c.allocation = r.be24(7);
    r.reserved(10);
    if (r.error()) return *r.error();
    return c;
}

Result request_volume_element_address(Exec& x, MediumChanger& changer) {
    auto decoded = decode_request(x.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto& c = std::get<RequestCdb>(decoded);
    auto found = changer.translations().find(x.nexus().key());
    if (found == changer.translations().end()) {
        return Result::check(scsi::Sense::illegal_request(kCommandSequenceError));
    }
    library::Library& lib = changer.library();
    const Inventory& inv = lib.inventory();
    if (!start_valid(inv, c.start)) return Result::check(invalid_address());

    std::vector<const Element*> chosen;
    for (uint16_t address : found->second.addresses) {
        if (chosen.size() >= c.count) break;
        const Element* e = inv.at(address);
        if (!e || address < c.start || (c.type != ElementType::All && e->type != c.type)) continue;
        chosen.push_back(e);
    }
    ElementReportOptions options{
        .voltag = c.voltag, .dvcid = c.dvcid, .allocation = c.allocation, .header_byte4 = found->second.action};
    return Result::good(element_report(lib, chosen, options), c.allocation);
}

}  // namespace

void register_volume_tag_commands(LogicalUnit& lu, MediumChanger& changer) {
    MediumChanger* c = &changer;
    lu.commands().add(
        make_command(op::kSendVolumeTag, "SEND VOLUME TAG",
                     {op::kSendVolumeTag, 0x0F, 0xFF, 0xFF, 0x00, 0x1F, 0x00, 0x00, 0xFF, 0xFF, 0x00, kControlUsage},
                     kNominalTimeout, kRecommendedTimeout, [c](Exec& x) { return send_volume_tag(x, *c); }));
    lu.commands().add(make_command(
        op::kRequestVolumeElementAddress, "REQUEST VOLUME ELEMENT ADDRESS",
        {op::kRequestVolumeElementAddress, 0x1F, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0xFF, 0xFF, 0xFF, 0x00, kControlUsage},
        kNominalTimeout, kRecommendedTimeout, [c](Exec& x) { return request_volume_element_address(x, *c); }));
}

}  // namespace vtl::smc
