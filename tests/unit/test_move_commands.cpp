// MOVE MEDIUM, EXCHANGE MEDIUM, POSITION TO ELEMENT, INITIALIZE ELEMENT STATUS (07h, 37h, E7h)
// and OPEN/CLOSE IMPORT/EXPORT ELEMENT: asynchronous completion on the robot's timing, every
// refusal with the sense real libraries return, and after every refusal an unchanged inventory.
#include <gtest/gtest.h>

#include "smc_support.h"

using namespace vtl;
using namespace vtl::smctest;
using namespace vtl::testsupport;
using fixtures::read_element_status;
using scsi::Status;

namespace {

const ExpectedSense kInvalidAddress = sense(0x05, 0x21, 0x01);
const ExpectedSense kDestinationFull = sense(0x05, 0x3B, 0x0D);
const ExpectedSense kSourceEmpty = sense(0x05, 0x3B, 0x0E);
const ExpectedSense kRemovalPrevented = sense(0x05, 0x53, 0x02);
const ExpectedSense kIncompatible = sense(0x05, 0x30, 0x00);
const ExpectedSense kDoorOpen = sense(0x02, 0x04, 0x03);

class MoveCommands : public ChangerTest {
protected:
    // The command is refused at once, with that sense, and nothing in the library changed.
    ::testing::AssertionResult refused(const Bytes& cdb, const ExpectedSense& expected) {
        const Bytes before = all_status();
        auto p = host->submit(cdb);
        if (!p.done()) return ::testing::AssertionFailure() << "not refused at once";
        auto check = IsCheck(p.response(), expected);
        if (!check) return check;
        clock.advance(std::chrono::minutes(10));
        if (all_status() != before) return ::testing::AssertionFailure() << "inventory changed";
        return ::testing::AssertionSuccess();
    }

    // Loads slot `n`'s cartridge into drive `d` and waits until the drive is ready.
    void load(uint32_t n, uint32_t d) {
        ASSERT_EQ(run(move_medium(mte(), slot(n), dte(d))).status, Status::Good);
        clock.advance(std::chrono::minutes(2));
        ASSERT_EQ(lib->drive_at(dte(d))->state(), DriveMechanism::State::Loaded);
    }
};

TEST_F(MoveCommands, MoveCompletesWhenTheRobotHasPlacedTheCartridge) {
    auto p = host->submit(move_medium(mte(), slot(1), slot(4)));
    EXPECT_FALSE(p.done());
    const auto start = clock.now();
    for (int i = 0; i < 100 && !p.done(); ++i) clock.step();
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, Status::Good);
    EXPECT_TRUE(p.response().data.empty());
    EXPECT_GE(clock.now() - start, std::chrono::seconds(4));  // at least a pick and a place
    EXPECT_EQ(tag_at(slot(4)), "A00001L8");
    EXPECT_FALSE(element(slot(1)).full);
}

TEST_F(MoveCommands, TransportZeroLetsTheLibraryChoose) {
    build(small_config(config::Personality::IbmTs4500));  // the robot is element 0001h
    ASSERT_EQ(run(move_medium(0, slot(1), slot(4))).status, Status::Good);
    EXPECT_EQ(tag_at(slot(4)), "A00001L8");
    ASSERT_EQ(run(move_medium(mte(), slot(4), slot(1))).status, Status::Good);
    EXPECT_EQ(tag_at(slot(1)), "A00001L8");
}

TEST_F(MoveCommands, VendorBitsOfTheControlByteAreIgnored) {
    // mtx puts its eepos in CONTROL bits 7-6.
    ASSERT_EQ(run(move_medium(mte(), slot(1), slot(4), false, 0xC0)).status, Status::Good);
    EXPECT_EQ(tag_at(slot(4)), "A00001L8");
    ASSERT_EQ(run(exchange_medium(mte(), slot(4), slot(2), slot(4), false, false, 0x40)).status, Status::Good);
    EXPECT_EQ(tag_at(slot(4)), "A00002L8");
    EXPECT_EQ(tag_at(slot(2)), "A00001L8");
}

