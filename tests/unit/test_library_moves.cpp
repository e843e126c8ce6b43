// The library's state machine through its API on a virtual clock: the checks real libraries
// apply before the robot starts, timed motions, drives loading and unloading, exchanges, aborts,
// INITIALIZE ELEMENT STATUS and the operator at the import/export station.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/virtual_clock.h"
#include "device/tape_drive.h"
#include "initiator.h"
#include "library/library.h"
#include "library_fixture.h"
#include "sense_view.h"

using namespace vtl;
using namespace vtl::libtest;
using namespace std::chrono_literals;
using config::AbortPolicy;
using config::Personality;
using library::ExchangeRequest;
using library::Library;
using library::MoveRequest;
using State = DriveMechanism::State;

namespace {

std::string barcode_at(Library& lib, uint16_t address) {
    const auto* e = lib.inventory().at(address);
    if (!e || !e->cartridge) return "";
    return lib.inventory().cartridge(*e->cartridge).barcode;
}

// TEST UNIT READY from a host that has already seen its power-on attention.
std::optional<fixtures::SenseView> tur(fixtures::Initiator& host) {
    const auto r = host.send({0x00, 0, 0, 0, 0, 0});
    if (r.status == scsi::Status::Good) return std::nullopt;
    return fixtures::decode_sense(r.sense);
}

::testing::AssertionResult Senses(const std::optional<fixtures::SenseView>& s, uint8_t key, uint8_t asc, uint8_t ascq) {
    if (!s) return ::testing::AssertionFailure() << "GOOD";
    if (s->key != key || s->asc != asc || s->ascq != ascq) {
        return ::testing::AssertionFailure() << fmt::format("{:X}/{:02X}/{:02X}", s->key, s->asc, s->ascq);
    }
    return ::testing::AssertionSuccess();
}

struct Lib {
    explicit Lib(config::LibraryConfig c = small_library()) : cfg(std::move(c)), lib(cfg, clock) {}
    config::LibraryConfig cfg;
    VirtualClock clock;
    Library lib;

    uint16_t s(uint32_t n) const { return slot(cfg, n); }
    uint16_t d(uint32_t i) const { return drive(cfg, i); }
    uint16_t ie_(uint32_t i) const { return ie(cfg, i); }
    uint16_t r(uint32_t i = 0) const { return robot(cfg, i); }
    // Moves and runs the clock until the move is done.
    std::optional<scsi::Sense> move(uint16_t from, uint16_t to) {
        Outcome o;
        lib.start_move(MoveRequest{.source = from, .destination = to}, o.callback());
        clock.advance(600s);
        EXPECT_EQ(o.calls, 1);
        return o.sense;
    }
};

}  // namespace

// --- checks ------------------------------------------------------------------------------------

