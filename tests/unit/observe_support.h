// What the observability tests share: an in-memory emulator of one small library on a virtual
// clock, and a hook that holds chosen commands for a set time, so a latency is exactly known.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/logical_unit.h"
#include "core/virtual_clock.h"
#include "library/emulator.h"
#include "library_fixture.h"

namespace vtl::obstest {

// Library "t0" (tests/unit/library_fixture.h): a changer, drive0..drive2, one robot.
struct Rig {
    Rig() : emulator(config_of(), clock) {}
    static config::Config config_of() {
        config::Config c;
        c.libraries.push_back(libtest::small_library());
        return c;
    }
    LogicalUnit& drive0() { return *emulator.find("t0/drive0"); }
    library::Library& lib() { return *emulator.library("t0"); }

    VirtualClock clock;
    library::Emulator emulator;
};

// Holds every command named `name` for `delay` on the clock, then runs it: its latency is then
// exactly `delay`. An abort cancels the hold.
class Hold final : public LuHooks {
public:
    Hold(std::string name, Duration delay) : name_(std::move(name)), delay_(delay) {}
    void set_delay(Duration d) { delay_ = d; }

    std::optional<Result> before(LogicalUnit& lu, const TaskPtr& task, const CommandInfo& info) override {
        if (info.name != name_) return std::nullopt;
        LogicalUnit* unit = &lu;
        const auto id = lu.clock().schedule_after(delay_, [unit, task] { unit->run(task); });
        task->on_abort([unit, id] { unit->clock().cancel(id); });
        return Result::pending();
    }

private:
    std::string name_;
    Duration delay_;
};

}  // namespace vtl::obstest
