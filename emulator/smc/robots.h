// The library's robots (medium transport elements). Motions wait in one FIFO and each free
// robot takes the next; a motion has two timed phases: get the cartridge (travel, unload a
// drive if needed, pick), then deliver it (travel, place). While it is carried the cartridge is
// in the robot's own element, as READ ELEMENT STATUS shows on real libraries.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "scsi/sense.h"

namespace vtl::smc {

using MotionId = uint64_t;

enum class MotionPhase { Queued, Picking, Carrying, Done };

struct Motion {
    uint16_t source = 0;
    uint16_t destination = 0;
    std::optional<uint16_t> transport;  // a robot the host named, or any
    Duration pick_time{};   // from start to the cartridge being in the gripper
    Duration place_time{};  // from the gripper to the destination
    // Run when a robot takes the motion, before its first timer: may fail it at once (nothing
    // has moved yet) or lengthen the pick phase (a drive that has to unload first).
    std::function<std::optional<scsi::Sense>(uint16_t robot, Duration& pick_time)> started;
    // False while another robot works on one of its elements: robots pass it over (and take it
    // once a motion ends) instead of colliding.
    std::function<bool()> ready;
    // Run on the clock thread at each phase change; `picked` moves the cartridge into the
    // robot's element, `placed` out of it. Either may fail the motion by returning a sense.
    // At the end of the pick phase, before `picked`: true holds the robot at the source until
    // `resume` is called (a drive still unloading), then it asks again.
    std::function<bool(uint16_t robot, std::function<void()> resume)> hold_pick;
    std::function<std::optional<scsi::Sense>(uint16_t robot)> picked;
    std::function<std::optional<scsi::Sense>(uint16_t robot)> placed;
    // The motion's end: nullopt on success.
    std::function<void(std::optional<scsi::Sense>)> done;
};

// An injected robot fault (the fault plan's robot recovery): the motion fails inside the library,
// which recovers the way real ones do (recalibrate, retry, hand the move to another robot) for
// `recovery`, then carries on, or gives up and ends the motion with `sense` before anything
// moved.
struct MotionFault {
    Duration recovery{};
    std::optional<scsi::Sense> sense;  // nullopt: the recovery works and the motion completes
};
// When a running motion started and when it is due to end, recoveries included (a hold at the
// source while a drive unloads comes on top). MOVE QUERY's progress comes from it.
struct MotionSpan {
    TimePoint started{};
    TimePoint due{};
};

// Asked as a robot takes a motion; nullopt means no fault.
using MotionFaultHook = std::function<std::optional<MotionFault>(uint16_t robot, const Motion& motion)>;

class Robots {
public:
    // `addresses` are the medium transport elements' addresses, one per robot.
    Robots(Clock& clock, std::vector<uint16_t> addresses);
    ~Robots();
    Robots(const Robots&) = delete;
    Robots& operator=(const Robots&) = delete;

    MotionId enqueue(Motion motion);
    // Ahead of every waiting motion: the second half of an EXCHANGE MEDIUM, chained on the robot
    // that did the first (name it in `transport`).
    MotionId enqueue_front(Motion motion);
    MotionPhase phase(MotionId id) const;
    // Removes a motion that has not started; false if it has started or ended.
    bool cancel_queued(MotionId id);
    // The robot carrying or picking for a motion, if any.
    std::optional<uint16_t> robot_of(MotionId id) const;
    // nullopt unless the motion is running.
    std::optional<MotionSpan> span(MotionId id) const;

    void set_fault_hook(MotionFaultHook hook) { fault_hook_ = std::move(hook); }

    size_t queued() const { return queue_.size(); }
    size_t busy() const;
    const std::vector<uint16_t>& addresses() const { return addresses_; }

private:
    struct Running {
        MotionId id;
        Motion motion;
        MotionPhase phase;
        Clock::TimerId timer = 0;
        MotionSpan span{};
    };
    void dispatch();
    void start(size_t robot, MotionId id, Motion motion);
    void phase_done(size_t robot, MotionId id);
    void finish(size_t robot, std::optional<scsi::Sense> result);

    Clock& clock_;
    std::vector<uint16_t> addresses_;
    std::vector<std::optional<Running>> robots_;  // by robot index
    std::deque<std::pair<MotionId, Motion>> queue_;
    MotionId next_id_ = 1;
    bool dispatching_ = false;
    MotionFaultHook fault_hook_;
};

}  // namespace vtl::smc
