// The logical unit's own duties, independent of any command family: unit attentions per I_T
// nexus, ordered and immediate queueing, asynchronous completion, ABORT TASK, LUN RESET,
// I_T nexus loss, reservations, and the checks every CDB passes before its handler.
#include <gtest/gtest.h>

#include <chrono>

#include "core/logical_unit.h"
#include "core/virtual_clock.h"
#include "initiator.h"
#include "sense_view.h"

using namespace std::chrono_literals;
using vtl::fixtures::decode_sense;
using vtl::fixtures::Initiator;
using vtl::scsi::Status;

namespace {

constexpr uint8_t kNoop = 0x00;       // ordered, answers at once
constexpr uint8_t kIdentify = 0x12;   // immediate, runs with a unit attention pending
constexpr uint8_t kSlow = 0xC0;       // ordered, completes after five virtual minutes
constexpr uint8_t kData = 0xC1;       // returns 100 bytes, allocation length in byte 4
constexpr uint8_t kMaint = 0xA3;      // has service actions: only 05h is known

// A device whose commands exist only to exercise the logical unit.
class ScriptedDevice final : public vtl::Device {
public:
    int slow_started = 0;
    int slow_finished = 0;
    int slow_aborted = 0;
    int resets = 0;
    int nexus_losses = 0;

    const vtl::DeviceIdentity& identity() const override { return identity_; }

    void attach(vtl::LogicalUnit& lu) override {
        lu_ = &lu;
        add(kNoop, {kNoop, 0, 0, 0, 0, 0x07}, vtl::Queueing::Ordered, [](vtl::Exec&) { return vtl::Result::good(); });
        add(kIdentify, {kIdentify, 0, 0, 0, 0, 0x07}, vtl::Queueing::Immediate,
            [](vtl::Exec&) { return vtl::Result::good({1, 2, 3}); }, vtl::UnitAttentionRule::Ignore);
        add(kData, {kData, 0, 0, 0, 0xFF, 0, 0, 0, 0, 0x07}, vtl::Queueing::Ordered, [](vtl::Exec& e) {
            std::vector<uint8_t> d(100);
            for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i);
            return vtl::Result::good(std::move(d), e.cdb()[4]);
        });
        add(kSlow, {kSlow, 0, 0, 0, 0, 0, 0, 0, 0, 0x07}, vtl::Queueing::Ordered, [this](vtl::Exec& e) {
            ++slow_started;
            vtl::TaskPtr task = e.task();
            auto timer = lu_->clock().schedule_after(5min, [this, task] {
                ++slow_finished;
                lu_->complete(task, vtl::Result::good({0xAA}));
            });
            task->on_abort([this, timer] {
                ++slow_aborted;
                lu_->clock().cancel(timer);
            });
            return vtl::Result::pending();
        });
        vtl::CommandInfo maint;
        maint.opcode = kMaint;
        maint.service_action = 0x05;
        maint.name = "MAINTENANCE IN (05h)";
        maint.usage = std::vector<uint8_t>(12, 0);
        maint.usage[0] = kMaint;
        maint.handler = [](vtl::Exec&) { return vtl::Result::good(); };
        lu.commands().add(maint);
    }
    void on_lun_reset() override { ++resets; }
    void on_nexus_loss(const vtl::Nexus&) override { ++nexus_losses; }

private:
    void add(uint8_t op, std::vector<uint8_t> usage, vtl::Queueing q, vtl::Handler h,
             vtl::UnitAttentionRule ua = vtl::UnitAttentionRule::Report) {
        vtl::CommandInfo c;
        c.opcode = op;
        c.name = "TEST " + std::to_string(op);
        c.usage = std::move(usage);
        c.queueing = q;
        c.unit_attention = ua;
        c.handler = std::move(h);
        lu_->commands().add(std::move(c));
    }
    vtl::DeviceIdentity identity_;
    vtl::LogicalUnit* lu_ = nullptr;
};

std::vector<uint8_t> slow() { return {kSlow, 0, 0, 0, 0, 0, 0, 0, 0, 0}; }
std::vector<uint8_t> noop() { return {kNoop, 0, 0, 0, 0, 0}; }

