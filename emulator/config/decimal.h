// The number part that config sizes and durations share: "15", "2.5", "1.000000000001".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vtl::config {

struct DecimalNumber {
    uint64_t whole = 0;       // clamped at the caller's limit
    bool whole_over = false;  // the integer part passed that limit
    uint64_t frac = 0;        // fraction digits kept, as an integer over frac_scale
    uint64_t frac_scale = 1;  // 10^(digits kept), at most 10^12
    bool finer = false;       // non-zero digits past the 12 kept
    std::string_view unit;    // whatever follows the number
};

// Splits leading digits, an optional '.' and digits, and the rest. nullopt when there is no
// leading digit or a '.' has no digit after it.
std::optional<DecimalNumber> split_decimal(std::string_view text, uint64_t whole_limit);

}  // namespace vtl::config