TEST_F(MoveCommands, CdbErrorsPointAtTheField) {
    EXPECT_TRUE(refused(move_medium(mte(), slot(1), slot(4), true), invalid_cdb(10, 0)));  // LTO has one side
    auto cdb = move_medium(mte(), slot(1), slot(4));
    cdb[8] = 0x01;
    EXPECT_TRUE(refused(cdb, invalid_cdb(8, 0)));
    cdb = move_medium(mte(), slot(1), slot(4));
    cdb[10] = 0x80;
    EXPECT_TRUE(refused(cdb, invalid_cdb(10, 7)));
    cdb = move_medium(mte(), slot(1), slot(4));
    cdb[1] = 0x01;
    EXPECT_TRUE(refused(cdb, invalid_cdb(1, 0)));
    cdb = move_medium(mte(), slot(1), slot(4), false, 0x01);  // LINK
    EXPECT_TRUE(refused(cdb, invalid_cdb(11, 0)));

    EXPECT_TRUE(refused(exchange_medium(mte(), slot(1), slot(2), slot(1), true, false), invalid_cdb(10, 0)));
    EXPECT_TRUE(refused(exchange_medium(mte(), slot(1), slot(2), slot(1), false, true), invalid_cdb(10, 1)));
    EXPECT_TRUE(refused(position_to_element(mte(), slot(1), true), invalid_cdb(8, 0)));
    auto pos = position_to_element(mte(), slot(1));
    pos[6] = 0x10;
    EXPECT_TRUE(refused(pos, invalid_cdb(6, 4)));
}

TEST_F(MoveCommands, InvalidAddresses) {
    EXPECT_TRUE(refused(move_medium(mte(), 0x5555, slot(4)), kInvalidAddress));
    EXPECT_TRUE(refused(move_medium(mte(), slot(1), 0x5555), kInvalidAddress));
    EXPECT_TRUE(refused(move_medium(slot(5), slot(1), slot(4)), kInvalidAddress));  // not a robot
    EXPECT_TRUE(refused(move_medium(mte(), slot(1), slot(11)), kInvalidAddress));  // one past the last slot
    EXPECT_TRUE(refused(exchange_medium(mte(), slot(1), 0x5555, slot(1)), kInvalidAddress));
    EXPECT_TRUE(refused(position_to_element(mte(), 0x5555), kInvalidAddress));
}

TEST_F(MoveCommands, SourceEmptyAndDestinationFull) {
    EXPECT_TRUE(refused(move_medium(mte(), slot(4), slot(5)), kSourceEmpty));
    EXPECT_TRUE(refused(move_medium(mte(), slot(1), slot(2)), kDestinationFull));
    EXPECT_TRUE(refused(move_medium(mte(), dte(0), slot(5)), kSourceEmpty));
    EXPECT_TRUE(refused(exchange_medium(mte(), slot(4), slot(1), slot(4)), kSourceEmpty));
    EXPECT_TRUE(refused(exchange_medium(mte(), slot(1), slot(4), slot(1)), kSourceEmpty));
    EXPECT_TRUE(refused(exchange_medium(mte(), slot(1), slot(2), slot(3)), kDestinationFull));
}

TEST_F(MoveCommands, DriveHeldByItsHostCannotBeEmptied) {
    load(1, 0);
    fixtures::Initiator tape_host(*lib->drive_lu_at(dte(0)), clock, "iqn.2026-01.test:tape");
    tape_host.clear_power_on_attention();
    drain(&tape_host);
    ASSERT_EQ(tape_host.send(fixtures::prevent_allow(1)).status, Status::Good);
    EXPECT_TRUE(refused(move_medium(mte(), dte(0), slot(1)), kRemovalPrevented));
    ASSERT_EQ(tape_host.send(fixtures::prevent_allow(0)).status, Status::Good);
    ASSERT_EQ(run(move_medium(mte(), dte(0), slot(1))).status, Status::Good);  // implicit unload
    EXPECT_EQ(tag_at(slot(1)), "A00001L8");
    EXPECT_FALSE(element(dte(0)).full);
}

TEST_F(MoveCommands, IncompatibleMediumIsRefusedBeforeTheRobotMoves) {
    EXPECT_TRUE(refused(move_medium(mte(), slot(3), dte(0)), kIncompatible));  // LTO-9 into an LTO-8 drive
}

