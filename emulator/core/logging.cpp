#include "core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace vtl {

void init_logging(spdlog::level::level_enum level, bool to_stderr_color) {
    spdlog::drop("vtl");
    auto log = to_stderr_color ? spdlog::stderr_color_mt("vtl") : spdlog::stderr_logger_mt("vtl");
    log->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-8l%$ %v");
    log->set_level(level);
    // Warnings and errors reach the terminal or journal even if the process dies right after.
    log->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(log);
}

}  // namespace vtl
