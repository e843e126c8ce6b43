// ASYNC MOVE MEDIUM and MOVE QUERY on a library's own changer LUN (docs/adi-bridge.md): tokens,
// the status block, waiting on the clock, every error with its exact sense, tokens surviving
// LUN RESET, nexus loss and a restart, and the 1024-result limit.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "library_fixture.h"
#include "test_bridge_support.h"

using namespace vtl;
using namespace vtl::smctest;
using namespace vtl::testsupport;
using namespace vtl::bridgetest;
using scsi::Status;
using namespace std::chrono_literals;

namespace {

const ExpectedSense kInProgress = sense(0x02, 0x04, 0x07);

class AsyncMove : public ChangerTest {
protected:
    // Accepts a move and returns its token.
    uint32_t accept(uint16_t source, uint16_t destination) {
        auto r = host->send(async_move(0, source, destination), 64);
        EXPECT_EQ(r.status, Status::Good);
        return token_block(r.data).token;
    }
    fixtures::SenseView sense_of(const fixtures::Response& r) {
        auto v = fixtures::decode_sense(r.sense);
        if (!v) throw std::runtime_error("no sense");
        return *v;
    }
};

TEST_F(AsyncMove, AcceptedAtOnceWithATokenThenTheQueryWaitsForTheEnd) {
    auto r = host->send(async_move(mte(), slot(1), slot(4)), 64);
    ASSERT_EQ(r.status, Status::Good);
    const auto tb = token_block(r.data);
    EXPECT_EQ(tb.token, 1u);
    // Default timings: 3 s travel each way, 2 s pick, 2 s place; the robot was free.
    EXPECT_EQ(tb.estimate_s, 10);
    EXPECT_FALSE(tb.queued);

    const auto start = clock.now();
    auto q = host->submit(move_query(tb.token, 255), 64);
    EXPECT_FALSE(q.done());
    clock.advance(9s);
    EXPECT_FALSE(q.done());
    clock.advance(1s);
    ASSERT_TRUE(q.done());
    EXPECT_EQ(clock.now() - start, Duration(10s));
    ASSERT_EQ(q.response().status, Status::Good);
    const auto sb = status_block(q.response().data);
    EXPECT_EQ(sb.length, 34);
    EXPECT_EQ(sb.state, 2);
    EXPECT_EQ(sb.progress, 0xFFFF);
    EXPECT_EQ(sb.source, slot(1));
    EXPECT_EQ(sb.destination, slot(4));
    EXPECT_EQ(sb.token, 1u);
    EXPECT_EQ(sb.age_s, 10u);
    EXPECT_EQ(sb.sense, Bytes(18, 0));
    EXPECT_EQ(tag_at(slot(4)), "A00001L8");
    EXPECT_FALSE(element(slot(1)).full);
}

TEST_F(AsyncMove, AllocationLengthsTruncateBothBlocks) {
    auto r = host->send(async_move(mte(), slot(1), slot(4), 0), 64);
    EXPECT_EQ(r.status, Status::Good);
    EXPECT_TRUE(r.data.empty());  // token 1, no data asked for
    r = host->send(async_move(mte(), slot(2), slot(5), 4), 64);
    ASSERT_EQ(r.data.size(), 4u);
    EXPECT_EQ(get32(r.data, 0), 2u);
    clock.advance(5min);
    auto q = host->send(move_query(1, 0, false, 12), 64);
    ASSERT_EQ(q.status, Status::Good);
    ASSERT_EQ(q.data.size(), 12u);
    EXPECT_EQ(get16(q.data, 0), 34);
    EXPECT_EQ(q.data[2], 2);
    EXPECT_EQ(get16(q.data, 10), 0);  // MOVE TOKEN's first half: token 1
}

TEST_F(AsyncMove, QueryWithoutWaitAnswersInProgressWithTokenAndProgress) {
    lib->robots().set_fault_hook(fault_on_first(13min));
    const uint32_t t = accept(slot(1), slot(4));
    auto r = host->send(move_query(t, 0), 64);
    EXPECT_TRUE(IsCheck(r, kInProgress));
    const auto s = sense_of(r);
    EXPECT_EQ(s.response_code, 0x70);
    EXPECT_EQ(s.information, std::optional<uint64_t>(t));
    EXPECT_EQ(s.progress(), std::optional<uint16_t>(1));  // the robot has just started (0 is "queued")
    // Byte for byte: VALID, NOT READY, INFORMATION = token, 04h/07h, SKSV + progress 0001h.
    EXPECT_EQ(r.sense, (Bytes{0xF0, 0, 0x02, 0, 0, 0, 1, 0x0A, 0, 0, 0, 0, 0x04, 0x07, 0, 0x80, 0x00, 0x01}));
}

// Progress is the share of the motion's time gone by, recovery included: a 13-minute recovery
// shows the host a move that advances, not one stuck at a phase.
TEST_F(AsyncMove, ProgressAdvancesThroughARobotRecovery) {
    lib->robots().set_fault_hook(fault_on_first(13min));
    const uint32_t t = accept(slot(1), slot(4));
    const Duration total = 13min + Duration(config.timings.pick) + Duration(config.timings.place) +
                           2 * Duration(config.timings.slot_to_slot);
    uint16_t last = 0;
    for (int quarter = 1; quarter <= 3; ++quarter) {
        clock.advance(total / 4);
        const auto p = sense_of(host->send(move_query(t, 0), 64)).progress();
        ASSERT_TRUE(p.has_value());
        EXPECT_NEAR(*p, quarter * 0xFFFD / 4, 0x100) << "quarter " << quarter;
        EXPECT_GT(*p, last);
        last = *p;
    }
    clock.advance(total / 4);
    auto q = host->send(move_query(t, 0), 64);
    ASSERT_EQ(q.status, Status::Good);
    EXPECT_EQ(status_block(q.data).progress, 0xFFFF);
}

TEST_F(AsyncMove, QueryReturnsWhenItsWaitTimeIsUp) {
    lib->robots().set_fault_hook(fault_on_first(13min));
    const uint32_t t = accept(slot(1), slot(4));
    for (uint8_t wait : {uint8_t(1), uint8_t(30), uint8_t(255)}) {
        const auto start = clock.now();
        auto q = host->submit(move_query(t, wait), 64);
        clock.advance(std::chrono::seconds(wait) - 1ms);
        EXPECT_FALSE(q.done());
        clock.advance(1ms);
        ASSERT_TRUE(q.done());
        EXPECT_EQ(clock.now() - start, Duration(std::chrono::seconds(wait)));
        EXPECT_TRUE(IsCheck(q.response(), kInProgress));
        EXPECT_EQ(sense_of(q.response()).information, std::optional<uint64_t>(t));
    }
}

TEST_F(AsyncMove, QueuedBehindAnotherMoveSaysSoAndEstimatesBoth) {
    accept(slot(1), slot(4));
    auto r = host->send(async_move(mte(), slot(2), slot(5)), 64);
    const auto tb = token_block(r.data);
    EXPECT_EQ(tb.token, 2u);
    EXPECT_TRUE(tb.queued);
    EXPECT_EQ(tb.estimate_s, 20);
    auto q = host->send(move_query(2, 0), 64);
    EXPECT_TRUE(IsCheck(q, kInProgress));
    EXPECT_EQ(sense_of(q).progress(), std::optional<uint16_t>(0));
}

TEST_F(AsyncMove, RefusalsCarryMoveMediumsSenseAndMakeNoToken) {
    const Bytes before = all_status();
    EXPECT_TRUE(IsCheck(host->send(async_move(mte(), 0x5555, slot(4)), 64), sense(0x05, 0x21, 0x01)));
    EXPECT_TRUE(IsCheck(host->send(async_move(slot(5), slot(1), slot(4)), 64), sense(0x05, 0x21, 0x01)));
    EXPECT_TRUE(IsCheck(host->send(async_move(mte(), slot(4), slot(5)), 64), sense(0x05, 0x3B, 0x0E)));
    EXPECT_TRUE(IsCheck(host->send(async_move(mte(), slot(1), slot(2)), 64), sense(0x05, 0x3B, 0x0D)));
    EXPECT_TRUE(
        IsCheck(host->send(async_move(mte(), slot(3), dte(0)), 64), sense(0x05, 0x30, 0x00)));  // LTO-9 in LTO-8
    auto inv = async_move(mte(), slot(1), slot(4));
    inv[1] = 0x01;  // INVERT
    EXPECT_TRUE(IsCheck(host->send(inv), invalid_cdb(1, 0)));
    inv[1] = 0x04;
    EXPECT_TRUE(IsCheck(host->send(inv), invalid_cdb(1, 2)));
    auto link = async_move(mte(), slot(1), slot(4));
    link[9] = 0x01;
    EXPECT_TRUE(IsCheck(host->send(link), invalid_cdb(9, 0)));
    ASSERT_EQ(lib->open_ie_door(), std::nullopt);
    drain();
    EXPECT_TRUE(IsCheck(host->send(async_move(mte(), slot(1), ie(1)), 64), sense(0x02, 0x04, 0x03)));
    ASSERT_EQ(lib->close_ie_door(), std::nullopt);
    drain();
    // A drive whose host prevents removal keeps its cartridge.
    ASSERT_EQ(run(move_medium(mte(), slot(1), dte(0))).status, Status::Good);
    clock.advance(2min);
    fixtures::Initiator tape(*lib->drive_lu_at(dte(0)), clock, "iqn.2026-01.test:tape");
    tape.clear_power_on_attention();
    for (int i = 0; i < 4 && tape.send(fixtures::test_unit_ready()).status != Status::Good;) ++i;
    ASSERT_EQ(tape.send(fixtures::prevent_allow(1)).status, Status::Good);
    EXPECT_TRUE(IsCheck(host->send(async_move(mte(), dte(0), slot(1)), 64), sense(0x05, 0x53, 0x02)));
    EXPECT_EQ(lib->async_moves().size(), 0u);
    EXPECT_EQ(lib->async_moves().next_token(), 1u);  // no token was made
    EXPECT_EQ(accept(slot(2), slot(4)), 1u);
    (void)before;
}

TEST_F(AsyncMove, UnknownZeroAndReleasedTokensPointAtByteTwo) {
    EXPECT_TRUE(IsCheck(host->send(move_query(0, 0), 64), invalid_cdb(2)));
    // Byte for byte: ILLEGAL REQUEST 24h/00h, SKSV, C/D = CDB, field pointer 0002h.
    EXPECT_EQ(host->send(move_query(9, 0), 64).sense,
              (Bytes{0x70, 0, 0x05, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x24, 0x00, 0, 0xC0, 0x00, 0x02}));
    EXPECT_TRUE(IsCheck(host->send(move_query(7, 0), 64), invalid_cdb(2)));
    EXPECT_TRUE(IsCheck(host->send(move_query(7, 255), 64), invalid_cdb(2)));  // never waits for nothing
    const uint32_t t = accept(slot(1), slot(4));
    clock.advance(1min);
    ASSERT_EQ(host->send(move_query(t, 0, true), 64).status, Status::Good);  // final result, released
    EXPECT_TRUE(IsCheck(host->send(move_query(t, 0), 64), invalid_cdb(2)));
    auto bad = move_query(t, 0);
    bad[1] = 0x02;
    EXPECT_TRUE(IsCheck(host->send(bad), invalid_cdb(1, 1)));
}

TEST_F(AsyncMove, ReleaseBeforeTheEndIsIgnoredUntilAFinalResultIsReturned) {
    lib->robots().set_fault_hook(fault_on_first(2min));
    const uint32_t t = accept(slot(1), slot(4));
    EXPECT_TRUE(IsCheck(host->send(move_query(t, 0, true), 64), kInProgress));
    auto q = host->submit(move_query(t, 255, true), 64);
    clock.advance(3min);
    ASSERT_TRUE(q.done());
    EXPECT_EQ(q.response().status, Status::Good);
    EXPECT_TRUE(IsCheck(host->send(move_query(t, 0), 64), invalid_cdb(2)));
}

TEST_F(AsyncMove, AFailedMoveAnswersWithItsOwnSenseAndTheToken) {
    lib->robots().set_fault_hook(
        fault_on_first(4min, scsi::Sense(scsi::SenseKey::HardwareError, scsi::Asc{0x15, 0x01})));
    const uint32_t t = accept(slot(1), slot(4));
    auto q = host->submit(move_query(t, 255), 64);
    clock.advance(4min);
    ASSERT_TRUE(q.done());
    EXPECT_TRUE(IsCheck(q.response(), sense(0x04, 0x15, 0x01)));
    EXPECT_EQ(q.response().sense, (Bytes{0xF0, 0, 0x04, 0, 0, 0, 1, 0x0A, 0, 0, 0, 0, 0x15, 0x01, 0, 0, 0, 0}));
    // Asked again (another host, or the same), the same answer; nothing moved.
    fixtures::Initiator other(lib->changer(), clock, "iqn.2026-01.test:other");
    other.clear_power_on_attention();
    auto again = other.send(move_query(t, 0, true), 64);
    EXPECT_TRUE(IsCheck(again, sense(0x04, 0x15, 0x01)));
    EXPECT_EQ(sense_of(again).information, std::optional<uint64_t>(t));
    EXPECT_TRUE(IsCheck(host->send(move_query(t, 0), 64), invalid_cdb(2)));
    EXPECT_EQ(tag_at(slot(1)), "A00001L8");
}

TEST_F(AsyncMove, SeveralHostsWaitingOnOneTokenGetTheSameResult) {
    fixtures::Initiator other(lib->changer(), clock, "iqn.2026-01.test:other");
    other.clear_power_on_attention();
    const uint32_t t = accept(slot(1), slot(4));
    auto a = host->submit(move_query(t, 255, true), 64);  // releases it once answered
    auto b = other.submit(move_query(t, 255), 64);
    clock.advance(10s);
    ASSERT_TRUE(a.done());
    ASSERT_TRUE(b.done());
    EXPECT_EQ(a.response().status, Status::Good);
    EXPECT_EQ(b.response().status, Status::Good);
    EXPECT_EQ(a.response().data, b.response().data);
}

TEST_F(AsyncMove, AbortingAQueryLeavesTheMoveAlone) {
    const uint32_t t = accept(slot(1), slot(4));
    auto q = host->submit(move_query(t, 255), 64);
    clock.advance(2s);
    ASSERT_TRUE(host->abort(q));
    EXPECT_EQ(q.response().status, Status::TaskAborted);
    clock.advance(1min);
    EXPECT_EQ(tag_at(slot(4)), "A00001L8");
    auto r = host->send(move_query(t, 0), 64);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(status_block(r.data).state, 2);
}

TEST_F(AsyncMove, TokensSurviveLunResetAndNexusLoss) {
    lib->robots().set_fault_hook(fault_on_first(3min));
    const uint32_t t = accept(slot(1), slot(4));
    auto q = host->submit(move_query(t, 255), 64);
    clock.advance(10s);
    host->lun_reset();
    EXPECT_EQ(q.response().status, Status::TaskAborted);
    drain();
    EXPECT_TRUE(IsCheck(host->send(move_query(t, 0), 64), kInProgress));
    host->nexus_loss();
    host->clear_power_on_attention();
    EXPECT_TRUE(IsCheck(host->send(move_query(t, 0), 64), kInProgress));
    clock.advance(4min);
    auto r = host->send(move_query(t, 0), 64);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(status_block(r.data).state, 2);
    EXPECT_EQ(tag_at(slot(4)), "A00001L8");
}

TEST_F(AsyncMove, TokensAreNeverReusedAndOnly1024ResultsAreKept) {
    // A move onto itself ends without motion: many results in little time.
    std::vector<uint32_t> tokens;
    for (int i = 0; i < 1030; ++i) tokens.push_back(accept(slot(1), slot(1)));
    clock.run_ready();
    for (size_t i = 1; i < tokens.size(); ++i) ASSERT_EQ(tokens[i], tokens[i - 1] + 1);
    EXPECT_EQ(tokens.front(), 1u);
    for (int i = 0; i < 6; ++i) EXPECT_TRUE(IsCheck(host->send(move_query(tokens[i], 0), 64), invalid_cdb(2)));
    for (size_t i = 6; i < tokens.size(); i += 256) {
        EXPECT_EQ(host->send(move_query(tokens[i], 0), 64).status, Status::Good) << "token " << tokens[i];
    }
    EXPECT_EQ(lib->async_moves().size(), 1024u);
}

TEST_F(AsyncMove, ReportedInSupportedOperationCodes) {
    auto r = host->send(fixtures::rsoc(false, 1, 0xC5, 0, 64), 64);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0, 0x03, 0, 10, 0xC5, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07}));
    r = host->send(fixtures::rsoc(false, 1, 0xC6, 0, 64), 64);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0, 0x03, 0, 10, 0xC6, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07}));
}

