#include "core/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace vtl {
namespace {

// "<N>" before each line: systemd's stream reader takes it as the syslog priority.
class JournalPriority final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        // trace, debug, info, warn, err, critical, off
        static constexpr std::array<char, 7> kPriority{'7', '7', '6', '4', '3', '2', '6'};
        const char p[3] = {'<', kPriority[static_cast<std::size_t>(msg.level) % kPriority.size()], '>'};
        dest.append(p, p + 3);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JournalPriority>(); }
};

}  // namespace

void init_logging(const LogOptions& options) {
    spdlog::drop("vtl");
    std::shared_ptr<spdlog::logger> log;
    if (!options.file.empty()) {
        log = spdlog::rotating_logger_mt("vtl", options.file, options.file_max_bytes, options.file_count);
        log->set_pattern("%Y-%m-%d %H:%M:%S.%e %-8l %v");
        // A file is buffered: flush what info lines wait there at least every second.
        spdlog::flush_every(std::chrono::seconds(1));
    } else if (options.journal) {
        log = spdlog::stderr_logger_mt("vtl");
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<JournalPriority>('*').set_pattern("%*%v");
        log->set_formatter(std::move(formatter));
    } else {
        log = options.color ? spdlog::stderr_color_mt("vtl") : spdlog::stderr_logger_mt("vtl");
        log->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-8l%$ %v");
    }
    log->set_level(options.level);
    // Warnings and errors reach the terminal, journal or file even if the process dies right after.
    log->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(log);
}

void init_logging(spdlog::level::level_enum level, bool to_stderr_color) {
    init_logging(LogOptions{.level = level, .color = to_stderr_color});
}

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (stream == nullptr || fstat(STDERR_FILENO, &st) != 0) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

}  // namespace vtl
