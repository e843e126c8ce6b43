#include "config/barcode.h"

#include <fmt/format.h>

namespace vtl::config {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

constexpr size_t kSuffixLength = 2;
constexpr size_t kQuoteLimit = 40;

}  // namespace

std::string_view to_string(MediaType type) {
    switch (type) {
        case MediaType::Data: return "data";
        case MediaType::Cleaning: return "cleaning";
        case MediaType::Worm: return "worm";
        case MediaType::Diagnostic: return "diagnostic";
    }
    return "?";
}

std::optional<MediaType> media_type_from_string(std::string_view name) {
    for (auto t : {MediaType::Data, MediaType::Cleaning, MediaType::Worm, MediaType::Diagnostic}) {
        if (name == to_string(t)) return t;
    }
    return std::nullopt;
}

std::string quote(std::string_view text) {
    std::string out = "\"";
    size_t shown = 0;
    for (unsigned char c : text) {
        if (shown++ == kQuoteLimit) {
            out += "...";
            break;
        }
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c >= 0x7F) {
            out += fmt::format("\\x{:02X}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::optional<std::string> barcode_error(std::string_view barcode) {
    if (barcode.empty()) return "empty; expected 1 to 16 characters A-Z, 0-9";
    if (barcode.size() > kMaxBarcodeLength) {
        return fmt::format("{} characters long; at most {} characters A-Z, 0-9", barcode.size(), kMaxBarcodeLength);
    }
    for (size_t i = 0; i < barcode.size(); ++i) {
        const char c = barcode[i];
        if (is_upper(c) || is_digit(c)) continue;
        const auto u = static_cast<unsigned char>(c);
        if (c >= 'a' && c <= 'z') return fmt::format("character {} '{}' is lower case; only A-Z and 0-9 are allowed", i + 1, c);
        if (c == ' ') return fmt::format("character {} is a space; only A-Z and 0-9 are allowed", i + 1);
        if (u > 0x20 && u < 0x7F) return fmt::format("character {} '{}' is not A-Z or 0-9", i + 1, c);
        return fmt::format("byte {} (0x{:02X}) is not A-Z or 0-9", i + 1, u);
    }
    return std::nullopt;
}

std::optional<BarcodeInfo> parse_barcode(std::string_view barcode) {
    if (barcode_error(barcode)) return std::nullopt;
    BarcodeInfo info;
    if (barcode.starts_with("CLN")) {
        info.type = MediaType::Cleaning;
        return info;
    }
    if (barcode.size() <= kSuffixLength) return info;  // no volume serial before a suffix
    const std::string_view suffix = barcode.substr(barcode.size() - kSuffixLength);
    if (suffix == "CU") {
        info.type = MediaType::Cleaning;
    } else if (suffix == "M8") {
        info.type = MediaType::Data;
        info.generation = 7;
        info.type_m = true;
    } else if (suffix[0] == 'L' && suffix[1] >= '5' && suffix[1] <= '9') {
        info.type = MediaType::Data;
        info.generation = suffix[1] - '0';
    } else if (suffix[0] == 'L' && suffix[1] >= 'V' && suffix[1] <= 'Z') {
        info.type = MediaType::Worm;
        info.generation = 5 + (suffix[1] - 'V');
    }
    return info;
}

std::string describe(const BarcodeInfo& info) {
    if (!info.type) return "no known suffix";
    if (info.type_m) return "LTO-7 Type M data (LTO-8 format)";
    std::string kind = *info.type == MediaType::Worm ? "WORM" : std::string(to_string(*info.type));
    if (!info.generation) return kind;
    return fmt::format("LTO-{} {}", *info.generation, kind);
}

namespace {

// The digits right before the suffix: [begin, end) in the barcode; empty when there are none.
std::pair<size_t, size_t> counter_digits(std::string_view barcode) {
    if (barcode.size() <= kSuffixLength) return {0, 0};
    const size_t end = barcode.size() - kSuffixLength;
    size_t begin = end;
    while (begin > 0 && is_digit(barcode[begin - 1])) --begin;
    return {begin, end};
}

std::string with_number(std::string_view barcode, size_t begin, size_t end, uint64_t number) {
    std::string out(barcode);
    const std::string digits = fmt::format("{:0{}}", number, end - begin);
    out.replace(begin, end - begin, digits);
    return out;
}

uint64_t power_of_ten(size_t digits) {
    uint64_t p = 1;
    while (digits--) p *= 10;
    return p;
}

}  // namespace

std::vector<std::string> expand_barcode_range(std::string_view first, uint32_t count, std::string& error) {
    if (auto why = barcode_error(first)) {
        error = fmt::format("barcode {} is invalid: {}", quote(first), *why);
        return {};
    }
    const auto [begin, end] = counter_digits(first);
    if (begin == end) {
        error = fmt::format("{} has no digits before its 2-character suffix to count with", quote(first));
        return {};
    }
    const uint64_t start = std::stoull(std::string(first.substr(begin, end - begin)));
    const uint64_t last = start + (count == 0 ? 0 : count - 1);
    if (last >= power_of_ten(end - begin)) {
        error = fmt::format("{} cartridges from {} would need the number {}, wider than the {} digits before the suffix",
                            count, quote(first), last, end - begin);
        return {};
    }
    std::vector<std::string> out;
    out.reserve(count);
    for (uint64_t n = start; n < start + count; ++n) out.push_back(with_number(first, begin, end, n));
    return out;
}

std::optional<std::string> next_barcode(std::string_view barcode) {
    std::string error;
    auto two = expand_barcode_range(barcode, 2, error);
    if (two.size() != 2) return std::nullopt;
    return two[1];
}

}  // namespace vtl::config
