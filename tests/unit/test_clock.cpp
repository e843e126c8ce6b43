// The virtual clock: timers fire in deadline order, each seeing its own deadline as now().
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "core/event_loop.h"
#include "core/virtual_clock.h"

using namespace std::chrono_literals;
using vtl::VirtualClock;

TEST(VirtualClock, TwelveMinutesAtOnceFiresTimersInOrder) {
    VirtualClock clock;
    std::vector<std::pair<int, vtl::Duration>> fired;
    const auto t0 = clock.now();
    clock.schedule_after(720s, [&] { fired.emplace_back(3, clock.now() - t0); });
    clock.schedule_after(300s, [&] { fired.emplace_back(1, clock.now() - t0); });
    clock.schedule_after(300s, [&] { fired.emplace_back(2, clock.now() - t0); });  // same deadline: FIFO
    clock.schedule_after(721s, [&] { fired.emplace_back(4, clock.now() - t0); });
    clock.advance(12min);
    ASSERT_EQ(fired.size(), 3u);
    EXPECT_EQ(fired[0], std::make_pair(1, vtl::Duration(300s)));
    EXPECT_EQ(fired[1], std::make_pair(2, vtl::Duration(300s)));
    EXPECT_EQ(fired[2], std::make_pair(3, vtl::Duration(720s)));
    EXPECT_EQ(clock.now() - t0, vtl::Duration(12min));
    EXPECT_EQ(clock.pending_timers(), 1u);
}

TEST(VirtualClock, TimersScheduledByTimersFireWithinTheSameAdvance) {
    VirtualClock clock;
    int chain = 0;
    std::function<void()> next = [&] {
        if (++chain < 5) clock.schedule_after(10s, next);
    };
    clock.schedule_after(10s, next);
    clock.advance(45s);
    EXPECT_EQ(chain, 4);
    clock.advance(5s);
    EXPECT_EQ(chain, 5);
}

TEST(VirtualClock, CancelledTimerNeverRuns) {
    VirtualClock clock;
    bool ran = false;
    auto id = clock.schedule_after(1s, [&] { ran = true; });
    EXPECT_TRUE(clock.cancel(id));
    EXPECT_FALSE(clock.cancel(id));
    clock.advance(1h);
    EXPECT_FALSE(ran);
}

TEST(VirtualClock, PostedWorkRunsBeforeTimeMoves) {
    VirtualClock clock;
    std::vector<int> order;
    clock.schedule_after(0s, [&] { order.push_back(2); });
    clock.post([&] { order.push_back(1); });
    clock.run_ready();
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(VirtualClock, WallTimeFollowsVirtualTime) {
    VirtualClock clock;
    const auto w0 = clock.wall_now();
    clock.advance(90min);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::minutes>(clock.wall_now() - w0).count(), 90);
}

TEST(EventLoop, RunsPostedWorkAndTimersOnItsThread) {
    vtl::EventLoop loop;
    loop.start();
    std::promise<bool> on_thread;
    std::promise<void> timer;
    loop.post([&] { on_thread.set_value(loop.on_loop_thread()); });
    loop.schedule_after(1ms, [&] { timer.set_value(); });
    EXPECT_TRUE(on_thread.get_future().get());
    EXPECT_EQ(timer.get_future().wait_for(5s), std::future_status::ready);
    std::atomic<bool> cancelled_ran{false};
    auto id = loop.schedule_after(1h, [&] { cancelled_ran = true; });
    EXPECT_TRUE(loop.cancel(id));
    loop.stop();
    EXPECT_FALSE(cancelled_ran);
}
