// A clock that moves only when told to: tests advance 12 minutes at once and every timer due
// in between fires in deadline order, each seeing now() equal to its own deadline.
#pragma once

#include <deque>

#include "core/clock.h"
#include "core/timer_queue.h"

namespace vtl {

class VirtualClock final : public Clock {
public:
    explicit VirtualClock(WallTime wall_epoch = WallTime(std::chrono::seconds(1'767'225'600)))  // 2026-01-01
        : wall_epoch_(wall_epoch) {}

    TimePoint now() const override { return now_; }
    WallTime wall_now() const override {
        return wall_epoch_ + std::chrono::duration_cast<WallTime::duration>(now_.time_since_epoch());
    }
    TimerId schedule_at(TimePoint deadline, Callback cb) override { return timers_.add(deadline, std::move(cb)); }
    bool cancel(TimerId id) override { return timers_.cancel(id); }
    // Posted work runs on the next run_ready() or advance(), on the test's thread.
    void post(Callback cb) override { ready_.push_back(std::move(cb)); }

    // Runs posted work and timers already due, without moving time.
    void run_ready();
    // Moves time forward by `d`, firing everything due on the way.
    void advance(Duration d);
    // Advances to the next timer and fires it (and anything posted meanwhile); false if none.
    bool step();
    size_t pending_timers() const { return timers_.size(); }

private:
    TimePoint now_{};
    WallTime wall_epoch_;
    TimerQueue timers_;
    std::deque<Callback> ready_;
};

}  // namespace vtl
