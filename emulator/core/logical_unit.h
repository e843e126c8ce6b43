// A logical unit: the queue of tasks for one device, task management (ABORT TASK, LUN RESET,
// I_T nexus loss), unit attentions, reservations and medium-removal state, in one place so no
// device re-implements them. Everything here runs as the library's clock work: on its thread, or
// on a transport thread inside Clock::execute (one at a time either way).
#pragma once

#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "core/clock.h"
#include "core/command_set.h"
#include "core/lu_hooks.h"
#include "core/task.h"
#include "core/unit_attention.h"
#include "device/device.h"
#include "spc/log_pages.h"
#include "spc/mode_pages.h"
#include "spc/vpd_pages.h"

namespace vtl {

class LogicalUnit {
public:
    struct Options {
        // One ordered command at a time (tape drives, a bridged changer LUN); immediate
        // commands still run at once.
        bool serial = true;
    };

    // `name` is "library/device"; it prefixes every log line.
    LogicalUnit(std::string name, Clock& clock, std::unique_ptr<Device> device, Options options);
    LogicalUnit(std::string name, Clock& clock, std::unique_ptr<Device> device)
        : LogicalUnit(std::move(name), clock, std::move(device), Options{}) {}
    ~LogicalUnit();
    LogicalUnit(const LogicalUnit&) = delete;
    LogicalUnit& operator=(const LogicalUnit&) = delete;

    // Transport entry points.
    void submit(const TaskPtr& task);
    // Hands the outcome of a task a handler kept (Result::pending) back. Ignored if the task
    // was aborted meanwhile.
    void complete(const TaskPtr& task, Result result);
    bool abort_task(const Nexus& nexus, uint64_t tag);
    // Ends a task the device gave up on (a bridge timer): its abort handler runs as for ABORT
    // TASK (the operation behind it follows its abort policy), then it completes with `result`.
    void expire(const TaskPtr& task, Result result);
    void lun_reset(const Nexus& by);
    void nexus_loss(const Nexus& nexus);

    // Fault plan, trace, statistics (core/lu_hooks.h). Not owned; remove before destroying.
    void add_hooks(LuHooks* hooks);
    void remove_hooks(LuHooks* hooks);
    // Runs the handler of a task a LuHooks::before kept (after a delay).
    void run(const TaskPtr& task);

    // For device semantics and SPC handlers.
    const std::string& name() const { return name_; }
    Clock& clock() { return clock_; }
    Device& device() { return *device_; }
    CommandSet& commands() { return commands_; }
    ModePages& mode_pages() { return mode_pages_; }
    LogPages& log_pages() { return log_pages_; }
    VpdPages& vpd_pages() { return vpd_pages_; }
    UnitAttentions& unit_attentions() { return unit_attentions_; }
    spdlog::logger& log() { return *log_; }

    // Sense format for this nexus: descriptor when the control mode page's D_SENSE is set.
    scsi::SenseFormat sense_format() const;

    // RESERVE/RELEASE (6/10): the holder, if any.
    const std::optional<Nexus>& reservation() const { return reserved_by_; }
    void reserve(const Nexus& nexus) { reserved_by_ = nexus; }
    void release(const Nexus& nexus);

    // PREVENT ALLOW MEDIUM REMOVAL: prevented while any nexus prevents it.
    void set_prevent(const Nexus& nexus, bool prevent);
    bool medium_removal_prevented() const { return !preventing_.empty(); }

    size_t tasks_in_flight() const { return active_.size() + waiting_.size(); }

private:
    void start(const TaskPtr& task);
    void finish(const TaskPtr& task, Result result);
    void abort_one(const TaskPtr& task);
    void dispatch_waiting();
    bool ordered_running() const;
    void run_handler(const TaskPtr& task, const CommandInfo& info);

    std::string name_;
    Clock& clock_;
    std::unique_ptr<Device> device_;
    Options options_;
    std::shared_ptr<spdlog::logger> log_;
    CommandSet commands_;
    ModePages mode_pages_;
    LogPages log_pages_;
    VpdPages vpd_pages_;
    UnitAttentions unit_attentions_;
    std::optional<Nexus> reserved_by_;
    std::set<std::string> preventing_;  // Nexus::key() of every nexus preventing removal
    std::vector<TaskPtr> active_;        // started, not yet complete
    std::deque<TaskPtr> waiting_;        // ordered tasks behind the one in progress
    // Set during task management: queued tasks start only once its cleanup is done.
    bool managing_ = false;
    std::vector<LuHooks*> hooks_;
};

// What a handler sees: its task and the logical unit that runs it.
class Exec {
public:
    Exec(LogicalUnit& lu, const TaskPtr& task) : lu_(lu), task_(task) {}
    LogicalUnit& lu() { return lu_; }
    const TaskPtr& task() { return task_; }
    std::span<const uint8_t> cdb() const { return task_->cdb(); }
    std::span<const uint8_t> data_out() const { return task_->command().data_out; }
    const Nexus& nexus() const { return task_->nexus(); }

private:
    LogicalUnit& lu_;
    const TaskPtr& task_;
};

}  // namespace vtl
