// Byte sizes as the config writes them: "64MiB", "800GB", "1.5TB", "65536B" or integer bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vtl::config {

// A decimal number and a unit: B, KB, MB, GB, TB, PB (powers of 1000) or KiB, MiB, GiB, TiB
// (powers of 1024); no spaces; must come to whole bytes. nullopt with `error` set otherwise.
std::optional<uint64_t> parse_size(std::string_view text, std::string& error);

// The shortest exact spelling parse_size reads back: "64MiB", "800GB", "1500GB", "65537B".
std::string format_size(uint64_t bytes);

}  // namespace vtl::config
