// The real clock: one thread that runs posted work and timers for a library. A transport
// thread either posts a command into it or runs it itself through execute(): the work lock
// keeps every piece of the library's work, on whichever thread, one at a time.
//
// Its time runs in one of three modes, switched at run time (the control socket's `clock`):
// - Real: now() moves with the steady clock;
// - Scaled (xN): now() moves N times faster than the steady clock, so a 13-minute robot
//   recovery at x60 takes 13 s of wall time;
// - Virtual: now() stands still; advance(d) jumps it and runs every timer due on the way in
//   deadline order, each seeing its own deadline as now(), as a VirtualClock does.
// now() is continuous across mode changes: it never goes backwards, and a change only alters
// how fast it moves from then on. wall_now() is the system clock plus the offset now() has
// gained on the steady clock, so calendar dates (MAM, the trace) see the jumps and the scaled
// time too (after advance(12min) a cartridge's MAM says 12 minutes later; in virtual mode the
// calendar stands still), while a step of the system clock (NTP at boot) still shows. It never
// goes backwards.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "core/clock.h"
#include "core/timer_queue.h"

namespace vtl {

enum class ClockMode { Real, Scaled, Virtual };
const char* to_string(ClockMode mode);  // "real", "scaled", "virtual"

struct ClockState {
    ClockMode mode = ClockMode::Real;
    double scale = 1.0;  // how many times faster than wall time: 1 in real mode, 0 in virtual
    TimePoint now{};
};

class EventLoop final : public Clock {
public:
    EventLoop();
    ~EventLoop() override { stop(); }
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    TimePoint now() const override;
    WallTime wall_now() const override;
    TimerId schedule_at(TimePoint deadline, Callback cb) override;
    bool cancel(TimerId id) override;
    void post(Callback cb) override;
    // Takes the work lock, runs `cb` and what it posts on this thread, then, with the lock
    // released, what it deferred (defer_unlocked: a drive's store I/O), then, locked again, what
    // that posted, until nothing is left. On the loop thread or inside work it just runs `cb`.
    void execute(Callback cb) override;

    // Starts the loop thread; stop() finishes the work already posted, then joins.
    void start();
    void stop();
    bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

    // Clock modes; safe from any thread. set_scaled throws std::invalid_argument unless
    // 0 < factor (finite).
    void set_real();
    void set_scaled(double factor);
    void set_virtual();
    // Moves time forward by `d` (in any mode; virtual is where it matters) and runs every timer
    // due up to the new time, and the work they post, before returning. On the loop thread, or
    // when the loop is not started, it runs them itself; from another thread it hands the jump
    // to the loop thread and waits for it. Negative durations are ignored.
    void advance(Duration d);
    ClockState state() const;

private:
    using SteadyTime = std::chrono::steady_clock::time_point;

    void run();
    void advance_here(Duration d);
    // Runs posted work and timers due at now(); the caller is the only thread running work.
    void run_due(std::unique_lock<std::mutex>& lock);
    TimePoint now_locked(SteadyTime steady) const;
    // Starts counting from `now` at this instant (a mode change, a jump).
    void rebase(TimePoint now, SteadyTime steady);
    // When, on the steady clock, now() reaches `deadline` (nullopt: never, in virtual mode).
    std::optional<SteadyTime> steady_time_of(TimePoint deadline, SteadyTime steady) const;

    // Held while any work of this loop runs (the loop thread's, or an execute()'s); taken
    // before mutex_ when both are held.
    std::mutex work_mutex_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    TimerQueue timers_;
    std::deque<Callback> ready_;
    bool stopping_ = false;
    bool running_ = false;  // the loop thread is in run() and will still take posted work
    std::thread thread_;

    // now() = base_ + (steady - base_steady_) * scale_ (scale_ 0 in virtual mode).
    ClockMode mode_ = ClockMode::Real;
    double scale_ = 1.0;
    TimePoint base_{};
    SteadyTime base_steady_{};
    mutable WallTime last_wall_{};  // wall_now() never goes backwards
};

// Inside EventLoop::execute on this thread (and not in its deferred part): defer_unlocked(fn)
// runs fn on this thread once the command's work is done and the work lock released, in order.
// A drive's I/O executor uses it to run store I/O on the transport's thread, off the lock.
bool can_defer_unlocked();
void defer_unlocked(std::function<void()> fn);

}  // namespace vtl
