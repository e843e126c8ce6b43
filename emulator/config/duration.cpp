#include "config/duration.h"

#include <array>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

namespace vtl::config {

namespace {

constexpr std::array<std::pair<std::string_view, int64_t>, 4> kUnits = {{
    {"ms", 1}, {"s", 1000}, {"min", 60'000}, {"h", 3'600'000},
}};
// Keeps the arithmetic far from overflow; no timing in a library is anywhere near this.
constexpr int64_t kMaxMillis = int64_t(1000) * 3'600'000;
constexpr int64_t kMaxFractionScale = 1'000'000'000'000;  // 12 decimals
constexpr std::string_view kExpected = "expected a number and a unit (ms, s, min, h) like \"15s\", \"2.5s\", \"500ms\"";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<Millis> parse_duration(std::string_view text, std::string& error) {
    size_t i = 0;
    int64_t whole = 0;
    bool too_long = false;
    for (; i < text.size() && is_digit(text[i]); ++i) {
        whole = whole * 10 + (text[i] - '0');
        if (whole > kMaxMillis) too_long = true, whole = kMaxMillis;
    }
    if (i == 0) {
        error = std::string(kExpected);
        return std::nullopt;
    }
    int64_t frac = 0, frac_scale = 1;
    bool finer = false;  // non-zero digits past the precision we keep
    if (i < text.size() && text[i] == '.') {
        const size_t start = ++i;
        for (; i < text.size() && is_digit(text[i]); ++i) {
            if (frac_scale < kMaxFractionScale) {
                frac = frac * 10 + (text[i] - '0');
                frac_scale *= 10;
            } else if (text[i] != '0') {
                finer = true;
            }
        }
        if (i == start) {
            error = std::string(kExpected);
            return std::nullopt;
        }
    }
    const std::string_view unit = text.substr(i);
    for (const auto& [name, scale] : kUnits) {
        if (unit != name) continue;
        if (too_long || whole > kMaxMillis / scale) {
            error = "too long";
            return std::nullopt;
        }
        if (finer || (frac * scale) % frac_scale != 0) {
            error = "finer than a millisecond";
            return std::nullopt;
        }
        return Millis(whole * scale + frac * scale / frac_scale);
    }
    error = unit.empty() ? "missing a unit (ms, s, min, h)" : std::string(kExpected);
    return std::nullopt;
}

std::string format_duration(Millis d) {
    const int64_t ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
    if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}min", ms / 60'000);
    if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
    if (ms < 1000) return fmt::format("{}ms", ms);
    std::string frac = fmt::format("{:03}", ms % 1000);
    while (frac.back() == '0') frac.pop_back();
    return fmt::format("{}.{}s", ms / 1000, frac);
}

}  // namespace vtl::config
