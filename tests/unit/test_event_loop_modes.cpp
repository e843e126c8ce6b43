// The daemon's clock in its three modes: real, scaled (xN) and virtual (time stands still until
// advance()). Real threads, but the assertions are on ordering and on virtual-time values; the
// few real-time bounds are generous.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "core/event_loop.h"

using namespace std::chrono_literals;
using vtl::ClockMode;
using vtl::Duration;
using vtl::EventLoop;
using vtl::TimePoint;

namespace {

// What timers saw, from whichever thread ran them.
struct Log {
    std::mutex mutex;
    std::vector<std::pair<int, Duration>> fired;  // (timer, now() - t0)
    void add(int id, Duration at) {
        std::lock_guard lock(mutex);
        fired.emplace_back(id, at);
    }
    std::vector<std::pair<int, Duration>> get() {
        std::lock_guard lock(mutex);
        return fired;
    }
};

}  // namespace

TEST(EventLoopModes, RealByDefaultFollowingTheSteadyClock) {
    EventLoop loop;
    const auto s = loop.state();
    EXPECT_EQ(s.mode, ClockMode::Real);
    EXPECT_EQ(s.scale, 1.0);
    EXPECT_STREQ(vtl::to_string(s.mode), "real");
    const auto before = std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
    const auto now = loop.now();
    const auto after = std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
    EXPECT_LE(before, now);
    EXPECT_LE(now, after);
}

TEST(EventLoopModes, VirtualTimeStandsStillUntilAdvanced) {
    EventLoop loop;
    loop.start();
    loop.set_virtual();
    EXPECT_EQ(loop.state().mode, ClockMode::Virtual);
    EXPECT_EQ(loop.state().scale, 0.0);
    const TimePoint t0 = loop.now();
    Log log;
    loop.schedule_after(12min, [&] { log.add(3, loop.now() - t0); });
    loop.schedule_after(5min, [&] { log.add(1, loop.now() - t0); });
    loop.schedule_after(5min, [&] { log.add(2, loop.now() - t0); });  // same deadline: FIFO

    // Posted work still runs at once; time does not move.
    std::promise<TimePoint> seen;
    loop.post([&] { seen.set_value(loop.now()); });
    EXPECT_EQ(seen.get_future().get(), t0);
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(loop.now(), t0);
    EXPECT_TRUE(log.get().empty());

    loop.advance(5min);  // returns once the due timers have run
    EXPECT_EQ(log.get(), (std::vector<std::pair<int, Duration>>{{1, 5min}, {2, 5min}}));
    EXPECT_EQ(loop.now() - t0, Duration(5min));

    loop.advance(7min - 1ns);
    EXPECT_EQ(log.get().size(), 2u);
    loop.advance(1ns);
    EXPECT_EQ(log.get(), (std::vector<std::pair<int, Duration>>{{1, 5min}, {2, 5min}, {3, 12min}}));
    EXPECT_EQ(loop.now() - t0, Duration(12min));
    loop.stop();
}

TEST(EventLoopModes, TimersScheduledDuringAJumpFireWithinIt) {
    EventLoop loop;
    loop.start();
    loop.set_virtual();
    const TimePoint t0 = loop.now();
    Log log;
    int chain = 0;  // touched on the loop thread only
    std::function<void()> next = [&] {
        log.add(++chain, loop.now() - t0);
        if (chain < 5) loop.schedule_after(10s, next);
    };
    loop.schedule_after(10s, next);
    loop.advance(45s);
    EXPECT_EQ(log.get(), (std::vector<std::pair<int, Duration>>{{1, 10s}, {2, 20s}, {3, 30s}, {4, 40s}}));
    loop.advance(5s);
    EXPECT_EQ(log.get().size(), 5u);
    EXPECT_EQ(log.get().back(), std::make_pair(5, Duration(50s)));
    loop.stop();
}