void expect_sense(const vtl::fixtures::Response& r, uint8_t key, uint8_t asc, uint8_t ascq) {
    ASSERT_EQ(r.status, Status::CheckCondition);
    auto s = decode_sense(r.sense);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->response_code, 0x70);
    EXPECT_EQ(s->key, key);
    EXPECT_EQ(s->asc, asc);
    EXPECT_EQ(s->ascq, ascq);
}

class LogicalUnitTest : public ::testing::Test {
protected:
    explicit LogicalUnitTest(bool serial = true)
        : lu("lib0/test", clock, std::make_unique<ScriptedDevice>(), vtl::LogicalUnit::Options{serial}),
          device(static_cast<ScriptedDevice&>(lu.device())),
          a(lu, clock, "iqn.test:a"),
          b(lu, clock, "iqn.test:b") {}
    vtl::VirtualClock clock;
    vtl::LogicalUnit lu;
    ScriptedDevice& device;
    Initiator a;
    Initiator b;
};

class ConcurrentLogicalUnitTest : public LogicalUnitTest {
protected:
    ConcurrentLogicalUnitTest() : LogicalUnitTest(false) {}
};

}  // namespace

TEST_F(LogicalUnitTest, EachNexusGetsPowerOnAttentionOnceOnFirstContact) {
    expect_sense(a.send(noop()), 0x06, 0x29, 0x00);
    EXPECT_EQ(a.send(noop()).status, Status::Good);
    expect_sense(b.send(noop()), 0x06, 0x29, 0x00);
    EXPECT_EQ(b.send(noop()).status, Status::Good);
}

TEST_F(LogicalUnitTest, ImmediateCommandWithIgnoreRuleRunsAndKeepsTheAttention) {
    auto r = a.send({kIdentify, 0, 0, 0, 3, 0}, 3);
    EXPECT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (std::vector<uint8_t>{1, 2, 3}));
    expect_sense(a.send(noop()), 0x06, 0x29, 0x00);  // still pending for the next command
}

TEST_F(LogicalUnitTest, AttentionIsReportedBeforeAnInvalidOpcode) {
    expect_sense(a.send({0x02, 0, 0, 0, 0, 0}), 0x06, 0x29, 0x00);
    expect_sense(a.send({0x02, 0, 0, 0, 0, 0}), 0x05, 0x20, 0x00);
}

TEST_F(LogicalUnitTest, UnknownServiceActionPointsAtTheServiceActionField) {
    a.clear_power_on_attention();
    std::vector<uint8_t> cdb(12, 0);
    cdb[0] = kMaint;
    cdb[1] = 0x05;
    EXPECT_EQ(a.send(cdb).status, Status::Good);
    cdb[1] = 0x06;
    auto r = a.send(cdb);
    expect_sense(r, 0x05, 0x24, 0x00);
    auto fp = decode_sense(r.sense)->field_pointer();
    ASSERT_TRUE(fp);
    EXPECT_EQ(fp->byte, 1);
    EXPECT_EQ(fp->bit, 4);
    EXPECT_TRUE(fp->in_cdb);
}

TEST_F(LogicalUnitTest, ControlByteNacaIsRefusedWithPointerAtTheLastByte) {
    a.clear_power_on_attention();
    auto cdb = slow();
    cdb[9] = 0x04;
    auto r = a.send(cdb);
    expect_sense(r, 0x05, 0x24, 0x00);
    EXPECT_EQ(decode_sense(r.sense)->field_pointer()->byte, 9);
    EXPECT_EQ(decode_sense(r.sense)->field_pointer()->bit, 2);
    EXPECT_EQ(device.slow_started, 0);
}

TEST_F(LogicalUnitTest, ShortAndEmptyCdbsAreRefused) {
    a.clear_power_on_attention();
    expect_sense(a.send({kSlow, 0, 0}), 0x05, 0x24, 0x00);
    expect_sense(a.send({}), 0x05, 0x20, 0x00);
    EXPECT_EQ(device.slow_started, 0);
}

