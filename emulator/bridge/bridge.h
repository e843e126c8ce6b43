// A tape drive's bridged changer LUN 1 (docs/adi-bridge.md): the drive answers INQUIRY, TEST UNIT
// READY, REQUEST SENSE, REPORT LUNS and reservations itself, and forwards every other command to
// its library's SMC device server with a timer (LibraryConfig::bridge.timeout, 720 s by default)
// started when it forwards it. When the timer runs out it sends ABORT TASK to the library (the
// operation follows the abort policy: removed if still queued, else completed or returned to its
// source) and ends the host's command with CHECK CONDITION 0B/08/01 LOGICAL UNIT COMMUNICATION
// TIME-OUT. The logical unit is serial: one command at a time per drive.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/logical_unit.h"
#include "core/lu_hooks.h"

namespace vtl::library {
class Library;
}

namespace vtl::bridge {

struct BridgeCounters {
    uint64_t forwarded = 0;              // commands handed to the library
    uint64_t answered = 0;               // ... and answered by it (aborted ones excluded)
    uint64_t timed_out = 0;              // the bridge timer ran out: 0B/08/01 to the host
    uint64_t aborts_sent = 0;            // ABORT TASK to the library (timer, or the host's own abort or reset)
    uint64_t completed_after_abort = 0;  // an aborted move the robot finishes at its destination
    uint64_t returned_after_abort = 0;   // an aborted move whose cartridge goes back to its source
    uint64_t removed_after_abort = 0;    // an aborted move still queued: removed, nothing moved
};

class Bridge final : public LuHooks {
public:
    // `lu` is the drive's LUN 1, built on a MediumChanger of `library`; both outlive the bridge.
    // Wraps every forwarded command of `lu` and adds REPORT LUNS.
    Bridge(library::Library& library, std::string drive, LogicalUnit& lu);
    ~Bridge() override;
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    const BridgeCounters& counters() const { return counters_; }
    const std::string& drive() const { return drive_; }
    LogicalUnit& lu() { return lu_; }
    // Commands answered by the drive itself, not forwarded.
    static bool answered_locally(uint8_t opcode);

    void completed(LogicalUnit& lu, const Task& task) override;

private:
    struct Forwarded {
        TaskPtr task;
        Clock::TimerId timer = 0;
        std::optional<uint64_t> operation;  // the library operation the command started
        bool expired = false;
    };
    Result forward(Exec& x, const Handler& inner, const std::string& name);
    void expire(const Task* task);
    void count_abort(std::optional<uint64_t> operation, const char* why, uint64_t tag);

    library::Library& library_;
    std::string drive_;
    LogicalUnit& lu_;
    Duration timeout_;
    BridgeCounters counters_;
    std::map<const Task*, Forwarded> in_flight_;
};

}  // namespace vtl::bridge