TEST_F(AsyncMove, OpcodesComeFromTheConfig) {
    auto c = small_config();
    c.async_move.move_opcode = 0xD0;
    c.async_move.query_opcode = 0xD1;
    build(c);
    EXPECT_TRUE(IsCheck(host->send(async_move(mte(), slot(1), slot(4)), 64), sense(0x05, 0x20, 0x00)));
    auto r = host->send(async_move(mte(), slot(1), slot(4), 8, 0xD0), 64);
    ASSERT_EQ(r.status, Status::Good);
    clock.advance(1min);
    EXPECT_EQ(host->send(move_query(token_block(r.data).token, 0, false, 36, 0xD1), 64).status, Status::Good);
}

TEST_F(AsyncMove, AsyncMovesJsonListsEveryToken) {
    lib->robots().set_fault_hook(fault_on_first(1min));
    accept(slot(1), slot(4));
    clock.advance(30s);
    const auto j = lib->async_moves_json();
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["token"], 1);
    EXPECT_EQ(j[0]["state"], "moving");
    EXPECT_EQ(j[0]["source"], slot(1));
    EXPECT_EQ(j[0]["destination"], slot(4));
    EXPECT_EQ(j[0]["age_s"], 30);
}

// --- Persistence -----------------------------------------------------------------------------

