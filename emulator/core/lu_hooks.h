// Interceptors and observers of a logical unit's commands: the fault plan, the command trace and
// the statistics plug in here, so no device or handler knows about them. They run on the clock
// thread, in the order they were added.
#pragma once

#include <optional>

#include "core/clock.h"
#include "core/task.h"

namespace vtl {

class LogicalUnit;
struct CommandInfo;

class LuHooks {
public:
    virtual ~LuHooks() = default;

    // After the unit attention, opcode, control byte and reservation checks, just before the
    // command's handler. Return nullopt to run the handler; a final Result to end the task with
    // it instead (an injected CHECK CONDITION, BUSY, TASK SET FULL); or Result::pending() to keep
    // the task: the hook then calls LogicalUnit::run(task) to run the handler later (a delay) or
    // LogicalUnit::complete(task, ...) (a hang it ends itself). A kept task is aborted as any
    // other: set its on_abort to forget it.
    virtual std::optional<Result> before(LogicalUnit&, const TaskPtr&, const CommandInfo&) { return std::nullopt; }

    // A final result about to be returned to the initiator (not TASK ABORTED): may change it
    // (flip bits of data-in, turn GOOD into a medium error).
    virtual void after(LogicalUnit&, const Task&, Result&) {}
    // True if after() may change data-in: a result whose data-in lies in the transport's buffer
    // (Result::in_buffer) is then copied into Result::data first, so after() sees it there.
    virtual bool edits_data() const { return false; }

    // The task has been completed, whatever its status (aborted included).
    virtual void completed(LogicalUnit&, const Task&) {}
};

}  // namespace vtl
