#include "config/size.h"

#include <array>
#include <utility>

#include <fmt/format.h>

namespace vtl::config {

namespace {

constexpr uint64_t kKi = 1024, kK = 1000;
constexpr std::array<std::pair<std::string_view, uint64_t>, 10> kUnits = {{
    {"B", 1},
    {"KB", kK},
    {"MB", kK * kK},
    {"GB", kK * kK * kK},
    {"TB", kK * kK * kK * kK},
    {"PB", kK * kK * kK * kK * kK},
    {"KiB", kKi},
    {"MiB", kKi * kKi},
    {"GiB", kKi * kKi * kKi},
    {"TiB", kKi * kKi * kKi * kKi},
}};
constexpr uint64_t kMaxFractionScale = 1'000'000'000'000ull;  // 12 decimals
constexpr std::string_view kExpected = "expected a number and a unit (B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB) like "
                                       "\"64MiB\", \"800GB\", \"1.5TB\"";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text, std::string& error) {
    size_t i = 0;
    uint64_t whole = 0;
    bool too_big = false;
    for (; i < text.size() && is_digit(text[i]); ++i) {
        if (whole > (UINT64_MAX - 9) / 10) too_big = true;
        else whole = whole * 10 + uint64_t(text[i] - '0');
    }
    if (i == 0) {
        error = std::string(kExpected);
        return std::nullopt;
    }
    uint64_t frac = 0, frac_scale = 1;
    bool finer = false;
    if (i < text.size() && text[i] == '.') {
        const size_t start = ++i;
        for (; i < text.size() && is_digit(text[i]); ++i) {
            if (frac_scale < kMaxFractionScale) {
                frac = frac * 10 + uint64_t(text[i] - '0');
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
        if (too_big || whole > UINT64_MAX / scale) {
            error = "too large";
            return std::nullopt;
        }
        // frac / frac_scale of `scale` bytes must be whole bytes.
        const unsigned __int128 part = static_cast<unsigned __int128>(frac) * scale;
        if (finer || part % frac_scale != 0) {
            error = "not a whole number of bytes";
            return std::nullopt;
        }
        const unsigned __int128 total = static_cast<unsigned __int128>(whole) * scale + part / frac_scale;
        if (total > UINT64_MAX) {
            error = "too large";
            return std::nullopt;
        }
        return static_cast<uint64_t>(total);
    }
    error = unit.empty() ? "missing a unit (B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB)" : std::string(kExpected);
    return std::nullopt;
}

std::string format_size(uint64_t bytes) {
    if (bytes == 0) return "0B";
    // The largest unit that divides exactly; binary units first at equal magnitude, since
    // test cartridges are usually sized in them.
    std::string best = fmt::format("{}B", bytes);
    for (const auto& [name, scale] : kUnits) {
        if (scale == 1 || bytes % scale != 0) continue;
        std::string text = fmt::format("{}{}", bytes / scale, name);
        if (text.size() < best.size() || (text.size() == best.size() && name.ends_with("iB"))) best = std::move(text);
    }
    return best;
}

}  // namespace vtl::config