TEST(LibraryMoves, ChecksReturnTheSenseRealLibrariesReturnAndChangeNothing) {
    Lib t;
    const auto before = t.lib.inventory().to_json();
    auto check = [&](uint16_t transport, uint16_t from, uint16_t to) {
        return t.lib.check_move(MoveRequest{.transport = transport, .source = from, .destination = to});
    };
    EXPECT_TRUE(IsSense(check(0x0005, t.s(1), t.s(9)), 0x5, 0x21, 0x01)) << "transport that is no robot";
    EXPECT_TRUE(IsSense(check(t.s(2), t.s(1), t.s(9)), 0x5, 0x21, 0x01)) << "transport that is a slot";
    EXPECT_TRUE(IsSense(check(0, 0x2000, t.s(9)), 0x5, 0x21, 0x01)) << "no such source";
    EXPECT_TRUE(IsSense(check(0, t.s(1), 0x0FFF), 0x5, 0x21, 0x01)) << "no such destination";
    EXPECT_TRUE(IsSense(check(0, t.r(), t.s(9)), 0x5, 0x21, 0x01)) << "the gripper as source";
    EXPECT_TRUE(IsSense(check(0, t.s(1), t.r()), 0x5, 0x21, 0x01)) << "the gripper as destination";
    EXPECT_TRUE(IsSense(check(0, t.s(9), t.s(10)), 0x5, 0x3B, 0x0E)) << "source empty";
    EXPECT_TRUE(IsSense(check(0, t.s(1), t.s(2)), 0x5, 0x3B, 0x0D)) << "destination full";
    EXPECT_TRUE(IsSense(check(0, t.s(7), t.d(0)), 0x5, 0x30, 0x00)) << "LTO-5 into an LTO-8 drive";
    EXPECT_TRUE(IsSense(check(0, t.s(8), t.d(2)), 0x5, 0x30, 0x00)) << "Type M into an LTO-9 drive";
    EXPECT_FALSE(check(0, t.s(8), t.d(0))) << "Type M into an LTO-8 drive";
    EXPECT_FALSE(check(0, t.s(6), t.d(2))) << "cleaning cartridge into any drive";
    EXPECT_FALSE(check(0, t.s(1), t.s(9)));
    EXPECT_FALSE(check(t.r(), t.s(1), t.ie_(0)));
    EXPECT_FALSE(check(0, t.s(1), t.s(1))) << "source == destination: GOOD without motion";

    ASSERT_FALSE(t.lib.open_ie_door());
    EXPECT_TRUE(IsSense(check(0, t.s(1), t.ie_(0)), 0x2, 0x04, 0x03)) << "I/E door open";
    EXPECT_FALSE(check(0, t.s(1), t.s(9))) << "the door does not concern slots";

    // A failed check through start_move is answered with the same sense and moves nothing.
    Outcome o;
    t.lib.start_move(MoveRequest{.source = t.s(1), .destination = t.ie_(0)}, o.callback());
    EXPECT_EQ(o.calls, 0) << "never from inside the caller";
    t.clock.advance(60s);
    EXPECT_EQ(o.calls, 1);
    EXPECT_TRUE(IsSense(o.sense, 0x2, 0x04, 0x03));
    EXPECT_EQ(t.lib.inventory().to_json(), before);
}

TEST(LibraryMoves, HostPreventOnADriveRefusesMovesOutOfIt) {
    Lib t;
    ASSERT_FALSE(t.move(t.s(1), t.d(0)));
    fixtures::Initiator host(*t.lib.find("drive0"), t.clock);
    host.lu().set_prevent(host.nexus(), true);
    EXPECT_TRUE(IsSense(t.lib.check_move(MoveRequest{.source = t.d(0), .destination = t.s(1)}), 0x5, 0x53, 0x02));
    host.lu().set_prevent(host.nexus(), false);
    EXPECT_FALSE(t.lib.check_move(MoveRequest{.source = t.d(0), .destination = t.s(1)}));
}

TEST(LibraryMoves, SameSourceAndDestinationIsGoodAtOnceWithoutMotion) {
    Lib t;
    Outcome o;
    t.lib.start_move(MoveRequest{.source = t.s(3), .destination = t.s(3)}, o.callback());
    t.clock.run_ready();
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(o.sense);
    EXPECT_EQ(t.clock.now().time_since_epoch(), Duration{});
    EXPECT_EQ(t.lib.robots().busy(), 0u);
    EXPECT_FALSE(t.lib.inventory().at(t.s(3))->source);
}

// --- motion ------------------------------------------------------------------------------------

TEST(LibraryMoves, SlotToSlotPicksThenPlacesAndRecordsTheSource) {
    Lib t;
    Outcome o;
    t.lib.start_move(MoveRequest{.source = t.s(1), .destination = t.s(9)}, o.callback());
    t.clock.advance(4999ms);
    EXPECT_EQ(barcode_at(t.lib, t.s(1)), "A00001L8") << "travel 3 s + pick 2 s";
    t.clock.advance(1ms);
    EXPECT_EQ(barcode_at(t.lib, t.s(1)), "");
    EXPECT_EQ(barcode_at(t.lib, t.r()), "A00001L8") << "in the gripper, as READ ELEMENT STATUS shows it";
    EXPECT_EQ(t.lib.inventory().at(t.r())->source, t.s(1));
    t.clock.advance(4999ms);
    EXPECT_EQ(o.calls, 0);
    t.clock.advance(1ms);
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(o.sense);
    EXPECT_EQ(barcode_at(t.lib, t.s(9)), "A00001L8");
    EXPECT_EQ(t.lib.inventory().at(t.s(9))->source, t.s(1)) << "the slot, not the robot";
    EXPECT_FALSE(t.lib.inventory().at(t.r())->full());
    EXPECT_EQ(t.lib.operations_in_flight(), 0u);
}

