// The robots: one FIFO of motions, each free robot takes the oldest it may run; two timed phases
// with callbacks at each phase change; cancelling waiting motions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/virtual_clock.h"
#include "smc/robots.h"

using namespace vtl;
using namespace std::chrono_literals;
using smc::Motion;
using smc::MotionPhase;
using smc::Robots;

namespace {

// A motion that logs "<name>:started@<robot>", "picked", "placed", "done" with the time in seconds.
Motion logged(std::vector<std::string>& log, VirtualClock& clock, std::string name, Duration pick, Duration place) {
    auto t = [&clock] { return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count()); };
    Motion m;
    m.pick_time = pick;
    m.place_time = place;
    m.started = [&log, name, t](uint16_t robot, Duration&) -> std::optional<scsi::Sense> {
        log.push_back(name + ":started@" + std::to_string(robot) + "@" + t());
        return std::nullopt;
    };
    m.picked = [&log, name, t](uint16_t) -> std::optional<scsi::Sense> {
        log.push_back(name + ":picked@" + t());
        return std::nullopt;
    };
    m.placed = [&log, name, t](uint16_t) -> std::optional<scsi::Sense> {
        log.push_back(name + ":placed@" + t());
        return std::nullopt;
    };
    m.done = [&log, name, t](std::optional<scsi::Sense> s) { log.push_back(name + (s ? ":failed@" : ":done@") + t()); };
    return m;
}

}  // namespace

TEST(Robots, OneRobotRunsMotionsInOrderWithTimedPhases) {
    VirtualClock clock;
    Robots robots(clock, {0x0000});
    std::vector<std::string> log;
    const auto a = robots.enqueue(logged(log, clock, "a", 5s, 4s));
    const auto b = robots.enqueue(logged(log, clock, "b", 2s, 1s));
    EXPECT_EQ(robots.phase(a), MotionPhase::Picking);
    EXPECT_EQ(robots.phase(b), MotionPhase::Queued);
    EXPECT_EQ(robots.queued(), 1u);
    EXPECT_EQ(robots.busy(), 1u);
    EXPECT_EQ(robots.robot_of(a), 0x0000);
    EXPECT_EQ(robots.robot_of(b), std::nullopt);
    clock.advance(5s);
    EXPECT_EQ(robots.phase(a), MotionPhase::Carrying);
    clock.advance(100s);
    EXPECT_EQ(robots.phase(a), MotionPhase::Done);
    EXPECT_EQ(robots.phase(b), MotionPhase::Done);
    EXPECT_EQ(log, (std::vector<std::string>{"a:started@0@0", "a:picked@5", "a:placed@9", "a:done@9", "b:started@0@9",
                                             "b:picked@11", "b:placed@12", "b:done@12"}));
    EXPECT_EQ(robots.busy(), 0u);
}

TEST(Robots, TwoRobotsWorkInParallelAndHonourANamedTransport) {
    VirtualClock clock;
    Robots robots(clock, {0x0000, 0x0001});
    std::vector<std::string> log;
    auto a = logged(log, clock, "a", 5s, 5s);
    a.transport = 0x0001;
    auto b = logged(log, clock, "b", 5s, 5s);
    b.transport = 0x0001;  // waits for robot 1 although robot 0 is free
    auto c = logged(log, clock, "c", 1s, 1s);
    robots.enqueue(std::move(a));
    robots.enqueue(std::move(b));
    robots.enqueue(std::move(c));
    clock.advance(30s);
    EXPECT_EQ(log, (std::vector<std::string>{"a:started@1@0", "c:started@0@0", "c:picked@1", "c:placed@2", "c:done@2",
                                             "a:picked@5", "a:placed@10", "a:done@10", "b:started@1@10", "b:picked@15",
                                             "b:placed@20", "b:done@20"}));
}

TEST(Robots, CancelRemovesOnlyWaitingMotions) {
    VirtualClock clock;
    Robots robots(clock, {0x0000});
    std::vector<std::string> log;
    const auto a = robots.enqueue(logged(log, clock, "a", 1s, 1s));
    const auto b = robots.enqueue(logged(log, clock, "b", 1s, 1s));
    EXPECT_FALSE(robots.cancel_queued(a));
    EXPECT_TRUE(robots.cancel_queued(b));
    EXPECT_FALSE(robots.cancel_queued(b));
    EXPECT_EQ(robots.phase(b), MotionPhase::Done);
    clock.advance(10s);
    EXPECT_EQ(log.back(), "a:done@2");
    EXPECT_EQ(log.size(), 4u);
}

