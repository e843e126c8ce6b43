#include "config/decimal.h"

namespace vtl::config {

namespace {

constexpr uint64_t kMaxFractionScale = 1'000'000'000'000ull;  // 12 decimals

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<DecimalNumber> split_decimal(std::string_view text, uint64_t whole_limit) {
    DecimalNumber n;
    size_t i = 0;
    for (; i < text.size() && is_digit(text[i]); ++i) {
        const uint64_t digit = uint64_t(text[i] - '0');
        if (n.whole_over || n.whole > (whole_limit - digit) / 10) {
            n.whole_over = true;
            n.whole = whole_limit;
        } else {
            n.whole = n.whole * 10 + digit;
        }
    }
    if (i == 0) return std::nullopt;
    if (i < text.size() && text[i] == '.') {
        const size_t start = ++i;
        for (; i < text.size() && is_digit(text[i]); ++i) {
            if (n.frac_scale < kMaxFractionScale) {
                n.frac = n.frac * 10 + uint64_t(text[i] - '0');
                n.frac_scale *= 10;
            } else if (text[i] != '0') {
                n.finer = true;
            }
        }
        if (i == start) return std::nullopt;
    }
    n.unit = text.substr(i);
    return n;
}

}  // namespace vtl::config
