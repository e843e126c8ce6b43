// The ADI bridge scenarios of docs/adi-bridge.md, on the virtual clock: a drive's bridged changer
// LUN 1 forwards MOVE MEDIUM to the library with a 12-minute timer, and a long robot recovery
// (or a queue of moves from several bridging drives behind one robot) ends host commands with
// 0B/08/01 while the library carries on; the same scenarios with ASYNC MOVE MEDIUM and MOVE
// QUERY fail nothing.
#include <gtest/gtest.h>

#include <algorithm>

#include "library/emulator.h"
#include "test_bridge_support.h"

using namespace vtl;
using namespace vtl::smctest;
using namespace vtl::testsupport;
using namespace vtl::bridgetest;
using scsi::Status;
using namespace std::chrono_literals;

namespace {

const ExpectedSense kCommTimeout = sense(0x0B, 0x08, 0x01);

class Bridged : public ::testing::Test {
protected:
    void build(config::LibraryConfig c) {
        hosts.clear();
        changer_host.reset();
        config = std::move(c);
        lib = std::make_unique<library::Library>(config, clock);
        changer_host = std::make_unique<fixtures::Initiator>(lib->changer(), clock, "iqn.2026-01.test:direct");
        changer_host->clear_power_on_attention();
        for (const auto& d : config.drives) {
            if (!d.bridge) continue;
            LogicalUnit* lu = lib->find(d.name + "-changer");
            ASSERT_NE(lu, nullptr);
            hosts.push_back(std::make_unique<fixtures::Initiator>(*lu, clock, "iqn.2026-01.test:" + d.name));
            hosts.back()->clear_power_on_attention();
        }
    }
    // 3-minute moves: 88 s travel each way plus a 2 s pick and a 2 s place.
    static config::LibraryConfig three_minute_moves(config::LibraryConfig c) {
        c.timings.slot_to_slot = config::Millis(88'000);
        c.timings.pick = config::Millis(2'000);
        c.timings.place = config::Millis(2'000);
        return c;
    }
    uint16_t slot(uint32_t n) const { return static_cast<uint16_t>(config.addresses.slot + n - 1); }
    uint16_t mte() const { return config.addresses.transport; }

    fixtures::ElementDescriptor element(uint16_t address, fixtures::Initiator* who = nullptr) {
        auto r = (who ? who : changer_host.get())->send(fixtures::read_element_status(true, 0, address, 1, 1024), 1024);
        EXPECT_EQ(r.status, Status::Good);
        auto v = fixtures::decode_element_status(r.data);
        if (!v || v->descriptor_count() != 1) throw std::runtime_error("one-element status does not decode");
        return v->pages.at(0).descriptors.at(0);
    }
    std::string tag_at(uint16_t address, fixtures::Initiator* who = nullptr) {
        auto d = element(address, who);
        return d.full && d.primary_tag ? d.primary_tag->identifier : std::string();
    }
    const bridge::BridgeCounters& counters(size_t drive) { return *lib->bridge_counters(config.drives.at(drive).name); }

    VirtualClock clock;
    config::LibraryConfig config;
    std::unique_ptr<library::Library> lib;
    std::unique_ptr<fixtures::Initiator> changer_host;
    std::vector<std::unique_ptr<fixtures::Initiator>> hosts;  // one per bridged LUN, in drive order
};

// --- The bridged LUN itself ------------------------------------------------------------------

TEST_F(Bridged, IsListedAfterItsDriveAndFoundByName) {
    auto c = bridged_config(2);
    c.drives[1].bridge = false;
    build(c);
    std::vector<std::string> names;
    for (const auto& d : lib->devices()) names.push_back(d.name);
    EXPECT_EQ(names, (std::vector<std::string>{"changer", "drive0", "drive0-changer", "drive1"}));
    EXPECT_EQ(lib->find("drive0-changer"), lib->bridged_lu("drive0"));
    EXPECT_EQ(lib->find("drive0-changer")->name(), "lib0/drive0-changer");
    EXPECT_EQ(lib->find("drive1-changer"), nullptr);
    EXPECT_NE(lib->bridge_counters("drive0"), nullptr);
    EXPECT_EQ(lib->bridge_counters("drive1"), nullptr);
    // The drives keep their data transfer elements (LUN 1 is no drive).
    EXPECT_EQ(lib->drive_lu_at(static_cast<uint16_t>(config.addresses.drive + 1)), lib->find("drive1"));

    config::Config all{.libraries = {c}};
    library::Emulator emulator(all, clock);
    EXPECT_EQ(emulator.find("lib0/drive0-changer"), emulator.library("lib0")->find("drive0-changer"));
    EXPECT_NE(emulator.find("lib0/drive0-changer"), nullptr);
}

TEST_F(Bridged, TheDriveAnswersIdentityReadinessLunsAndReservationsItself) {
    build(bridged_config(1));
    auto& h = *hosts[0];
    auto inq = h.send(fixtures::inquiry(), 96);
    ASSERT_EQ(inq.status, Status::Good);
    EXPECT_EQ(inq.data.at(0), 0x08);  // medium changer
    auto changer_inq = changer_host->send(fixtures::inquiry(), 96);
    EXPECT_EQ(inq.data, changer_inq.data);  // the library's identity
    EXPECT_EQ(h.send(fixtures::test_unit_ready()).status, Status::Good);
    EXPECT_EQ(h.send(fixtures::request_sense()).status, Status::Good);
    Bytes luns_cdb(12, 0);
    luns_cdb[0] = 0xA0;
    luns_cdb[9] = 64;
    auto luns = h.send(luns_cdb, 64);
    ASSERT_EQ(luns.status, Status::Good);
    EXPECT_EQ(luns.data, (Bytes{0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
    luns_cdb[9] = 8;  // less than 16
    EXPECT_TRUE(IsCheck(h.send(luns_cdb, 8), invalid_cdb(6)));
    EXPECT_EQ(h.send(fixtures::reserve6()).status, Status::Good);
    EXPECT_EQ(h.send(fixtures::release6()).status, Status::Good);
    EXPECT_EQ(counters(0).forwarded, 0u);

    // Everything else goes to the library.
    EXPECT_EQ(tag_at(slot(1), &h), "B00001L8");
    EXPECT_EQ(h.send(fixtures::mode_sense6(true, 0, 0x1D, 0, 255), 255).status, Status::Good);
    EXPECT_EQ(counters(0).forwarded, 2u);
    EXPECT_EQ(counters(0).answered, 2u);
}

TEST_F(Bridged, OneCommandAtATimePerDrive) {
    build(bridged_config(1));
    auto& h = *hosts[0];
    auto move = h.submit(move_medium(mte(), slot(1), slot(11)));
    auto res = h.submit(fixtures::read_element_status(true, 0, slot(11), 1, 1024), 1024);
    EXPECT_FALSE(res.done());  // waits in the drive behind the move
    EXPECT_EQ(counters(0).forwarded, 1u);
    // The library's own changer LUN answers meanwhile.
    EXPECT_EQ(tag_at(slot(11)), "");
    clock.advance(10s);
    ASSERT_TRUE(move.done());
    ASSERT_TRUE(res.done());
    EXPECT_EQ(move.response().status, Status::Good);
    EXPECT_EQ(res.response().status, Status::Good);
    EXPECT_EQ(counters(0).forwarded, 2u);
    EXPECT_EQ(counters(0).answered, 2u);
    EXPECT_EQ(tag_at(slot(11)), "B00001L8");
}

TEST_F(Bridged, OperatorActionsRaiseUnitAttentionsOnBridgedLuns) {
    build(bridged_config(1));
    ASSERT_EQ(lib->open_ie_door(), std::nullopt);
    ASSERT_EQ(lib->close_ie_door(), std::nullopt);
    auto r = hosts[0]->send(fixtures::test_unit_ready());
    EXPECT_TRUE(IsCheck(r, sense(0x06, 0x28, 0x01)));
}

// --- Scenario: one bridged drive, a 13-minute robot recovery ---------------------------------

struct RecoveryCase {
    config::AbortPolicy policy;
    bool at_destination;
};

class BridgedRecovery : public Bridged, public ::testing::WithParamInterface<RecoveryCase> {};

TEST_P(BridgedRecovery, MoveMediumTimesOutAfterTwelveMinutesAndTheCartridgeEndsWhereThePolicySays) {
    build(bridged_config(1, 20, 8, GetParam().policy));
    lib->robots().set_fault_hook(fault_on_first(13min));
    auto& h = *hosts[0];
    auto move = h.submit(move_medium(mte(), slot(1), slot(11)));
    clock.advance(12min - 1ms);
    EXPECT_FALSE(move.done());
    clock.advance(1ms);
    ASSERT_TRUE(move.done());
    EXPECT_TRUE(IsCheck(move.response(), kCommTimeout));
    const auto& c = counters(0);
    EXPECT_EQ(c.forwarded, 1u);
    EXPECT_EQ(c.answered, 0u);
    EXPECT_EQ(c.timed_out, 1u);
    EXPECT_EQ(c.aborts_sent, 1u);
    EXPECT_EQ(c.completed_after_abort, GetParam().at_destination ? 1u : 0u);
    EXPECT_EQ(c.returned_after_abort, GetParam().at_destination ? 0u : 1u);
    EXPECT_EQ(c.removed_after_abort, 0u);
    // The robot is still recovering: the cartridge has not left its slot.
    EXPECT_EQ(tag_at(slot(1), &h), "B00001L8");
    clock.advance(2min);  // 13 min of recovery plus the 10 s move have passed
    EXPECT_EQ(lib->operations_in_flight(), 0u);
    if (GetParam().at_destination) {
        EXPECT_EQ(tag_at(slot(11), &h), "B00001L8");
        EXPECT_FALSE(element(slot(1), &h).full);
    } else {
        EXPECT_EQ(tag_at(slot(1), &h), "B00001L8");
        EXPECT_FALSE(element(slot(11), &h).full);
    }
}

INSTANTIATE_TEST_SUITE_P(Policies, BridgedRecovery,
                         ::testing::Values(RecoveryCase{config::AbortPolicy::Complete, true},
                                           RecoveryCase{config::AbortPolicy::ReturnToSource, false}),
                         [](const auto& info) {
                             return info.param.policy == config::AbortPolicy::Complete ? "Complete" : "ReturnToSource";
                         });

TEST_F(Bridged, AShorterBridgeTimerFromTheConfig) {
    auto c = bridged_config(1);
    c.bridge.timeout = config::Millis(12'000);  // the VM tests' scaled-down timings
    build(c);
    lib->robots().set_fault_hook(fault_on_first(13s));
    auto move = hosts[0]->submit(move_medium(mte(), slot(1), slot(11)));
    clock.advance(12s - 1ms);
    EXPECT_FALSE(move.done());
    clock.advance(1ms);
    EXPECT_TRUE(IsCheck(move.response(), kCommTimeout));
}

// --- Scenario: four bridging drives, one robot, 5-minute recovery, 3-minute moves ----------

// When each of `n` moves, all forwarded at t = 0 and served in order by one robot, ends: the
// first takes `recovery` longer. A move still queued when its timer runs out is removed; one in
// motion is finished by the robot (policy complete) but its host got 0B/08/01.
struct Prediction {
    std::vector<bool> ok;
    std::vector<bool> removed_flags;
    size_t timed_out = 0;
    size_t removed = 0;
    size_t completed_after_abort = 0;
};
Prediction predict(size_t n, Duration recovery, Duration move, Duration timer) {
    Prediction p;
    Duration robot_free{};
    for (size_t i = 0; i < n; ++i) {
        const Duration start = robot_free;
        p.removed_flags.push_back(start >= timer);
        if (start >= timer) {
            p.ok.push_back(false);
            ++p.removed;
            continue;
        }
        const Duration end = start + move + (i == 0 ? recovery : Duration{});
        robot_free = end;
        const bool ok = end <= timer;
        p.ok.push_back(ok);
        if (!ok) ++p.completed_after_abort;
    }
    for (bool ok : p.ok) p.timed_out += ok ? 0 : 1;
    return p;
}

TEST_F(Bridged, FourDrivesOneRobotQueuedMovesFailAsTheTimingsPredict) {
    build(three_minute_moves(bridged_config(4)));
    lib->robots().set_fault_hook(fault_on_first(5min));
    std::vector<fixtures::Pending> moves;
    for (size_t i = 0; i < 4; ++i) {
        moves.push_back(hosts[i]->submit(move_medium(mte(), slot(uint32_t(i + 1)), slot(uint32_t(i + 11)))));
    }
    clock.advance(30min);
    const auto expected = predict(4, 5min, 3min, 12min);
    // 8, 11 and 14 min; the fourth is still queued at 12 min.
    EXPECT_EQ(expected.ok, (std::vector<bool>{true, true, false, false}));
    EXPECT_EQ(expected.timed_out, 2u);
    size_t failures = 0;
    bridge::BridgeCounters total{};
    for (size_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(moves[i].done());
        if (expected.ok[i]) {
            EXPECT_EQ(moves[i].response().status, Status::Good) << "move " << i;
        } else {
            EXPECT_TRUE(IsCheck(moves[i].response(), kCommTimeout)) << "move " << i;
            ++failures;
        }
        const auto& c = counters(i);
        total.timed_out += c.timed_out;
        total.removed_after_abort += c.removed_after_abort;
        total.completed_after_abort += c.completed_after_abort;
        total.answered += c.answered;
    }
    EXPECT_EQ(failures, expected.timed_out);
    EXPECT_EQ(total.timed_out, expected.timed_out);
    EXPECT_EQ(total.removed_after_abort, expected.removed);
    EXPECT_EQ(total.completed_after_abort, expected.completed_after_abort);
    EXPECT_EQ(total.answered, 2u);
    // Where the cartridges are: the completed ones at their destinations, the removed one home.
    for (size_t i = 0; i < 4; ++i) {
        const bool moved = !expected.removed_flags[i];
        EXPECT_EQ(tag_at(slot(uint32_t(moved ? i + 11 : i + 1))), fmt::format("B{:05}L8", i + 1)) << "move " << i;
    }
}

// --- The same scenarios with asynchronous moves ----------------------------------------------

// A host that moves the safe way: ASYNC MOVE MEDIUM, then MOVE QUERY with WAIT TIME 255 until a
// final answer. Records how long each query took.
struct AsyncHost {
    fixtures::Initiator* initiator = nullptr;
    uint32_t token = 0;
    std::optional<fixtures::Pending> query;
    TimePoint sent{};
    std::optional<fixtures::Response> final_answer;
    Duration longest_query{};
    int queries = 0;
    int failures = 0;  // any answer but GOOD and 02/04/07
};

void run_async_hosts(VirtualClock& clock, std::vector<AsyncHost>& hosts) {
    for (int guard = 0; guard < 100'000; ++guard) {
        for (auto& h : hosts) {
            if (!h.final_answer && !h.query) {
                h.query = h.initiator->submit(move_query(h.token, 255), 36);
                h.sent = clock.now();
                ++h.queries;
            }
        }
        // Answers (some come at once: a move that ended as the previous query timed out).
        for (auto& h : hosts) {
            if (!h.query || !h.query->done()) continue;
            h.longest_query = std::max(h.longest_query, clock.now() - h.sent);
            const auto& r = h.query->response();
            const auto s = fixtures::decode_sense(r.sense);
            if (r.status == Status::Good) {
                h.final_answer = r;
            } else if (!(r.status == Status::CheckCondition && s && s->key == 0x02 && s->asc == 0x04 &&
                         s->ascq == 0x07)) {
                ++h.failures;
                h.final_answer = r;
            }
            h.query.reset();
        }
        if (std::all_of(hosts.begin(), hosts.end(), [](const AsyncHost& h) { return h.final_answer.has_value(); })) {
            return;
        }
        if (std::any_of(hosts.begin(), hosts.end(), [](const AsyncHost& h) { return !h.final_answer && !h.query; })) {
            continue;  // ask again before time moves
        }
        ASSERT_TRUE(clock.step()) << "nothing left to happen";
    }
    FAIL() << "the hosts never finished";
}

TEST_F(Bridged, AsyncMoveSurvivesTheThirteenMinuteRecovery) {
    build(bridged_config(1));
    lib->robots().set_fault_hook(fault_on_first(13min));
    auto accepted = hosts[0]->send(async_move(mte(), slot(1), slot(11)), 64);
    ASSERT_EQ(accepted.status, Status::Good);
    std::vector<AsyncHost> h{{.initiator = hosts[0].get(), .token = token_block(accepted.data).token}};
    run_async_hosts(clock, h);
    EXPECT_EQ(h[0].failures, 0);
    EXPECT_LE(h[0].longest_query, Duration(255s));
    EXPECT_EQ(h[0].queries, 4);  // 255 s, 510 s, 765 s, then the end at 13 min 10 s
    EXPECT_EQ(clock.now().time_since_epoch(), Duration(13min + 10s));
    ASSERT_TRUE(h[0].final_answer);
    EXPECT_EQ(status_block(h[0].final_answer->data).state, 2);
    EXPECT_EQ(counters(0).timed_out, 0u);
    EXPECT_EQ(counters(0).aborts_sent, 0u);
    EXPECT_EQ(tag_at(slot(11), hosts[0].get()), "B00001L8");
}

TEST_F(Bridged, AsyncMovesFromFourDrivesAllCompleteWithNoFailure) {
    build(three_minute_moves(bridged_config(4)));
    lib->robots().set_fault_hook(fault_on_first(5min));
    std::vector<AsyncHost> h;
    for (size_t i = 0; i < 4; ++i) {
        auto r = hosts[i]->send(async_move(mte(), slot(uint32_t(i + 1)), slot(uint32_t(i + 11))), 64);
        ASSERT_EQ(r.status, Status::Good);
        const auto tb = token_block(r.data);
        EXPECT_EQ(tb.queued, i > 0);
        h.push_back({.initiator = hosts[i].get(), .token = tb.token});
    }
    run_async_hosts(clock, h);
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(h[i].failures, 0) << "host " << i;
        EXPECT_LE(h[i].longest_query, Duration(255s)) << "host " << i;
        ASSERT_TRUE(h[i].final_answer);
        EXPECT_EQ(status_block(h[i].final_answer->data).state, 2);
        EXPECT_EQ(counters(i).timed_out, 0u);
        EXPECT_EQ(tag_at(slot(uint32_t(i + 11))), fmt::format("B{:05}L8", i + 1));
    }
    // The last move ended at 5 + 4 x 3 = 17 minutes.
    EXPECT_EQ(clock.now().time_since_epoch(), Duration(17min));
}

// --- Scenario: the host gives up first -------------------------------------------------------

TEST_F(Bridged, HostAbortAtThreeHundredSecondsIsAnsweredAtOnceAndLunResetIsSurvived) {
    build(bridged_config(1));
    lib->robots().set_fault_hook(fault_on_first(13min));
    auto& h = *hosts[0];
    fixtures::Initiator tape(*lib->find("drive0"), clock, "iqn.2026-01.test:tape");
    auto move = h.submit(move_medium(mte(), slot(1), slot(11)));
    clock.advance(300s);  // the Linux ch driver's move timeout
    // The drive's data LUN answers meanwhile.
    auto inq = tape.send(fixtures::inquiry(), 96);
    ASSERT_EQ(inq.status, Status::Good);
    EXPECT_EQ(inq.data.at(0), 0x01);
    ASSERT_TRUE(h.abort(move));
    ASSERT_TRUE(move.done());
    EXPECT_EQ(move.response().status, Status::TaskAborted);
    EXPECT_EQ(counters(0).aborts_sent, 1u);
    EXPECT_EQ(counters(0).timed_out, 0u);
    EXPECT_EQ(counters(0).completed_after_abort, 1u);
    // The bridge timer was stopped with the command.
    clock.advance(10min);
    EXPECT_EQ(counters(0).timed_out, 0u);

    // A second move, then the host resets the LUN while it waits.
    auto second = h.submit(move_medium(mte(), slot(2), slot(12)));
    clock.advance(1s);
    h.lun_reset();
    EXPECT_EQ(second.response().status, Status::TaskAborted);
    EXPECT_EQ(counters(0).aborts_sent, 2u);
    EXPECT_TRUE(IsCheck(h.send(fixtures::test_unit_ready()), sense(0x06, 0x29, 0x03)));
    EXPECT_EQ(h.send(fixtures::test_unit_ready()).status, Status::Good);
    clock.advance(10min);
    EXPECT_EQ(lib->operations_in_flight(), 0u);
    EXPECT_EQ(tag_at(slot(11), &h), "B00001L8");
    EXPECT_EQ(tag_at(slot(12), &h), "B00002L8");
    // And it keeps working.
    auto third = h.submit(move_medium(mte(), slot(11), slot(1)));
    clock.advance(1min);
    EXPECT_EQ(third.response().status, Status::Good);
    EXPECT_EQ(tag_at(slot(1), &h), "B00001L8");
}

TEST_F(Bridged, HostAbortOfAQueuedMoveRemovesIt) {
    build(bridged_config(2));
    lib->robots().set_fault_hook(fault_on_first(13min));
    auto first = hosts[0]->submit(move_medium(mte(), slot(1), slot(11)));
    auto queued = hosts[1]->submit(move_medium(mte(), slot(2), slot(12)));
    clock.advance(300s);
    ASSERT_TRUE(hosts[1]->abort(queued));
    EXPECT_EQ(queued.response().status, Status::TaskAborted);
    EXPECT_EQ(counters(1).removed_after_abort, 1u);
    clock.advance(20min);
    EXPECT_TRUE(IsCheck(first.response(), kCommTimeout));
    EXPECT_EQ(tag_at(slot(2)), "B00002L8");
    EXPECT_FALSE(element(slot(12)).full);
    EXPECT_EQ(tag_at(slot(11)), "B00001L8");
}

TEST_F(Bridged, TokensSurviveLunResetAndNexusLossOnTheBridgedLun) {
    build(bridged_config(1));
    lib->robots().set_fault_hook(fault_on_first(5min));
    auto& h = *hosts[0];
    auto r = h.send(async_move(mte(), slot(1), slot(11)), 64);
    const uint32_t token = token_block(r.data).token;
    auto q = h.submit(move_query(token, 255), 64);
    clock.advance(100s);
    h.lun_reset();
    EXPECT_EQ(q.response().status, Status::TaskAborted);
    h.send(fixtures::test_unit_ready());  // the reset's unit attention
    h.nexus_loss();
    h.clear_power_on_attention();
    EXPECT_TRUE(IsCheck(h.send(move_query(token, 0), 64), sense(0x02, 0x04, 0x07)));
    clock.advance(10min);
    auto done = h.send(move_query(token, 0), 64);
    ASSERT_EQ(done.status, Status::Good);
    EXPECT_EQ(status_block(done.data).state, 2);
    EXPECT_EQ(tag_at(slot(11), &h), "B00001L8");
}

}  // namespace