TEST_F(LogicalUnitTest, DataInIsCutToAllocationAndToTheInitiatorsBuffer) {
    a.clear_power_on_attention();
    std::vector<uint8_t> cdb = {kData, 0, 0, 0, 60, 0, 0, 0, 0, 0};
    auto r = a.send(cdb, 200);  // allocation 60 of 100 bytes, buffer 200
    EXPECT_EQ(r.data.size(), 60u);
    EXPECT_EQ(r.residual, 140u);
    EXPECT_FALSE(r.overflow);
    EXPECT_EQ(r.data[59], 59);
    r = a.send(cdb, 16);  // the buffer is smaller than the allocation length
    EXPECT_EQ(r.data.size(), 16u);
    EXPECT_EQ(r.residual, 0u);
    EXPECT_TRUE(r.overflow);
}

TEST_F(LogicalUnitTest, SlowCommandCompletesWhenItsTimerFires) {
    a.clear_power_on_attention();
    auto p = a.submit(slow(), 1);
    EXPECT_FALSE(p.done());
    clock.advance(4min + 59s);
    EXPECT_FALSE(p.done());
    clock.advance(1s);
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, Status::Good);
    EXPECT_EQ(p.response().data, std::vector<uint8_t>{0xAA});
}

TEST_F(LogicalUnitTest, SerialUnitQueuesOrderedCommandsButRunsImmediateOnes) {
    a.clear_power_on_attention();
    b.clear_power_on_attention();
    auto first = a.submit(slow());
    auto second = b.submit(slow());
    auto quick = b.submit(noop());
    EXPECT_EQ(device.slow_started, 1);
    EXPECT_FALSE(quick.done());  // ordered: waits behind the slow ones
    auto ident = a.submit({kIdentify, 0, 0, 0, 3, 0}, 3);
    EXPECT_TRUE(ident.done());  // immediate: answered while the drive is busy
    clock.advance(5min);
    EXPECT_TRUE(first.done());
    EXPECT_FALSE(second.done());
    EXPECT_EQ(device.slow_started, 2);
    clock.advance(5min);
    EXPECT_TRUE(second.done());
    EXPECT_TRUE(quick.done());
    EXPECT_EQ(quick.response().status, Status::Good);
}

TEST_F(ConcurrentLogicalUnitTest, ConcurrentUnitRunsOrderedCommandsTogether) {
    a.clear_power_on_attention();
    b.clear_power_on_attention();
    auto first = a.submit(slow());
    auto second = b.submit(slow());
    EXPECT_EQ(device.slow_started, 2);
    clock.advance(5min);
    EXPECT_TRUE(first.done());
    EXPECT_TRUE(second.done());
}

TEST_F(LogicalUnitTest, AbortTaskCompletesAtOnceAndTheLateAnswerGoesNowhere) {
    a.clear_power_on_attention();
    auto running = a.submit(slow());
    auto behind = a.submit(noop());
    ASSERT_TRUE(a.abort(running));
    EXPECT_TRUE(running.done());
    EXPECT_EQ(running.response().status, Status::TaskAborted);
    EXPECT_EQ(device.slow_aborted, 1);
    EXPECT_TRUE(behind.done());  // the queue moved on
    EXPECT_EQ(behind.response().status, Status::Good);
    clock.advance(10min);
    EXPECT_EQ(device.slow_finished, 0);  // the timer was cancelled by the abort hook
    EXPECT_EQ(running.response().status, Status::TaskAborted);
    EXPECT_FALSE(a.abort(running));  // nothing left to abort
}

TEST_F(LogicalUnitTest, AbortOfAWaitingTaskNeverRunsIt) {
    a.clear_power_on_attention();
    auto running = a.submit(slow());
    auto waiting = a.submit(slow());
    ASSERT_TRUE(a.abort(waiting));
    EXPECT_EQ(waiting.response().status, Status::TaskAborted);
    clock.advance(20min);
    EXPECT_EQ(device.slow_started, 1);
    EXPECT_EQ(running.response().status, Status::Good);
}

TEST_F(LogicalUnitTest, AbortNeedsTheSameNexusAndTag) {
    a.clear_power_on_attention();
    auto running = a.submit(slow());
    EXPECT_FALSE(b.abort(running));  // same tag, other initiator
    EXPECT_FALSE(running.done());
}