TEST_F(MoveCommands, DoorOpenStopsMovesThroughTheStation) {
    ASSERT_EQ(lib->open_ie_door(), std::nullopt);
    drain();
    EXPECT_TRUE(refused(move_medium(mte(), slot(1), ie(1)), kDoorOpen));
    smc::Cartridge c{.barcode = "NEW001L8", .type = config::MediaType::Data, .generation = 8};
    ASSERT_EQ(lib->insert_cartridge(1, c), std::nullopt);  // the operator is at the open door
    drain();
    EXPECT_TRUE(refused(move_medium(mte(), ie(2), slot(4)), kDoorOpen));
    // Moves elsewhere go on.
    ASSERT_EQ(run(move_medium(mte(), slot(1), slot(4))).status, Status::Good);
    ASSERT_EQ(lib->close_ie_door(), std::nullopt);
    drain();
    ASSERT_EQ(run(move_medium(mte(), ie(2), slot(5))).status, Status::Good);
    EXPECT_EQ(tag_at(slot(5)), "NEW001L8");
}

TEST_F(MoveCommands, ExchangeSwapsAndRotates) {
    ASSERT_EQ(run(exchange_medium(mte(), slot(1), slot(2), slot(1))).status, Status::Good);
    EXPECT_EQ(tag_at(slot(1)), "A00002L8");
    EXPECT_EQ(tag_at(slot(2)), "A00001L8");
    // Source to the first destination, the first destination's cartridge to a third element.
    ASSERT_EQ(run(exchange_medium(mte(), slot(1), slot(2), slot(4))).status, Status::Good);
    EXPECT_EQ(tag_at(slot(2)), "A00002L8");
    EXPECT_EQ(tag_at(slot(4)), "A00001L8");
    EXPECT_FALSE(element(slot(1)).full);
}

TEST_F(MoveCommands, PositionToElementMovesOnlyTheRobot) {
    const Bytes before = all_status();
    auto p = host->submit(position_to_element(mte(), slot(7)));
    for (int i = 0; i < 100 && !p.done(); ++i) clock.step();
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, Status::Good);
    EXPECT_EQ(all_status(), before);
}

