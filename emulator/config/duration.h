// Durations as the config writes them: "15s", "2.5s", "500ms", "13min", "1h".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vtl::config {

using Millis = std::chrono::milliseconds;

// A decimal number and a unit (ms, s, min, h), no spaces; must come to whole milliseconds.
// nullopt with `error` set otherwise.
std::optional<Millis> parse_duration(std::string_view text, std::string& error);

// The shortest exact spelling parse_duration reads back: "2s", "2.5s", "500ms", "12min", "1h".
std::string format_duration(Millis d);

}  // namespace vtl::config
