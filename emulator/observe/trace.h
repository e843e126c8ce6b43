// The command trace: one JSON line per completed command of every logical unit, to a JSONL
// file and to live subscribers (the control socket's `trace follow`):
//   {"t":"2026-01-01T00:00:00.000000Z","device":"lib0/drive0","initiator":"iqn...","tag":7,
//    "cdb":"0a00000100","name":"WRITE(6)","status":"CHECK CONDITION","sense":"7000060000...",
//    "data_in":0,"data_out":65536,"duration_us":1200}
// "t" is the completion time on the clock's calendar (wall_now()), "cdb" the CDB cut to the
// length its group code gives, "sense" the sense data as sent (absent when none), "data_in" the
// bytes returned, "data_out" the bytes received, "duration_us" the time since the logical unit
// received the task, on the clock. Everything runs on the library clock's thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>

#include "core/lu_hooks.h"

namespace vtl::library {
class Emulator;
}

namespace vtl::observe {

// The trace line for a task that has just completed (no line feed).
std::string trace_line(LogicalUnit& lu, const Task& task);

class Trace final : public LuHooks {
public:
    // Adds itself to every logical unit of `emulator`; removes itself in ~Trace (destroy it
    // before the emulator).
    explicit Trace(library::Emulator& emulator);
    ~Trace() override;
    Trace(const Trace&) = delete;
    Trace& operator=(const Trace&) = delete;

    // Logical units added later (a drive's bridged LUN 1); detach before destroying one.
    void attach(LogicalUnit& lu);
    void detach(LogicalUnit& lu);

    // Appends lines to `jsonl` (created if missing), each written and flushed as its command
    // completes; replaces the file being written, if any. Throws std::runtime_error naming the
    // file if it cannot be opened. A later write error is logged and stops the file (status()
    // tells), never failing a command.
    void start(const std::filesystem::path& jsonl);
    void stop();

    // Called on the clock thread with each line (no line feed); may unsubscribe from inside.
    uint64_t subscribe(std::function<void(const std::string& line)> fn);
    void unsubscribe(uint64_t id);

    // {"active": bool, "file": "..." (the last one, "" if none), "lines": lines written to it,
    //  "subscribers": n, "error": "..." (only after a write error stopped it)}
    nlohmann::json status() const;

    void completed(LogicalUnit& lu, const Task& task) override;

private:
    void close_file();

    std::unordered_set<LogicalUnit*> attached_;
    int fd_ = -1;
    std::filesystem::path file_;
    uint64_t lines_ = 0;
    std::string error_;
    std::map<uint64_t, std::function<void(const std::string&)>> subscribers_;
    uint64_t next_subscriber_ = 1;
};

}  // namespace vtl::observe