class AsyncMovePersistence : public ::testing::Test {
protected:
    void open() {
        lib.reset();
        lib = std::make_unique<library::Library>(config, clock, library::Library::Options{.persist = true});
        host = std::make_unique<fixtures::Initiator>(lib->changer(), clock);
        host->clear_power_on_attention();
    }
    void SetUp() override {
        config = small_config();
        config.state_dir = dir.path() / "lib0";
        open();
    }
    uint16_t slot(uint32_t n) const { return static_cast<uint16_t>(config.addresses.slot + n - 1); }

    libtest::TempDir dir;
    config::LibraryConfig config;
    VirtualClock clock;
    std::unique_ptr<library::Library> lib;
    std::unique_ptr<fixtures::Initiator> host;
};

TEST_F(AsyncMovePersistence, FinishedResultsAndTheNextTokenSurviveARestart) {
    auto ok = token_block(host->send(async_move(0, slot(1), slot(4)), 64).data).token;
    clock.advance(1min);
    lib->robots().set_fault_hook(
        fault_on_first(10s, scsi::Sense(scsi::SenseKey::HardwareError, scsi::Asc{0x15, 0x01})));
    auto failed = token_block(host->send(async_move(0, slot(2), slot(5)), 64).data).token;
    clock.advance(1min);
    auto released = token_block(host->send(async_move(0, slot(4), slot(6)), 64).data).token;
    clock.advance(1min);
    ASSERT_EQ(host->send(move_query(released, 0, true), 64).status, Status::Good);
    // A move still running when the emulator stops.
    lib->robots().set_fault_hook(fault_on_first(10min));
    auto running = token_block(host->send(async_move(0, slot(6), slot(7)), 64).data).token;
    clock.advance(1min);

    open();  // a restart: the journal (and the snapshot written at shutdown) are read back
    auto r = host->send(move_query(ok, 0), 64);
    ASSERT_EQ(r.status, Status::Good);
    auto sb = status_block(r.data);
    EXPECT_EQ(sb.state, 2);
    EXPECT_EQ(sb.source, slot(1));
    EXPECT_EQ(sb.destination, slot(4));
    EXPECT_EQ(sb.age_s, 240u);  // accepted four minutes (of the clock's calendar) ago
    r = host->send(move_query(failed, 0), 64);
    EXPECT_TRUE(IsCheck(r, sense(0x04, 0x15, 0x01)));
    EXPECT_EQ(fixtures::decode_sense(r.sense)->information, std::optional<uint64_t>(failed));
    EXPECT_TRUE(IsCheck(host->send(move_query(released, 0), 64), invalid_cdb(2)));
    // Nothing of the interrupted move was committed: the cartridge is still at its source.
    r = host->send(move_query(running, 0), 64);
    EXPECT_TRUE(IsCheck(r, sense(0x0B, 0x00, 0x00)));
    EXPECT_EQ(fixtures::decode_sense(r.sense)->information, std::optional<uint64_t>(running));
    EXPECT_EQ(lib->async_moves().next_token(), running + 1);
    EXPECT_EQ(token_block(host->send(async_move(0, slot(3), slot(8)), 64).data).token, running + 1);

    // And again, now from a compacted snapshot only.
    clock.advance(1min);
    open();
    EXPECT_EQ(host->send(move_query(ok, 0), 64).status, Status::Good);
    EXPECT_TRUE(IsCheck(host->send(move_query(running, 0), 64), sense(0x0B, 0x00, 0x00)));
    EXPECT_EQ(host->send(move_query(running + 1, 0), 64).status, Status::Good);
    EXPECT_EQ(lib->async_moves().next_token(), running + 2);
}

