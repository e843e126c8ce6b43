// The "vtl" logger every part of the emulator writes to (the core fetches it with
// spdlog::get("vtl")). Messages carry their own "[library/device] tag=..." prefix.
#pragma once

#include <spdlog/common.h>

#include <cstddef>
#include <string>

namespace vtl {

struct LogOptions {
    spdlog::level::level_enum level = spdlog::level::info;
    bool color = false;    // stderr is a terminal
    bool journal = false;  // stderr is systemd's journal: it stamps the time, "<N>" gives the priority
    std::string file;      // non-empty: write here instead of stderr, rotating at file_max_bytes
    std::size_t file_max_bytes = std::size_t{10} << 20;
    std::size_t file_count = 5;  // rotated files kept besides the current one
};

// Creates (or replaces) the "vtl" logger and makes it the default logger. Throws
// spdlog::spdlog_ex when the log file cannot be opened.
void init_logging(const LogOptions& options);
// Creates (or replaces) the "vtl" logger on stderr and makes it the default logger.
void init_logging(spdlog::level::level_enum level, bool to_stderr_color);

// True when stderr is the stream systemd connected to its journal (JOURNAL_STREAM names it).
bool stderr_is_journal();

}  // namespace vtl