TEST(LibraryMoves, ImportExportTravelTakesItsOwnTime) {
    Lib t;
    Outcome o;
    t.lib.start_move(MoveRequest{.source = t.s(1), .destination = t.ie_(0)}, o.callback());
    t.clock.advance(13999ms);  // (5 + 2) * 2
    EXPECT_EQ(o.calls, 0);
    t.clock.advance(1ms);
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(t.lib.inventory().at(t.ie_(0))->impexp) << "exported by the robot";
}

TEST(LibraryMoves, MoveIntoADriveEndsAtTheMouthThenTheDriveLoads) {
    Lib t;
    fixtures::Initiator host(*t.lib.find("drive0"), t.clock);
    host.clear_power_on_attention();
    EXPECT_TRUE(Senses(tur(host), 0x2, 0x3A, 0x00));

    Outcome o;
    t.lib.start_move(MoveRequest{.source = t.s(1), .destination = t.d(0)}, o.callback());
    t.clock.advance(10s);
    EXPECT_EQ(o.calls, 1) << "done once placed, not after the load";
    EXPECT_EQ(barcode_at(t.lib, t.d(0)), "A00001L8");
    EXPECT_EQ(t.lib.drive_at(t.d(0))->state(), State::Loading);
    EXPECT_TRUE(Senses(tur(host), 0x2, 0x04, 0x01));
    t.clock.advance(15s);
    EXPECT_EQ(t.lib.drive_at(t.d(0))->state(), State::Loaded);
    EXPECT_TRUE(Senses(tur(host), 0x6, 0x28, 0x00)) << "not ready to ready";
    EXPECT_FALSE(tur(host));
}

TEST(LibraryMoves, MoveOutOfALoadedDriveUnloadsItFirst) {
    Lib t;
    ASSERT_FALSE(t.move(t.s(1), t.d(0)));
    ASSERT_EQ(t.lib.drive_at(t.d(0))->state(), State::Loaded);
    fixtures::Initiator host(*t.lib.find("drive0"), t.clock);
    host.clear_power_on_attention();

    Outcome o;
    t.lib.start_move(MoveRequest{.source = t.d(0), .destination = t.s(1)}, o.callback());
    t.clock.advance(1s);
    EXPECT_EQ(t.lib.drive_at(t.d(0))->state(), State::Unloading);
    EXPECT_TRUE(Senses(tur(host), 0x2, 0x04, 0x00));
    t.clock.advance(14s);
    EXPECT_EQ(t.lib.drive_at(t.d(0))->state(), State::Ejected);
    EXPECT_TRUE(Senses(tur(host), 0x2, 0x3A, 0x00));
    t.clock.advance(4999ms);  // travel 3 + unload 15 + pick 2
    EXPECT_EQ(barcode_at(t.lib, t.d(0)), "A00001L8");
    t.clock.advance(1ms);
    EXPECT_EQ(barcode_at(t.lib, t.r()), "A00001L8");
    EXPECT_EQ(t.lib.drive_at(t.d(0))->state(), State::Empty);
    t.clock.advance(5s);
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(o.sense);
    EXPECT_EQ(t.lib.inventory().at(t.s(1))->source, t.d(0));
    EXPECT_TRUE(Senses(tur(host), 0x2, 0x3A, 0x00));
}