TEST_F(AsyncMovePersistence, StateWrittenBeforeAsyncMovesExistedStillLoads) {
    lib.reset();  // compacts: inventory.json now has an "async_moves" section
    const auto path = config.state_dir / "inventory.json";
    nlohmann::json snap;
    {
        std::ifstream in(path);
        in >> snap;
    }
    ASSERT_TRUE(snap.contains("async_moves"));
    snap.erase("async_moves");
    {
        std::ofstream out(path, std::ios::trunc);
        out << snap.dump();
    }
    open();
    EXPECT_EQ(lib->async_moves().size(), 0u);
    EXPECT_EQ(token_block(host->send(async_move(0, slot(1), slot(4)), 64).data).token, 1u);
}

}  // namespace

// A kill -9 at any moment finds a move's inventory change and the end of its token together or
// neither: the library writes both in one journal record.
TEST_F(AsyncMovePersistence, AMoveAndTheEndOfItsTokenAreOneJournalRecord) {
    const auto token = token_block(host->send(async_move(0, slot(1), slot(4)), 64).data).token;
    clock.advance(1min);
    std::ifstream in(config.state_dir / "journal", std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    std::vector<nlohmann::json> records;
    for (size_t at = 0; at + 8 <= bytes.size();) {
        const uint32_t n = bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | uint32_t(bytes[at + 3]) << 24;
        ASSERT_LE(at + 8 + n, bytes.size());
        records.push_back(nlohmann::json::parse(bytes.begin() + at + 8, bytes.begin() + at + 8 + n));
        at += 8 + n;
    }
    int ends = 0;
    for (const auto& r : records) {
        if (!r.contains("async_moves")) continue;
        for (const auto& a : r["async_moves"]) {
            if (a.at("op") != "end") continue;
            ++ends;
            EXPECT_EQ(a.at("token"), token);
            EXPECT_EQ(a.at("state"), 2);
            // Into the robot's gripper and out of it: the whole move.
            bool picked = false, placed = false;
            for (const auto& c : r.at("changes")) {
                picked |= c.at("op") == "move" && c.at("from") == slot(1);
                placed |= c.at("op") == "move" && c.at("to") == slot(4);
            }
            EXPECT_TRUE(picked && placed) << r.dump();
        }
    }
    EXPECT_EQ(ends, 1);
    // And a restart from exactly this journal (no shutdown snapshot) has both.
    const auto copy = dir.path() / "crashed";
    std::filesystem::copy(config.state_dir, copy, std::filesystem::copy_options::recursive);
    config.state_dir = copy;
    open();
    auto r = host->send(move_query(token, 0), 64);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(status_block(r.data).state, 2);
}