TEST(EventLoopModes, AdvanceOnTheLoopThreadRunsTimersBeforeReturning) {
    EventLoop loop;
    loop.start();
    loop.set_virtual();
    const TimePoint t0 = loop.now();
    Log log;
    loop.schedule_after(30s, [&] { log.add(1, loop.now() - t0); });
    std::promise<void> done;
    loop.post([&] {
        EXPECT_TRUE(loop.on_loop_thread());
        loop.advance(1min);  // the control socket's `clock advance`, posted to the loop
        log.add(2, loop.now() - t0);
        done.set_value();
    });
    done.get_future().get();
    EXPECT_EQ(log.get(), (std::vector<std::pair<int, Duration>>{{1, 30s}, {2, 1min}}));
    loop.stop();
}

TEST(EventLoopModes, AdvanceWithoutALoopThreadRunsOnTheCaller) {
    EventLoop loop;
    loop.set_virtual();
    const TimePoint t0 = loop.now();
    std::vector<std::thread::id> ran_on;
    std::vector<Duration> at;
    loop.schedule_after(2h, [&] {
        ran_on.push_back(std::this_thread::get_id());
        at.push_back(loop.now() - t0);
    });
    loop.post([&] {
        ran_on.push_back(std::this_thread::get_id());
        at.push_back(loop.now() - t0);
    });
    loop.advance(3h);
    ASSERT_EQ(ran_on.size(), 2u);
    EXPECT_EQ(ran_on[0], std::this_thread::get_id());
    EXPECT_EQ(at, (std::vector<Duration>{0s, 2h}));
    EXPECT_EQ(loop.now() - t0, Duration(3h));
}

TEST(EventLoopModes, CancelledTimerDoesNotFireOnAdvance) {
    EventLoop loop;
    loop.start();
    loop.set_virtual();
    std::atomic<bool> ran{false};
    const auto id = loop.schedule_after(1min, [&] { ran = true; });
    EXPECT_TRUE(loop.cancel(id));
    loop.advance(1h);
    EXPECT_FALSE(ran);
    loop.stop();
}

TEST(EventLoopModes, NowNeverGoesBackwardsAcrossModeChanges) {
    EventLoop loop;
    loop.start();
    TimePoint last = loop.now();
    auto check = [&](const char* where) {
        const TimePoint t = loop.now();
        EXPECT_GE(t, last) << where;
        last = t;
    };
    loop.set_scaled(1000);
    EXPECT_EQ(loop.state().mode, ClockMode::Scaled);
    EXPECT_EQ(loop.state().scale, 1000.0);
    check("scaled");
    std::this_thread::sleep_for(20ms);
    check("scaled, later");
    loop.set_virtual();
    check("virtual");
    const TimePoint frozen = loop.now();
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(loop.now(), frozen);
    loop.advance(10min);
    EXPECT_EQ(loop.now() - frozen, Duration(10min));
    check("advanced");
    loop.set_real();
    check("real again");
    EXPECT_GE(loop.now() - frozen, Duration(10min));
    loop.set_virtual();
    check("virtual again");
    loop.set_real();
    loop.set_scaled(0.5);
    check("slowed");
    loop.stop();
}

TEST(EventLoopModes, ScaledTimeFiresLongTimersSoon) {
    EventLoop loop;
    loop.start();
    loop.set_scaled(1000);
    const TimePoint t0 = loop.now();
    std::promise<Duration> fired;
    loop.schedule_after(10s, [&] { fired.set_value(loop.now() - t0); });
    auto f = fired.get_future();
    // 10 ms of wall time at x1000; far below the 10 s it would take in real mode.
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_GE(f.get(), Duration(10s));
    loop.stop();
}