TEST(Robots, StartedCanFailOrLengthenThePickAndPickedCanFail) {
    VirtualClock clock;
    Robots robots(clock, {0x0000});
    std::vector<std::string> log;
    auto refused = logged(log, clock, "r", 1s, 1s);
    refused.started = [](uint16_t, Duration&) -> std::optional<scsi::Sense> {
        return scsi::Sense::illegal_request(scsi::asc::kMediumSourceElementEmpty);
    };
    auto longer = logged(log, clock, "l", 1s, 1s);
    longer.started = [](uint16_t, Duration& pick) -> std::optional<scsi::Sense> {
        pick += 10s;
        return std::nullopt;
    };
    auto broken = logged(log, clock, "b", 1s, 1s);
    broken.picked = [](uint16_t) -> std::optional<scsi::Sense> {
        return scsi::Sense(scsi::SenseKey::HardwareError, scsi::asc::kMediaLoadOrEjectFailed);
    };
    robots.enqueue(std::move(refused));
    robots.enqueue(std::move(longer));
    robots.enqueue(std::move(broken));
    clock.advance(60s);
    EXPECT_EQ(log, (std::vector<std::string>{"r:failed@0", "l:picked@11", "l:placed@12", "l:done@12", "b:started@0@12",
                                             "b:failed@13"}));
}

TEST(Robots, ChainedMotionGoesFirstAndNotReadyMotionsArePassedOver) {
    VirtualClock clock;
    Robots robots(clock, {0x0000});
    std::vector<std::string> log;
    bool blocked = true;
    auto first = logged(log, clock, "first", 1s, 1s);
    auto inner_done = first.done;
    first.done = [&, inner_done](std::optional<scsi::Sense> s) {
        inner_done(s);
        auto next = logged(log, clock, "chained", 1s, 1s);
        next.transport = 0x0000;
        robots.enqueue_front(std::move(next));
    };
    auto waiting = logged(log, clock, "waiting", 1s, 1s);
    waiting.ready = [&blocked] { return !blocked; };
    auto other = logged(log, clock, "other", 1s, 1s);
    auto unblock = other.done;
    other.done = [&, unblock](std::optional<scsi::Sense> s) {
        unblock(s);
        blocked = false;
    };
    robots.enqueue(std::move(first));
    robots.enqueue(std::move(waiting));
    robots.enqueue(std::move(other));
    clock.advance(60s);
    EXPECT_EQ(log, (std::vector<std::string>{"first:started@0@0", "first:picked@1", "first:placed@2", "first:done@2",
                                             "chained:started@0@2", "chained:picked@3", "chained:placed@4",
                                             "chained:done@4", "other:started@0@4", "other:picked@5", "other:placed@6",
                                             "other:done@6", "waiting:started@0@6", "waiting:picked@7",
                                             "waiting:placed@8", "waiting:done@8"}));
}

TEST(Robots, DestroyedRobotsLeaveNoTimersBehind) {
    VirtualClock clock;
    {
        Robots robots(clock, {0x0000});
        std::vector<std::string> log;
        robots.enqueue(logged(log, clock, "a", 5s, 5s));
    }
    EXPECT_EQ(clock.pending_timers(), 0u);
    clock.advance(20s);
}

TEST(Robots, InjectedRecoveryLengthensTheMotionOrFailsItAfterTheRecoveryTime) {
    VirtualClock clock;
    Robots robots(clock, {0x0000});
    std::vector<std::string> log;
    int asked = 0;
    robots.set_fault_hook([&](uint16_t, const Motion&) -> std::optional<smc::MotionFault> {
        ++asked;
        if (asked == 1) return smc::MotionFault{13min, std::nullopt};
        if (asked == 2) return smc::MotionFault{2min, scsi::Sense(scsi::SenseKey::HardwareError, {0x15, 0x01})};
        return std::nullopt;
    });
    robots.enqueue(logged(log, clock, "a", 5s, 4s));
    robots.enqueue(logged(log, clock, "b", 5s, 4s));
    robots.enqueue(logged(log, clock, "c", 5s, 4s));
    clock.advance(1h);
    EXPECT_EQ(log, (std::vector<std::string>{"a:started@0@0", "a:picked@785", "a:placed@789", "a:done@789",
                                             "b:started@0@789", "b:failed@909", "c:started@0@909", "c:picked@914",
                                             "c:placed@918", "c:done@918"}));
}