TEST_F(MoveCommands, SeveralMovesQueueOnTheRobotAndStatusRunsMeanwhile) {
    auto a = host->submit(move_medium(mte(), slot(1), slot(4)));
    auto b = host->submit(move_medium(mte(), slot(2), slot(5)));
    fixtures::Initiator other(lib->changer(), clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    auto c = other.submit(move_medium(mte(), slot(9), slot(6)));
    EXPECT_FALSE(a.done() || b.done() || c.done());
    // READ ELEMENT STATUS is answered at once while the robot works.
    auto r = host->send(read_element_status(true, 0, 0, 0xFFFF, 0xFFFF), 0xFFFF);
    EXPECT_EQ(r.status, Status::Good);
    for (int i = 0; i < 1000 && !(a.done() && b.done() && c.done()); ++i) clock.step();
    EXPECT_EQ(a.response().status, Status::Good);
    EXPECT_EQ(b.response().status, Status::Good);
    EXPECT_EQ(c.response().status, Status::Good);
    EXPECT_EQ(tag_at(slot(4)), "A00001L8");
    EXPECT_EQ(tag_at(slot(5)), "A00002L8");
    EXPECT_EQ(tag_at(slot(6)), "CLN001CU");
}

TEST_F(MoveCommands, AbortOfAQueuedMoveChangesNothing) {
    auto a = host->submit(move_medium(mte(), slot(1), slot(4)));
    auto b = host->submit(move_medium(mte(), slot(2), slot(5)));
    ASSERT_TRUE(host->abort(b));
    ASSERT_TRUE(b.done());
    EXPECT_EQ(b.response().status, Status::TaskAborted);
    for (int i = 0; i < 100 && !a.done(); ++i) clock.step();
    clock.advance(std::chrono::minutes(5));
    EXPECT_EQ(a.response().status, Status::Good);
    EXPECT_EQ(tag_at(slot(2)), "A00002L8");
    EXPECT_FALSE(element(slot(5)).full);
}

TEST_F(MoveCommands, AbortOfAMoveInMotionFollowsThePolicy) {
    // Default policy: the robot finishes what it started.
    auto a = host->submit(move_medium(mte(), slot(1), slot(4)));
    clock.step();
    ASSERT_FALSE(a.done());
    ASSERT_TRUE(host->abort(a));
    EXPECT_EQ(a.response().status, Status::TaskAborted);
    clock.advance(std::chrono::minutes(5));
    EXPECT_EQ(tag_at(slot(4)), "A00001L8");
    EXPECT_FALSE(element(mte()).full);

    auto c = small_config();
    c.bridge.abort_policy = config::AbortPolicy::ReturnToSource;
    build(c);
    a = host->submit(move_medium(mte(), slot(1), slot(4)));
    clock.step();
    ASSERT_TRUE(host->abort(a));
    clock.advance(std::chrono::minutes(5));
    EXPECT_EQ(tag_at(slot(1)), "A00001L8");
    EXPECT_FALSE(element(slot(4)).full);
    EXPECT_FALSE(element(mte()).full);
}

TEST_F(MoveCommands, LunResetAbortsMovesAndTheLibraryStaysConsistent) {
    auto a = host->submit(move_medium(mte(), slot(1), slot(4)));
    auto b = host->submit(move_medium(mte(), slot(2), slot(5)));
    clock.step();
    host->lun_reset();
    EXPECT_EQ(a.response().status, Status::TaskAborted);
    EXPECT_EQ(b.response().status, Status::TaskAborted);
    clock.advance(std::chrono::minutes(5));
    drain();
    EXPECT_EQ(tag_at(slot(4)), "A00001L8");  // in motion: completed
    EXPECT_EQ(tag_at(slot(2)), "A00002L8");  // queued: never started
    EXPECT_FALSE(element(mte()).full);
}

TEST_F(MoveCommands, LoadAndImplicitUnload) {
    load(1, 0);
    EXPECT_TRUE(element(dte(0)).full);
    ASSERT_EQ(run(move_medium(mte(), dte(0), slot(1))).status, Status::Good);
    EXPECT_EQ(tag_at(slot(1)), "A00001L8");
    EXPECT_EQ(lib->drive_at(dte(0))->state(), DriveMechanism::State::Empty);
}

TEST_F(MoveCommands, IbmRefusesToPickFromAThreadedDrive) {
    build(small_config(config::Personality::IbmTs4500));
    load(1, 0);
    // The host has to unload it first (05/53/02, as for a drive its host holds).
    EXPECT_TRUE(refused(move_medium(mte(), dte(0), slot(1)), kRemovalPrevented));
    EXPECT_TRUE(element(dte(0)).full);
    EXPECT_FALSE(element(slot(1)).full);
}

TEST_F(MoveCommands, MoveToItselfIsGoodAtOnce) {
    const Bytes before = all_status();
    auto p = host->submit(move_medium(mte(), slot(1), slot(1)));
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, Status::Good);
    EXPECT_EQ(all_status(), before);
}

// ---- INITIALIZE ELEMENT STATUS -------------------------------------------------------------

TEST_F(MoveCommands, InitializeElementStatusTakesTimeAndTheChangerIsBecomingReady) {
    auto p = host->submit(initialize_element_status());
    EXPECT_FALSE(p.done());
    EXPECT_TRUE(IsCheck(host->send(fixtures::test_unit_ready()), sense(0x02, 0x04, 0x01)));
    // Status is still answered meanwhile.
    EXPECT_EQ(host->send(read_element_status(true, 0, 0, 1, 1000), 1000).status, Status::Good);
    for (int i = 0; i < 10'000 && !p.done(); ++i) clock.step();
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, Status::Good);
    EXPECT_EQ(host->send(fixtures::test_unit_ready()).status, Status::Good);
}

TEST_F(MoveCommands, InitializeClearsExceptions) {
    lib->set_exception(slot(2), scsi::Asc{0x83, 0x00});
    drain();
    ASSERT_TRUE(element(slot(2)).except);
    ASSERT_EQ(run(initialize_element_status()).status, Status::Good);
    EXPECT_FALSE(element(slot(2)).except);
}