TEST_F(LogicalUnitTest, LunResetAbortsEverythingAndTellsEveryNexus) {
    a.clear_power_on_attention();
    b.clear_power_on_attention();
    auto running = a.submit(slow());
    auto waiting = b.submit(slow());
    lu.reserve(a.nexus());
    b.lun_reset();
    EXPECT_EQ(running.response().status, Status::TaskAborted);
    EXPECT_EQ(waiting.response().status, Status::TaskAborted);
    EXPECT_EQ(device.slow_started, 1);
    EXPECT_EQ(device.resets, 1);
    EXPECT_FALSE(lu.reservation());
    expect_sense(a.send(noop()), 0x06, 0x29, 0x03);
    expect_sense(b.send(noop()), 0x06, 0x29, 0x03);
    EXPECT_EQ(lu.tasks_in_flight(), 0u);
}

TEST_F(LogicalUnitTest, NexusLossAbortsOnlyThatNexusAndReports2907OnReturn) {
    a.clear_power_on_attention();
    b.clear_power_on_attention();
    auto mine = a.submit(slow());
    auto theirs = b.submit(slow());
    lu.reserve(a.nexus());
    lu.set_prevent(a.nexus(), true);
    a.nexus_loss();
    EXPECT_EQ(mine.response().status, Status::TaskAborted);
    EXPECT_FALSE(theirs.done());
    EXPECT_EQ(device.slow_started, 2);  // b's command started when a's was aborted
    EXPECT_FALSE(lu.reservation());
    EXPECT_FALSE(lu.medium_removal_prevented());
    EXPECT_EQ(device.nexus_losses, 1);
    auto back = a.submit(noop());  // waits behind b's command on this serial unit
    EXPECT_FALSE(back.done());
    clock.advance(5min);
    EXPECT_EQ(theirs.response().status, Status::Good);
    ASSERT_TRUE(back.done());
    expect_sense(back.response(), 0x06, 0x29, 0x07);
}

TEST_F(LogicalUnitTest, ReservationConflictsForOtherNexusesOnly) {
    a.clear_power_on_attention();
    b.clear_power_on_attention();
    lu.reserve(a.nexus());
    EXPECT_EQ(b.send(noop()).status, Status::ReservationConflict);
    EXPECT_EQ(a.send(noop()).status, Status::Good);
    lu.release(b.nexus());  // not the holder: nothing happens
    EXPECT_EQ(b.send(noop()).status, Status::ReservationConflict);
    lu.release(a.nexus());
    EXPECT_EQ(b.send(noop()).status, Status::Good);
}

TEST_F(LogicalUnitTest, PreventStateIsHeldWhileAnyNexusPrevents) {
    lu.set_prevent(a.nexus(), true);
    lu.set_prevent(b.nexus(), true);
    lu.set_prevent(a.nexus(), false);
    EXPECT_TRUE(lu.medium_removal_prevented());
    lu.set_prevent(b.nexus(), false);
    EXPECT_FALSE(lu.medium_removal_prevented());
}

TEST_F(LogicalUnitTest, AttentionsQueueInOrderWithoutDuplicatesAndResetSupersedes) {
    a.clear_power_on_attention();
    lu.unit_attentions().add(a.nexus(), vtl::scsi::asc::kModeParametersChanged);
    lu.unit_attentions().add(a.nexus(), vtl::scsi::asc::kNotReadyToReadyChange);
    lu.unit_attentions().add(a.nexus(), vtl::scsi::asc::kModeParametersChanged);
    expect_sense(a.send(noop()), 0x06, 0x2A, 0x01);
    expect_sense(a.send(noop()), 0x06, 0x28, 0x00);
    EXPECT_EQ(a.send(noop()).status, Status::Good);
    lu.unit_attentions().add(a.nexus(), vtl::scsi::asc::kModeParametersChanged);
    lu.unit_attentions().add(a.nexus(), vtl::scsi::asc::kBusDeviceResetOccurred);
    expect_sense(a.send(noop()), 0x06, 0x29, 0x03);
    EXPECT_EQ(a.send(noop()).status, Status::Good);
}

namespace {

// A hook that can refuse, delay or alter commands and records what completed.
class RecordingHooks final : public vtl::LuHooks {
public:
    std::optional<vtl::Result> refuse;
    std::optional<vtl::Duration> delay;
    bool flip_first_byte = false;
    std::vector<std::pair<uint8_t, Status>> completions;

