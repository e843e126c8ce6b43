#include "config/size.h"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "config/decimal.h"

namespace vtl::config {

namespace {

constexpr uint64_t kKi = 1024, kK = 1000;
constexpr std::array<std::pair<std::string_view, uint64_t>, 10> kUnits = {{
    {"B", 1},
    {"KB", kK},
    {"MB", kK* kK},
    {"GB", kK* kK* kK},
    {"TB", kK* kK* kK* kK},
    {"PB", kK* kK* kK* kK* kK},
    {"KiB", kKi},
    {"MiB", kKi* kKi},
    {"GiB", kKi* kKi* kKi},
    {"TiB", kKi* kKi* kKi* kKi},
}};
constexpr std::string_view kExpected =
    "expected a number and a unit (B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB) like "
    "\"64MiB\", \"800GB\", \"1.5TB\"";

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text, std::string& error) {
    const auto n = split_decimal(text, UINT64_MAX);
    if (!n) {
        error = std::string(kExpected);
        return std::nullopt;
    }
    for (const auto& [name, scale] : kUnits) {
        if (n->unit != name) continue;
        if (n->whole_over || n->whole > UINT64_MAX / scale) {
            error = "too large";
            return std::nullopt;
        }
        // frac / frac_scale of `scale` bytes must be whole bytes.
        const unsigned __int128 part = static_cast<unsigned __int128>(n->frac) * scale;
        if (n->finer || part % n->frac_scale != 0) {
            error = "not a whole number of bytes";
            return std::nullopt;
        }
        const unsigned __int128 total = static_cast<unsigned __int128>(n->whole) * scale + part / n->frac_scale;
        if (total > UINT64_MAX) {
            error = "too large";
            return std::nullopt;
        }
        return static_cast<uint64_t>(total);
    }
    error = n->unit.empty() ? "missing a unit (B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB)" : std::string(kExpected);
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