TEST(EventLoopModes, SwitchingToVirtualHoldsTimersOfScaledTime) {
    EventLoop loop;
    loop.start();
    loop.set_scaled(100);
    std::atomic<bool> ran{false};
    std::atomic<int64_t> late_by{-1};
    const TimePoint deadline = loop.now() + 1h;  // 36 s of wall time at x100
    loop.schedule_at(deadline, [&] {
        late_by = (loop.now() - deadline).count();
        ran = true;
    });
    loop.set_virtual();
    const TimePoint frozen = loop.now();
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(ran);
    loop.advance(deadline - frozen);
    EXPECT_TRUE(ran);
    EXPECT_EQ(late_by, 0);  // it saw its own deadline as now()
    // Back to scaled time, the clock runs on from where virtual time left it.
    loop.set_scaled(100);
    EXPECT_GE(loop.now(), deadline);
    loop.stop();
}

TEST(EventLoopModes, SpeedingUpWakesTheLoopForTimersAlreadyWaitedOn) {
    EventLoop loop;
    loop.start();
    std::promise<void> fired;
    loop.schedule_after(1h, [&] { fired.set_value(); });
    std::this_thread::sleep_for(10ms);  // the loop now sleeps towards a real-time hour
    loop.set_scaled(1e6);               // an hour becomes 3.6 ms
    EXPECT_EQ(fired.get_future().wait_for(5s), std::future_status::ready);
    loop.stop();
}

TEST(EventLoopModes, ThirteenMinuteRecoveryAtSixtyTimesRunsOnScaledTime) {
    // The scenario in miniature: a timer 13 minutes out at x60 fires in about 13 s of
    // wall time, so here only ordering is asserted: 100 ms of scaled time is 6 s of clock time.
    EventLoop loop;
    loop.start();
    loop.set_scaled(60);
    const TimePoint t0 = loop.now();
    std::atomic<bool> recovered{false};
    loop.schedule_after(13min, [&] { recovered = true; });
    std::this_thread::sleep_for(100ms);
    const Duration elapsed = loop.now() - t0;
    EXPECT_GE(elapsed, Duration(6s));
    EXPECT_FALSE(recovered);
    loop.set_virtual();
    loop.advance(13min);  // jump the rest at once
    EXPECT_TRUE(recovered);
    loop.stop();
}

TEST(EventLoopModes, WallTimeFollowsTheClockOffset) {
    EventLoop loop;
    loop.set_virtual();
    const auto w0 = loop.wall_now();
    loop.advance(90min);
    const auto moved = loop.wall_now() - w0;
    // Within the sampling jitter of the system and steady clocks.
    EXPECT_GE(moved, std::chrono::system_clock::duration(90min - 1ms));
    EXPECT_LT(moved, std::chrono::system_clock::duration(91min));  // virtual: the wall clock stood still too
    std::this_thread::sleep_for(20ms);
    const auto w1 = loop.wall_now();
    EXPECT_LT(std::chrono::abs(loop.wall_now() - w1), std::chrono::system_clock::duration(1ms));
    // In real mode with no jump, it is the system clock.
    EventLoop real;
    const auto sys = std::chrono::system_clock::now();
    EXPECT_LT(std::chrono::abs(real.wall_now() - sys), std::chrono::system_clock::duration(1s));
}

TEST(EventLoopModes, RejectsScalesThatAreNotPositive) {
    EventLoop loop;
    EXPECT_THROW(loop.set_scaled(0), std::invalid_argument);
    EXPECT_THROW(loop.set_scaled(-2), std::invalid_argument);
    EXPECT_THROW(loop.set_scaled(std::nan("")), std::invalid_argument);
    EXPECT_THROW(loop.set_scaled(INFINITY), std::invalid_argument);
    EXPECT_EQ(loop.state().mode, ClockMode::Real);
}

TEST(EventLoopModes, StopsWithTimersPendingInVirtualTime) {
    EventLoop loop;
    loop.start();
    loop.set_virtual();
    std::atomic<bool> ran{false};
    loop.schedule_after(1s, [&] { ran = true; });
    std::promise<void> posted;
    loop.post([&] { posted.set_value(); });
    posted.get_future().get();
    loop.stop();
    EXPECT_FALSE(ran);
}