    std::optional<vtl::Result> before(vtl::LogicalUnit& lu, const vtl::TaskPtr& task, const vtl::CommandInfo&) override {
        if (refuse) return refuse;
        if (!delay) return std::nullopt;
        auto timer = lu.clock().schedule_after(*delay, [&lu, task] { lu.run(task); });
        task->on_abort([&lu, timer] { lu.clock().cancel(timer); });
        return vtl::Result::pending();
    }
    void after(vtl::LogicalUnit&, const vtl::Task&, vtl::Result& r) override {
        if (flip_first_byte && !r.data.empty()) r.data[0] ^= 0xFF;
    }
    void completed(vtl::LogicalUnit&, const vtl::Task& t) override { completions.emplace_back(t.cdb()[0], t.status()); }
};

class HookedLogicalUnitTest : public LogicalUnitTest {
protected:
    HookedLogicalUnitTest() {
        a.clear_power_on_attention();
        lu.add_hooks(&hooks);
    }
    ~HookedLogicalUnitTest() override { lu.remove_hooks(&hooks); }
    RecordingHooks hooks;
};

}  // namespace

TEST_F(HookedLogicalUnitTest, BeforeHookEndsTheTaskWithoutRunningTheHandler) {
    hooks.refuse = vtl::Result::with_status(Status::Busy);
    EXPECT_EQ(a.send(slow()).status, Status::Busy);
    EXPECT_EQ(device.slow_started, 0);
    ASSERT_EQ(hooks.completions.size(), 1u);
    EXPECT_EQ(hooks.completions[0], std::make_pair(kSlow, Status::Busy));
}

TEST_F(HookedLogicalUnitTest, DelayedTaskRunsItsHandlerWhenTheHookSaysSoAndKeepsTheQueueOrder) {
    hooks.delay = 1min;
    auto first = a.submit({kData, 0, 0, 0, 10, 0, 0, 0, 0, 0}, 10);
    auto behind = a.submit(noop());
    clock.advance(59s);
    EXPECT_FALSE(first.done());
    EXPECT_FALSE(behind.done());
    clock.advance(1s);
    ASSERT_TRUE(first.done());
    EXPECT_EQ(first.response().data.size(), 10u);
    EXPECT_FALSE(behind.done());  // delayed in turn
    clock.advance(1min);
    EXPECT_EQ(behind.response().status, Status::Good);
}

TEST_F(HookedLogicalUnitTest, AbortOfADelayedTaskCancelsTheDelay) {
    hooks.delay = 1min;
    auto p = a.submit(slow());
    ASSERT_TRUE(a.abort(p));
    EXPECT_EQ(p.response().status, Status::TaskAborted);
    clock.advance(10min);
    EXPECT_EQ(device.slow_started, 0);
    ASSERT_EQ(hooks.completions.size(), 1u);
    EXPECT_EQ(hooks.completions[0].second, Status::TaskAborted);
}

TEST_F(HookedLogicalUnitTest, AfterHookChangesTheDataReturned) {
    hooks.flip_first_byte = true;
    auto r = a.send({kData, 0, 0, 0, 4, 0, 0, 0, 0, 0}, 4);
    EXPECT_EQ(r.data, (std::vector<uint8_t>{0xFF, 1, 2, 3}));
}

TEST_F(LogicalUnitTest, ExpireRunsTheAbortHandlerAndAnswersWithTheGivenSense) {
    a.clear_power_on_attention();
    vtl::TaskPtr kept;
    struct Grab final : vtl::LuHooks {
        vtl::TaskPtr* out;
        explicit Grab(vtl::TaskPtr* o) : out(o) {}
        void completed(vtl::LogicalUnit&, const vtl::Task&) override {}
        std::optional<vtl::Result> before(vtl::LogicalUnit&, const vtl::TaskPtr& t, const vtl::CommandInfo&) override {
            *out = t;
            return std::nullopt;
        }
    } grab(&kept);
    lu.add_hooks(&grab);
    auto p = a.submit(slow());
    lu.remove_hooks(&grab);
    ASSERT_TRUE(kept);
    lu.expire(kept, vtl::Result::check(vtl::scsi::Sense::aborted_command({0x08, 0x01})));
    expect_sense(p.response(), 0x0B, 0x08, 0x01);
    EXPECT_EQ(device.slow_aborted, 1);
    clock.advance(10min);
    EXPECT_EQ(device.slow_finished, 0);
}
