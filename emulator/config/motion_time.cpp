#include <string>

#include "config/config.h"

namespace vtl::config {

namespace {
constexpr std::string_view kPerGb = "/GB";
}

std::optional<MotionTime> parse_motion_time(std::string_view text, std::string& error) {
    MotionTime m;
    if (text.ends_with(kPerGb)) {
        m.per_gb = true;
        text.remove_suffix(kPerGb.size());
    }
    auto d = parse_duration(text, error);
    if (!d) return std::nullopt;
    m.time = *d;
    return m;
}

std::string format_motion_time(const MotionTime& m) {
    return format_duration(m.time) + (m.per_gb ? std::string(kPerGb) : std::string());
}

}  // namespace vtl::config
