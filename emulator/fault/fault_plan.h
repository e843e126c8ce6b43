// The fault plan (issue 6): rules of match + action + limits that make the emulator fail the way
// real libraries, drives and paths fail, on demand and reproducibly. It plugs into every logical
// unit as LuHooks and into every library's robots as their motion fault hook; everything runs
// on the library clock's thread. Rules come from TOML ([[fault]] tables, docs/faults.md) or JSON
// (the control socket); both go through one parser whose errors name the field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/lu_hooks.h"
#include "fault/rule.h"
#include "smc/robots.h"

namespace vtl {
class TapeDrive;
}
namespace vtl::library {
class Emulator;
class Library;
}  // namespace vtl::library

namespace vtl::fault {

class FaultPlan final : public LuHooks {
public:
    // Installs its hooks on every logical unit and robot set of `emulator`; removes them in the
    // destructor. `seed` drives probability and bit flips: same seed, same commands, same faults.
    FaultPlan(library::Emulator& emulator, Clock& clock, uint64_t seed = 0);
    ~FaultPlan() override;
    FaultPlan(const FaultPlan&) = delete;
    FaultPlan& operator=(const FaultPlan&) = delete;

    uint64_t add(const nlohmann::json& rule);  // throws FaultError
    // A TOML document of [[fault]] tables; errors name source:line:column and the field.
    std::vector<uint64_t> load_toml(std::string_view text, const std::string& source);
    std::vector<uint64_t> load_file(const std::filesystem::path& file);
    // Removing a rule ends what it started: held commands run, windows close (doors close).
    bool remove(uint64_t id);
    void clear();
    nlohmann::json list() const;   // [{ "id":1, ...rule as given..., "fired": N, "seen": N, "retired": bool }]
    nlohmann::json stats() const;  // {"fired_total": N, "by_action": {...}, "by_rule": {...}, "refused_not_ready": N}

    // LuHooks.
    std::optional<Result> before(LogicalUnit& lu, const TaskPtr& task, const CommandInfo& info) override;
    void after(LogicalUnit& lu, const Task& task, Result& result) override;
    bool edits_data() const override { return true; }
    void completed(LogicalUnit& lu, const Task& task) override;

private:
    // One logical unit as rules see it.
    struct Target {
        LogicalUnit* lu = nullptr;
        library::Library* lib = nullptr;
        std::string device;                     // "changer", "drive0"
        TapeDrive* drive = nullptr;             // a tape drive serving SSC
        std::optional<uint16_t> drive_address;  // its data transfer element
        bool changer = false;
    };
    // A not-ready, offline or door period.
    struct Window {
        uint64_t rule = 0;
        Target* target = nullptr;  // refused with `sense`; null for the I/E door
        library::Library* lib = nullptr;
        std::optional<scsi::Sense> sense;
        std::optional<scsi::Asc> end_attention;    // raised on the library's changers when it ends
        std::optional<scsi::Sense> changer_sense;  // offline: moves into/out of the drive fail so
        bool ie_door = false;
        Clock::TimerId timer = 0;
    };
    // A delayed or hung task.
    struct Held {
        TaskPtr task;
        LogicalUnit* lu = nullptr;
        uint64_t rule = 0;
        Clock::TimerId timer = 0;  // 0: hung until aborted
    };
    // What after() does to a task's result.
    struct AfterAction {
        Action action = Action::Corrupt;
        uint64_t rule = 0;
        uint32_t bits = 0;  // corrupt
    };

    bool matches_device(const Rule& r, const Target& t) const;
    bool in_time(const Rule& r) const;
    // An early_eom rule puts early warning on `t`'s medium from block `warning_at` on: a WRITE
    // whose last block is there reports it, READ POSITION sets BPEW once the block before the
    // position is there. The one predicate for both.
    bool early_warning_at(const Rule& r, const Target& t, uint64_t block) const;
    // READ POSITION data-in: BPEW set where an early_eom rule puts the position past early warning.
    void early_warning_position(const Target& t, Result& result) const;
    // The nth/every/probability/count gate, once every filter matched; counts the rule's `seen`.
    bool fires(Rule& r);
    void record(Rule& r, const std::string& where, const std::string& what);
    std::optional<smc::MotionFault> motion_fault(library::Library& lib, uint16_t robot, const smc::Motion& m);
    void start_event(Rule& r);
    void open_window(Rule& r, Target& t);
    void close_window(uint64_t window_id);
    void end_rule(uint64_t id);
    Target* target_of(const LogicalUnit& lu);

    library::Emulator& emulator_;
    Clock& clock_;
    TimePoint start_;
    std::mt19937_64 rng_;
    std::vector<std::unique_ptr<Target>> targets_;
    std::map<uint64_t, Rule> rules_;  // by id, evaluated in id order
    uint64_t next_id_ = 1;
    std::map<uint64_t, Window> windows_;
    uint64_t next_window_ = 1;
    std::map<const Task*, Held> held_;
    std::map<const Task*, std::vector<AfterAction>> after_;
    std::map<uint64_t, Clock::TimerId> event_timers_;  // rule id -> its `at` timer
    uint64_t fired_total_ = 0;
    uint64_t refused_not_ready_ = 0;
    std::map<std::string, uint64_t> by_action_;
};

}  // namespace vtl::fault