// The library's unload time is a model; a drive that takes longer (here a 30 s rewind of a
// written tape before the unload) keeps the robot waiting at its mouth instead of failing the
// move with 04/53/00.
TEST(LibraryMoves, RobotWaitsForADriveThatUnloadsSlowerThanTheModel) {
    auto cfg = small_library();
    cfg.timings.rewind = config::MotionTime{.time = config::Millis(30'000)};
    Lib t(cfg);
    ASSERT_FALSE(t.move(t.s(1), t.d(0)));
    fixtures::Initiator host(*t.lib.find("drive0"), t.clock);
    host.clear_power_on_attention();
    while (tur(host)) {  // 28/00 after the load
    }
    const auto write = host.send({0x0A, 0x00, 0x00, 0x02, 0x00, 0x00}, 0, std::vector<uint8_t>(512, 0x5A));
    ASSERT_EQ(write.status, scsi::Status::Good);

    Outcome o;
    t.lib.start_move(MoveRequest{.source = t.d(0), .destination = t.s(1)}, o.callback());
    t.clock.advance(30s);  // past travel 3 + unload 15 + pick 2: the drive is still rewinding
    EXPECT_EQ(t.lib.drive_at(t.d(0))->state(), State::Unloading);
    EXPECT_EQ(barcode_at(t.lib, t.d(0)), "A00001L8");
    EXPECT_EQ(o.calls, 0);
    t.clock.advance(60s);
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(o.sense) << (o.sense ? int(o.sense->code().asc) : 0);
    EXPECT_EQ(barcode_at(t.lib, t.s(1)), "A00001L8");
    EXPECT_EQ(t.lib.drive_at(t.d(0))->state(), State::Empty);
}

TEST(LibraryMoves, IbmRefusesAThreadedDriveUntilTheHostUnloadsIt) {
    Lib t(small_library(Personality::IbmTs4500));
    ASSERT_FALSE(t.move(t.s(1), t.d(0)));
    ASSERT_EQ(t.lib.drive_at(t.d(0))->state(), State::Loaded);
    EXPECT_TRUE(IsSense(t.lib.check_move(MoveRequest{.source = t.d(0), .destination = t.s(1)}), 0x5, 0x53, 0x02));

    // The host unloads (SSC LOAD/UNLOAD); once the cartridge is in the mouth the robot may take it.
    Outcome unload;
    t.lib.drive_at(t.d(0))->eject(unload.callback());
    t.clock.advance(1s);
    EXPECT_TRUE(IsSense(t.lib.check_move(MoveRequest{.source = t.d(0), .destination = t.s(1)}), 0x5, 0x53, 0x02));
    t.clock.advance(14s);
    EXPECT_EQ(unload.calls, 1);
    EXPECT_FALSE(t.lib.check_move(MoveRequest{.source = t.d(0), .destination = t.s(1)}));
    Outcome o;
    t.lib.start_move(MoveRequest{.source = t.d(0), .destination = t.s(1)}, o.callback());
    t.clock.advance(9999ms);  // no unload in the pick phase
    EXPECT_EQ(o.calls, 0);
    t.clock.advance(1ms);
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(o.sense);
}

TEST(LibraryMoves, CleaningCartridgeRunsItsCycleAndIsEjected) {
    Lib t;
    ASSERT_FALSE(t.move(t.s(6), t.d(1)));
    EXPECT_EQ(t.lib.drive_at(t.d(1))->state(), State::Ejected);
    EXPECT_EQ(barcode_at(t.lib, t.d(1)), "CLN001CU");
    ASSERT_FALSE(t.move(t.d(1), t.s(6)));
    EXPECT_EQ(t.lib.drive_at(t.d(1))->state(), State::Empty);
}

TEST(LibraryMoves, QueuedLoadThenUnloadAreBothAcceptedAndRunInOrder) {
    Lib t;
    Outcome load, unload;
    t.lib.start_move(MoveRequest{.source = t.s(2), .destination = t.d(0)}, load.callback());
    // Checked against the inventory as it will be: the drive will hold A00002L8.
    ASSERT_FALSE(t.lib.check_move(MoveRequest{.source = t.d(0), .destination = t.s(10)}));
    EXPECT_TRUE(IsSense(t.lib.check_move(MoveRequest{.source = t.s(3), .destination = t.d(0)}), 0x5, 0x3B, 0x0D));
    EXPECT_TRUE(IsSense(t.lib.check_move(MoveRequest{.source = t.s(2), .destination = t.s(11)}), 0x5, 0x3B, 0x0E));
    t.lib.start_move(MoveRequest{.source = t.d(0), .destination = t.s(10)}, unload.callback());
    EXPECT_EQ(t.lib.robots().queued(), 1u);
    t.clock.advance(10s);
    EXPECT_EQ(load.calls, 1);
    EXPECT_EQ(unload.calls, 0);
    t.clock.advance(600s);
    EXPECT_EQ(unload.calls, 1);
    EXPECT_FALSE(unload.sense);
    EXPECT_EQ(barcode_at(t.lib, t.s(10)), "A00002L8");
    EXPECT_EQ(t.lib.inventory().at(t.s(10))->source, t.d(0));
}

TEST(LibraryMoves, AQueuedMoveIsCheckedAgainWhenTheRobotTakesIt) {
    Lib t;
    Outcome first, second;
    const auto id = t.lib.start_move(MoveRequest{.source = t.s(1), .destination = t.s(9)}, first.callback());
    t.lib.start_move(MoveRequest{.source = t.s(9), .destination = t.s(10)}, second.callback());
    t.clock.advance(1s);
    t.lib.abort(id, AbortPolicy::ReturnToSource);  // slot 9 will never be filled
    t.clock.advance(600s);
    EXPECT_EQ(first.calls, 0) << "aborted: the host was answered already";
    EXPECT_EQ(second.calls, 1);
    EXPECT_TRUE(IsSense(second.sense, 0x5, 0x3B, 0x0E));
    EXPECT_EQ(barcode_at(t.lib, t.s(1)), "A00001L8");
    EXPECT_EQ(barcode_at(t.lib, t.s(9)), "");
}

// --- aborts ------------------------------------------------------------------------------------

TEST(LibraryMoves, AbortOfAQueuedMoveRemovesIt) {
    Lib t;
    Outcome a, b;
    t.lib.start_move(MoveRequest{.source = t.s(1), .destination = t.s(9)}, a.callback());
    const auto queued = t.lib.start_move(MoveRequest{.source = t.s(2), .destination = t.s(10)}, b.callback());
    t.lib.abort(queued, AbortPolicy::Complete);
    EXPECT_EQ(t.lib.robots().queued(), 0u);
    t.clock.advance(600s);
    EXPECT_EQ(a.calls, 1);
    EXPECT_EQ(b.calls, 0);
    EXPECT_EQ(barcode_at(t.lib, t.s(2)), "A00002L8");
    EXPECT_EQ(barcode_at(t.lib, t.s(10)), "");
    EXPECT_FALSE(t.lib.check_move(MoveRequest{.source = t.s(2), .destination = t.s(10)})) << "nothing left claimed";
    t.lib.abort(queued, AbortPolicy::Complete);  // already gone: logged, harmless
}

TEST(LibraryMoves, AbortWithCompleteRunsTheMoveToItsEndWithoutAnswering) {
    Lib t;
    Outcome o;
    const auto id = t.lib.start_move(MoveRequest{.source = t.s(1), .destination = t.s(9)}, o.callback());
    t.clock.advance(7s);  // carrying
    t.lib.abort(id, AbortPolicy::Complete);
    t.clock.advance(600s);
    EXPECT_EQ(o.calls, 0);
    EXPECT_EQ(barcode_at(t.lib, t.s(9)), "A00001L8");
    EXPECT_EQ(t.lib.operations_in_flight(), 0u);
}

TEST(LibraryMoves, AbortWithReturnToSourcePutsTheCartridgeBack) {
    for (auto when : {1s, 7s}) {  // picking, carrying
        SCOPED_TRACE(when.count());
        Lib t;
        Outcome o;
        const auto id = t.lib.start_move(MoveRequest{.source = t.s(1), .destination = t.s(9)}, o.callback());
        t.clock.advance(when);
        t.lib.abort(id, AbortPolicy::ReturnToSource);
        EXPECT_FALSE(t.lib.check_move(MoveRequest{.source = t.s(2), .destination = t.s(9)})) << "slot 9 stays empty";
        t.clock.advance(600s);
        EXPECT_EQ(o.calls, 0);
        EXPECT_EQ(barcode_at(t.lib, t.s(1)), "A00001L8");
        EXPECT_EQ(barcode_at(t.lib, t.s(9)), "");
        EXPECT_FALSE(t.lib.inventory().at(t.r())->full());
    }
}

TEST(LibraryMoves, ReturnToSourceOfADriveLoadsItAgain) {
    Lib t;
    ASSERT_FALSE(t.move(t.s(1), t.d(0)));
    Outcome o;
    const auto id = t.lib.start_move(MoveRequest{.source = t.d(0), .destination = t.s(9)}, o.callback());
    t.clock.advance(22s);  // picked at 20 s, now carrying
    ASSERT_EQ(barcode_at(t.lib, t.r()), "A00001L8");
    t.lib.abort(id, AbortPolicy::ReturnToSource);
    t.clock.advance(5s);
    EXPECT_EQ(barcode_at(t.lib, t.d(0)), "A00001L8");
    EXPECT_EQ(t.lib.drive_at(t.d(0))->state(), State::Loading);
    t.clock.advance(15s);
    EXPECT_EQ(t.lib.drive_at(t.d(0))->state(), State::Loaded);
    EXPECT_EQ(o.calls, 0);
}

// --- exchange, position, initialize ------------------------------------------------------------

TEST(LibraryMoves, ExchangeToAThirdElement) {
    Lib t;
    Outcome o;
    const ExchangeRequest x{.source = t.s(1), .first_destination = t.s(2), .second_destination = t.s(9)};
    ASSERT_FALSE(t.lib.check_exchange(x));
    t.lib.start_exchange(x, o.callback());
    t.clock.advance(19999ms);  // two trips of 10 s
    EXPECT_EQ(o.calls, 0);
    t.clock.advance(1ms);
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(o.sense);
    EXPECT_EQ(barcode_at(t.lib, t.s(1)), "");
    EXPECT_EQ(barcode_at(t.lib, t.s(2)), "A00001L8");
    EXPECT_EQ(barcode_at(t.lib, t.s(9)), "A00002L8");
    EXPECT_EQ(t.lib.inventory().at(t.s(2))->source, t.s(1));
    EXPECT_EQ(t.lib.inventory().at(t.s(9))->source, t.s(2));
}

TEST(LibraryMoves, ExchangeBackToTheSourceSwapsTwoCartridges) {
    Lib t;
    ASSERT_FALSE(t.move(t.s(1), t.d(0)));
    Outcome o;
    const ExchangeRequest x{.source = t.s(2), .first_destination = t.d(0), .second_destination = t.s(2)};
    ASSERT_FALSE(t.lib.check_exchange(x));
    t.lib.start_exchange(x, o.callback());
    t.clock.advance(600s);
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(o.sense);
    EXPECT_EQ(barcode_at(t.lib, t.d(0)), "A00002L8");
    EXPECT_EQ(barcode_at(t.lib, t.s(2)), "A00001L8");
    EXPECT_EQ(t.lib.inventory().at(t.d(0))->source, t.s(2));
    EXPECT_EQ(t.lib.inventory().at(t.s(2))->source, t.d(0));
    EXPECT_EQ(t.lib.drive_at(t.d(0))->state(), State::Loaded);
    EXPECT_FALSE(t.lib.inventory().at(t.r())->full());
}

TEST(LibraryMoves, ExchangeChecks) {
    Lib t;
    auto check = [&](uint16_t s, uint16_t f, uint16_t sec) {
        return t.lib.check_exchange(ExchangeRequest{.source = s, .first_destination = f, .second_destination = sec});
    };
    EXPECT_TRUE(IsSense(check(t.s(1), t.s(9), t.s(10)), 0x5, 0x3B, 0x0E)) << "first destination empty";
    EXPECT_TRUE(IsSense(check(t.s(9), t.s(1), t.s(10)), 0x5, 0x3B, 0x0E)) << "source empty";
    EXPECT_TRUE(IsSense(check(t.s(1), t.s(2), t.s(3)), 0x5, 0x3B, 0x0D)) << "second destination full";
    EXPECT_TRUE(IsSense(check(t.s(1), t.s(2), t.s(2)), 0x5, 0x3B, 0x0D)) << "both to the first destination";
    EXPECT_TRUE(IsSense(check(t.s(1), 0x0FFF, t.s(3)), 0x5, 0x21, 0x01));
    EXPECT_TRUE(IsSense(check(t.s(1), t.s(7), t.d(0)), 0x5, 0x30, 0x00)) << "the LTO-5 medium would go to drive0";
    EXPECT_FALSE(check(t.s(1), t.s(2), t.s(1)));
}

TEST(LibraryMoves, PositionToElementIsATimedTravel) {
    Lib t;
    EXPECT_TRUE(IsSense(t.lib.check_position(0, t.r()), 0x5, 0x21, 0x01));
    EXPECT_TRUE(IsSense(t.lib.check_position(0x0077, t.s(1)), 0x5, 0x21, 0x01));
    Outcome o;
    t.lib.start_position(0, t.s(5), o.callback());
    t.clock.advance(2999ms);
    EXPECT_EQ(o.calls, 0);
    t.clock.advance(1ms);
    EXPECT_EQ(o.calls, 1);
    EXPECT_FALSE(o.sense);
}

TEST(LibraryMoves, InitializeElementStatusScansAndClearsExceptions) {
    Lib t;
    t.lib.set_exception(t.s(3), scsi::Asc{0x83, 0x00});
    t.lib.set_exception(t.s(11), scsi::Asc{0x83, 0x00});
    Outcome range, all;
    t.lib.initialize_element_status(std::pair<uint16_t, uint16_t>{t.s(1), 4}, range.callback());
    t.clock.advance(199ms);
    EXPECT_EQ(range.calls, 0);
    t.clock.advance(1ms);  // 4 elements x 50 ms
    EXPECT_EQ(range.calls, 1);
    EXPECT_FALSE(t.lib.inventory().at(t.s(3))->exception);
    EXPECT_TRUE(t.lib.inventory().at(t.s(11))->exception) << "outside the range";
    t.lib.initialize_element_status(std::nullopt, all.callback());
    t.clock.advance(18 * 50ms);
    EXPECT_EQ(all.calls, 1);
    EXPECT_FALSE(t.lib.inventory().at(t.s(11))->exception);
}

TEST(LibraryMoves, TwoRobotsMoveInParallelButNeverOnTheSameElement) {
    auto cfg = small_library();
    cfg.robots = 2;
    Lib t(cfg);
    Outcome a, b, c;
    t.lib.start_move(MoveRequest{.source = t.s(1), .destination = t.s(9)}, a.callback());
    t.lib.start_move(MoveRequest{.source = t.s(2), .destination = t.s(10)}, b.callback());
    t.lib.start_move(MoveRequest{.source = t.s(9), .destination = t.s(11)}, c.callback());  // needs the first one
    EXPECT_EQ(t.lib.robots().busy(), 2u);
    t.clock.advance(10s);
    EXPECT_EQ(a.calls, 1);
    EXPECT_EQ(b.calls, 1);
    EXPECT_EQ(c.calls, 0);
    t.clock.advance(10s);
    EXPECT_EQ(c.calls, 1);
    EXPECT_FALSE(c.sense);
    EXPECT_EQ(barcode_at(t.lib, t.s(11)), "A00001L8");
    EXPECT_EQ(t.lib.inventory().at(t.s(11))->source, t.s(9));
}

// --- the drive's mechanism on its own ----------------------------------------------------------

TEST(LibraryMoves, DriveRefusesAnLtoGenerationItCannotReadAndEjectsIt) {
    Lib t;
    Outcome o;
    auto* drive = t.lib.drive_at(t.d(0));
    drive->insert(smc::Cartridge{.barcode = "OLD005L5", .generation = 5}, o.callback());
    EXPECT_EQ(drive->state(), State::Loading);
    t.clock.advance(15s);
    EXPECT_EQ(o.calls, 1);
    EXPECT_TRUE(IsSense(o.sense, 0x5, 0x30, 0x00));
    EXPECT_EQ(drive->state(), State::Ejected);
    drive->removed();
    EXPECT_EQ(drive->state(), State::Empty);
}

TEST(LibraryMoves, LtoCompatibilityRules) {
    auto c = [](int gen, bool m = false) { return smc::Cartridge{.barcode = "X", .generation = gen, .type_m = m}; };
    EXPECT_TRUE(lto_readable(5, c(3)));
    EXPECT_FALSE(lto_writable(5, c(3)));
    EXPECT_TRUE(lto_readable(7, c(5)));
    EXPECT_FALSE(lto_readable(8, c(6)));
    EXPECT_TRUE(lto_readable(8, c(7)));
    EXPECT_TRUE(lto_writable(8, c(7)));
    EXPECT_TRUE(lto_readable(8, c(7, true)));
    EXPECT_FALSE(lto_readable(7, c(7, true)));
    EXPECT_FALSE(lto_readable(9, c(7, true)));
    EXPECT_FALSE(lto_readable(9, c(7)));
    EXPECT_TRUE(lto_readable(9, c(8)));
    EXPECT_FALSE(lto_readable(8, c(9)));
    EXPECT_TRUE(lto_readable(8, smc::Cartridge{.barcode = "CLN", .type = config::MediaType::Cleaning}));
}

// --- the operator ------------------------------------------------------------------------------

TEST(LibraryMoves, OperatorInsertsThroughTheOpenDoorAndHostsHearOfIt) {
    Lib t;
    fixtures::Initiator host(t.lib.changer(), t.clock);
    host.clear_power_on_attention();
    EXPECT_EQ(t.lib.insert_cartridge(0, smc::Cartridge{.barcode = "NEW001L8"}),
              "the import/export door is closed; open it first");
    ASSERT_FALSE(t.lib.open_ie_door());
    EXPECT_TRUE(t.lib.ie_door_open());
    EXPECT_EQ(t.lib.insert_cartridge(5, smc::Cartridge{.barcode = "NEW001L8"}),
              "no import/export slot 5 (the library has 2)");
    EXPECT_EQ(t.lib.insert_cartridge(0, smc::Cartridge{.barcode = "new.1"}),
              "invalid barcode \"new.1\": character 1 'n' is lower case; only A-Z and 0-9 are allowed");
    EXPECT_EQ(t.lib.insert_cartridge(0, smc::Cartridge{.barcode = "A00003L8"}),
              "barcode A00003L8 is already in the library (element 0x1002)");
    ASSERT_FALSE(t.lib.insert_cartridge(0, smc::Cartridge{.barcode = "NEW001L9"}));
    EXPECT_EQ(t.lib.insert_cartridge(0, smc::Cartridge{.barcode = "NEW002L9"}), "import/export slot 0 is not empty");

    const auto* e = t.lib.inventory().at(t.ie_(0));
    EXPECT_TRUE(e->impexp);
    const auto& cart = t.lib.inventory().cartridge(*e->cartridge);
    EXPECT_EQ(cart.generation, 9) << "from the label";
    auto r = host.send({0x00, 0, 0, 0, 0, 0});
    EXPECT_TRUE(Senses(fixtures::decode_sense(r.sense), 0x6, 0x28, 0x01));

    EXPECT_TRUE(IsSense(t.lib.check_move(MoveRequest{.source = t.ie_(0), .destination = t.s(9)}), 0x2, 0x04, 0x03));
    ASSERT_FALSE(t.lib.close_ie_door());
    r = host.send({0x00, 0, 0, 0, 0, 0});
    EXPECT_TRUE(Senses(fixtures::decode_sense(r.sense), 0x6, 0x28, 0x01)) << "closing the door";
    ASSERT_FALSE(t.move(t.ie_(0), t.s(9)));
    EXPECT_EQ(barcode_at(t.lib, t.s(9)), "NEW001L9");
    EXPECT_EQ(t.lib.inventory().at(t.s(9))->source, t.ie_(0));
}

TEST(LibraryMoves, PreventLocksTheStationAgainstTheOperatorNotAgainstMoves) {
    Lib t;
    ASSERT_FALSE(t.move(t.s(1), t.ie_(1)));
    fixtures::Initiator host(t.lib.changer(), t.clock);
    host.lu().set_prevent(host.nexus(), true);
    EXPECT_TRUE(t.lib.ie_locked());
    EXPECT_TRUE(t.lib.open_ie_door().has_value());
    EXPECT_FALSE(t.lib.ie_door_open());
    EXPECT_FALSE(t.lib.check_move(MoveRequest{.source = t.ie_(1), .destination = t.s(1)})) << "the robot may";
    host.lu().set_prevent(host.nexus(), false);
    ASSERT_FALSE(t.lib.open_ie_door());
    host.lu().set_prevent(host.nexus(), true);
    EXPECT_TRUE(t.lib.take_cartridge(1).has_value()) << "locked while open";
    host.lu().set_prevent(host.nexus(), false);
    ASSERT_FALSE(t.lib.take_cartridge(1));
    EXPECT_EQ(t.lib.inventory().find("A00001L8"), std::nullopt) << "left the library";
    EXPECT_EQ(t.lib.take_cartridge(1), "import/export slot 1 is empty");
}

TEST(LibraryMoves, NotifyReachesEveryChangerFacingLogicalUnit) {
    Lib t;
    LogicalUnit& bridged = *t.lib.find("drive1");  // stands in for a bridged LUN 1
    t.lib.add_changer_lu(bridged);
    fixtures::Initiator a(t.lib.changer(), t.clock), b(bridged, t.clock);
    a.clear_power_on_attention();
    b.clear_power_on_attention();
    t.lib.notify(scsi::asc::kImportExportElementAccessed);
    EXPECT_TRUE(Senses(fixtures::decode_sense(a.send({0x00, 0, 0, 0, 0, 0}).sense), 0x6, 0x28, 0x01));
    EXPECT_TRUE(Senses(fixtures::decode_sense(b.send({0x00, 0, 0, 0, 0, 0}).sense), 0x6, 0x28, 0x01));
    t.lib.remove_changer_lu(bridged);
}
