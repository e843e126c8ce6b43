#include "config/duration.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <utility>

#include "config/decimal.h"

namespace vtl::config {

namespace {

constexpr std::array<std::pair<std::string_view, int64_t>, 4> kUnits = {{
    {"ms", 1},
    {"s", 1000},
    {"min", 60'000},
    {"h", 3'600'000},
}};
// Keeps the arithmetic far from overflow; no timing in a library is anywhere near this.
constexpr int64_t kMaxMillis = int64_t(1000) * 3'600'000;
constexpr std::string_view kExpected = "expected a number and a unit (ms, s, min, h) like \"15s\", \"2.5s\", \"500ms\"";

}  // namespace

std::optional<Millis> parse_duration(std::string_view text, std::string& error) {
    const auto n = split_decimal(text, kMaxMillis);
    if (!n) {
        error = std::string(kExpected);
        return std::nullopt;
    }
    const int64_t whole = int64_t(n->whole), frac = int64_t(n->frac), frac_scale = int64_t(n->frac_scale);
    for (const auto& [name, scale] : kUnits) {
        if (n->unit != name) continue;
        if (n->whole_over || whole > kMaxMillis / scale) {
            error = "too long";
            return std::nullopt;
        }
        if (n->finer || (frac * scale) % frac_scale != 0) {
            error = "finer than a millisecond";
            return std::nullopt;
        }
        return Millis(whole * scale + frac * scale / frac_scale);
    }
    error = n->unit.empty() ? "missing a unit (ms, s, min, h)" : std::string(kExpected);
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