TEST_F(MoveCommands, InitializeCdbErrors) {
    Bytes cdb = initialize_element_status();
    cdb[2] = 0x01;
    EXPECT_TRUE(IsCheck(host->send(cdb), invalid_cdb(2, 0)));
    cdb = initialize_element_status();
    cdb[1] = 0x20;  // obsolete LUN field: ignored
    EXPECT_EQ(run(cdb).status, Status::Good);

    EXPECT_TRUE(IsCheck(host->send(initialize_with_range(true, 0x5555, 3)), kInvalidAddress));
    auto with = initialize_with_range(true, slot(1), 3);
    with[4] = 0x01;
    EXPECT_TRUE(IsCheck(host->send(with), invalid_cdb(4, 0)));
    with = initialize_with_range(true, slot(1), 3);
    with[1] |= 0x04;
    EXPECT_TRUE(IsCheck(host->send(with), invalid_cdb(1, 2)));
    // RANGE=0: address and count are ignored.
    EXPECT_EQ(run(initialize_with_range(false, 0x5555, 3)).status, Status::Good);
    EXPECT_EQ(run(initialize_with_range(true, slot(2), 5)).status, Status::Good);
    EXPECT_EQ(run(initialize_with_range(true, slot(2), 5, true)).status, Status::Good);
}

TEST_F(MoveCommands, VendorInitializeWithRangeFollowsThePersonality) {
    // Generic: E7h is not a command of this library.
    EXPECT_TRUE(IsCheck(host->send(initialize_with_range(true, slot(1), 2, false, 0xE7)), sense(0x05, 0x20, 0x00)));
    build(small_config(config::Personality::IbmTs3500));
    EXPECT_EQ(run(initialize_with_range(true, slot(1), 2, false, 0xE7)).status, Status::Good);
    EXPECT_TRUE(IsCheck(host->send(initialize_with_range(true, 0x0000, 2, false, 0xE7)), kInvalidAddress));
}

TEST_F(MoveCommands, AbortedInitializeLeavesTheChangerReady) {
    auto p = host->submit(initialize_element_status());
    ASSERT_FALSE(p.done());
    ASSERT_TRUE(host->abort(p));
    EXPECT_EQ(p.response().status, Status::TaskAborted);
    EXPECT_EQ(host->send(fixtures::test_unit_ready()).status, Status::Good);
    clock.advance(std::chrono::hours(1));
    EXPECT_EQ(host->send(fixtures::test_unit_ready()).status, Status::Good);
}

// ---- OPEN/CLOSE IMPORT/EXPORT ELEMENT ------------------------------------------------------

TEST_F(MoveCommands, OpenAndCloseTheImportExportStation) {
    ASSERT_EQ(run(open_close_ie(ie(1), 0)).status, Status::Good);
    EXPECT_TRUE(lib->ie_door_open());
    drain();
    EXPECT_FALSE(element(ie(1)).access);
    ASSERT_EQ(run(open_close_ie(ie(1), 0)).status, Status::Good);  // already open: not an error
    drain();
    ASSERT_EQ(run(open_close_ie(ie(2), 1)).status, Status::Good);
    EXPECT_FALSE(lib->ie_door_open());
    drain();
    EXPECT_TRUE(element(ie(1)).access);
    ASSERT_EQ(run(open_close_ie(ie(2), 1)).status, Status::Good);  // already closed
}

TEST_F(MoveCommands, OpenCloseErrors) {
    EXPECT_TRUE(IsCheck(host->send(open_close_ie(slot(1), 0)), kInvalidAddress));
    EXPECT_TRUE(IsCheck(host->send(open_close_ie(0x5555, 0)), kInvalidAddress));
    EXPECT_TRUE(IsCheck(host->send(open_close_ie(ie(1), 2)), invalid_cdb(4, 4)));
    auto cdb = open_close_ie(ie(1), 0);
    cdb[4] |= 0x40;
    EXPECT_TRUE(IsCheck(host->send(cdb), invalid_cdb(4, 6)));
    // PREVENT MEDIUM REMOVAL on the changer locks the station.
    ASSERT_EQ(host->send(fixtures::prevent_allow(1)).status, Status::Good);
    EXPECT_TRUE(IsCheck(host->send(open_close_ie(ie(1), 0)), kRemovalPrevented));
    EXPECT_FALSE(lib->ie_door_open());
    ASSERT_EQ(host->send(fixtures::prevent_allow(0)).status, Status::Good);
    EXPECT_EQ(run(open_close_ie(ie(1), 0)).status, Status::Good);
}

}  // namespace
