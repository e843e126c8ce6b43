// The only source of time in the core. Everything that waits (robot motions, loads, bridge
// timers, fault delays) is a timer on a Clock; the clock also runs posted work, so a library's
// state is touched by one thread at a time: the thread that drives its clock, or a transport
// thread running a command through execute() while it holds the clock's work lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace vtl {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
public:
    using Callback = std::function<void()>;
    using TimerId = uint64_t;

    virtual ~Clock() = default;

    virtual TimePoint now() const = 0;
    // Calendar time, for timestamps the standards report (MAM dates, log entries).
    virtual WallTime wall_now() const = 0;

    // Runs `cb` on the clock's thread at `deadline` (or at once if it has passed). Timers with
    // the same deadline run in the order they were scheduled.
    virtual TimerId schedule_at(TimePoint deadline, Callback cb) = 0;
    TimerId schedule_after(Duration delay, Callback cb) { return schedule_at(now() + delay, std::move(cb)); }
    // True if the timer was pending and will now never run.
    virtual bool cancel(TimerId id) = 0;
    // Runs `cb` on the clock's thread as soon as possible; safe from any thread.
    virtual void post(Callback cb) = 0;
    // Runs `cb` as the clock's work, but on the calling thread and before returning, with no
    // other work of this clock running meanwhile; what it posts runs before execute() returns
    // too. A transport thread serves a command this way without handing it to the clock's
    // thread and back. A clock that cannot (a VirtualClock, driven by the test's own thread)
    // posts it.
    virtual void execute(Callback cb) { post(std::move(cb)); }
};

}  // namespace vtl
