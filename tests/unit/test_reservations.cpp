// RESERVE/RELEASE (6) and (10) with SPC-2 semantics, and PREVENT ALLOW MEDIUM REMOVAL, between
// several I_T nexuses; what LUN reset and nexus loss do to both.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>

#include "core/logical_unit.h"
#include "core/virtual_clock.h"
#include "device/medium_changer.h"
#include "device/tape_drive.h"
#include "initiator.h"
#include "sense_view.h"
#include "support.h"

namespace {

using namespace vtl::testsupport;

using Bytes = std::vector<uint8_t>;
using vtl::fixtures::Initiator;
using vtl::fixtures::Response;
using vtl::scsi::Status;

vtl::DeviceIdentity identity() {
    vtl::DeviceIdentity id;
    id.vendor = "VTLEMU";
    id.product = "TAPE LIBRARY";
    id.revision = "0100";
    id.serial = "LIB0000001";
    return id;
}

const Bytes kTur = {0x00, 0, 0, 0, 0, 0};
const Bytes kReserve6 = {0x16, 0, 0, 0, 0, 0};
const Bytes kRelease6 = {0x17, 0, 0, 0, 0, 0};
const Bytes kReserve10 = {0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0};
const Bytes kRelease10 = {0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0};
const Bytes kPrevent = {0x1E, 0, 0, 0, 0x01, 0};
const Bytes kAllow = {0x1E, 0, 0, 0, 0x00, 0};

// A changer: ready, so TEST UNIT READY is GOOD unless a reservation stands in the way.
class Reservations : public ::testing::Test {
protected:
    void SetUp() override {
        a.clear_power_on_attention();
        b.clear_power_on_attention();
    }
    vtl::VirtualClock clock;
    vtl::LogicalUnit lu{"lib0/changer", clock, std::make_unique<vtl::MediumChanger>(identity())};
    Initiator a{lu, clock, "iqn.2026-01.test:host-a"};
    Initiator b{lu, clock, "iqn.2026-01.test:host-b"};

    bool held_by(const Initiator& who) const { return lu.reservation() && lu.reservation()->same(who.nexus()); }
};

TEST_F(Reservations, ConflictBetweenTwoInitiators) {
    ASSERT_EQ(a.send(kReserve6).status, Status::Good);
    EXPECT_TRUE(held_by(a));

    auto r = b.send(kTur);
    EXPECT_EQ(r.status, Status::ReservationConflict);
    EXPECT_TRUE(r.sense.empty());
    EXPECT_EQ(b.send(kReserve6).status, Status::ReservationConflict);
    EXPECT_EQ(b.send(kReserve10).status, Status::ReservationConflict);
    EXPECT_EQ(b.send(kPrevent).status, Status::ReservationConflict);
    EXPECT_TRUE(held_by(a));

    // The holder is not affected.
    EXPECT_EQ(a.send(kTur).status, Status::Good);
}

TEST_F(Reservations, CommandsAllowedWhileAnotherNexusHolds) {
    ASSERT_EQ(a.send(kReserve10).status, Status::Good);
    EXPECT_EQ(b.send({0x12, 0, 0, 0, 36, 0}, 36).status, Status::Good);  // INQUIRY
    EXPECT_EQ(b.send({0x03, 0, 0, 0, 18, 0}, 18).status, Status::Good);  // REQUEST SENSE
    EXPECT_EQ(b.send({0xA3, 0x0C, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}, 4096).status, Status::Good);  // RSOC
    EXPECT_EQ(b.send(kAllow).status, Status::Good);
}

TEST_F(Reservations, SameInitiatorThroughAnotherPortIsAnotherNexus) {
    Initiator a_port2(lu, clock, "iqn.2026-01.test:host-a", 2);
    a_port2.clear_power_on_attention();
    ASSERT_EQ(a.send(kReserve6).status, Status::Good);
    EXPECT_EQ(a_port2.send(kTur).status, Status::ReservationConflict);
}

TEST_F(Reservations, HolderMayReserveAgain) {
    ASSERT_EQ(a.send(kReserve6).status, Status::Good);
    EXPECT_EQ(a.send(kReserve6).status, Status::Good);
    EXPECT_EQ(a.send(kReserve10).status, Status::Good);
    EXPECT_TRUE(held_by(a));
}

TEST_F(Reservations, ReleaseByNonHolderIsGoodAndChangesNothing) {
    ASSERT_EQ(a.send(kReserve6).status, Status::Good);
    EXPECT_EQ(b.send(kRelease6).status, Status::Good);
    EXPECT_EQ(b.send(kRelease10).status, Status::Good);
    EXPECT_TRUE(held_by(a));
    EXPECT_EQ(b.send(kTur).status, Status::ReservationConflict);
}

TEST_F(Reservations, ReleaseWithoutAnyReservationIsGood) {
    EXPECT_EQ(a.send(kRelease6).status, Status::Good);
    EXPECT_EQ(a.send(kRelease10).status, Status::Good);
    EXPECT_FALSE(lu.reservation());
}

TEST_F(Reservations, HolderReleases) {
    ASSERT_EQ(a.send(kReserve6).status, Status::Good);
    ASSERT_EQ(a.send(kRelease10).status, Status::Good);
    EXPECT_FALSE(lu.reservation());
    EXPECT_EQ(b.send(kTur).status, Status::Good);

    ASSERT_EQ(b.send(kReserve10).status, Status::Good);
    EXPECT_TRUE(held_by(b));
    ASSERT_EQ(b.send(kRelease6).status, Status::Good);
    EXPECT_FALSE(lu.reservation());
}

TEST_F(Reservations, NexusLossClearsTheReservation) {
    ASSERT_EQ(a.send(kReserve6).status, Status::Good);
    a.nexus_loss();
    EXPECT_FALSE(lu.reservation());
    EXPECT_EQ(b.send(kTur).status, Status::Good);
    EXPECT_EQ(b.send(kReserve6).status, Status::Good);
    // The lost nexus comes back to a unit attention, then finds b's reservation.
    EXPECT_TRUE(IsCheck(a.send(kTur), sense(0x06, 0x29, 0x07)));
    EXPECT_EQ(a.send(kTur).status, Status::ReservationConflict);
}

TEST_F(Reservations, LunResetClearsTheReservation) {
    ASSERT_EQ(a.send(kReserve10).status, Status::Good);
    b.lun_reset();
    EXPECT_FALSE(lu.reservation());
    EXPECT_TRUE(IsCheck(b.send(kTur), sense(0x06, 0x29, 0x03)));
    EXPECT_EQ(b.send(kReserve6).status, Status::Good);
    EXPECT_TRUE(held_by(b));
}

TEST_F(Reservations, Reserve6InvalidFields) {
    struct Case {
        size_t byte;
        uint8_t value;
        int bit;
    };
    for (Case c : {Case{1, 0x10, 4},    // 3RDPTY
                   Case{1, 0x01, 0},    // EXTENT
                   Case{1, 0x08, 3},    // THIRD PARTY DEVICE ID
                   Case{1, 0x20, 5},    // former LUN field
                   Case{1, 0x11, 4},    // the highest offending bit
                   Case{2, 0x01, 0},    // RESERVATION IDENTIFICATION
                   Case{3, 0x80, 7},    // EXTENT LIST LENGTH
                   Case{4, 0x08, 3}}) {
        SCOPED_TRACE(testing::Message() << "byte " << c.byte << " value " << int(c.value));
        Bytes cdb = kReserve6;
        cdb[c.byte] = c.value;
        EXPECT_TRUE(IsCheck(a.send(cdb), invalid_cdb(uint16_t(c.byte), c.bit)));
        EXPECT_FALSE(lu.reservation());
        cdb[0] = 0x17;  // RELEASE(6): same layout
        EXPECT_TRUE(IsCheck(a.send(cdb), invalid_cdb(uint16_t(c.byte), c.bit)));
    }
}

TEST_F(Reservations, Reserve10InvalidFields) {
    struct Case {
        size_t byte;
        uint8_t value;
        int bit;
    };
    for (Case c : {Case{1, 0x10, 4},    // 3RDPTY
                   Case{1, 0x02, 1},    // LONGID
                   Case{1, 0x01, 0},    // EXTENT
                   Case{1, 0x04, 2},
                   Case{1, 0x80, 7},
                   Case{2, 0x01, 0},    // RESERVATION IDENTIFICATION
                   Case{3, 0x05, 2},    // THIRD PARTY DEVICE ID
                   Case{4, 0x01, 0},
                   Case{5, 0x40, 6},
                   Case{6, 0x02, 1},
                   Case{7, 0x01, -1},   // PARAMETER LIST LENGTH without 3RDPTY
                   Case{8, 0x18, -1}}) {
        SCOPED_TRACE(testing::Message() << "byte " << c.byte << " value " << int(c.value));
        Bytes cdb = kReserve10;
        cdb[c.byte] = c.value;
        EXPECT_TRUE(IsCheck(a.send(cdb), invalid_cdb(uint16_t(c.byte == 8 ? 7 : c.byte), c.bit)));
        EXPECT_FALSE(lu.reservation());
        cdb[0] = 0x57;  // RELEASE(10): same layout
        EXPECT_TRUE(IsCheck(a.send(cdb), invalid_cdb(uint16_t(c.byte == 8 ? 7 : c.byte), c.bit)));
    }
}

TEST_F(Reservations, RejectedReleaseKeepsTheReservation) {
    ASSERT_EQ(a.send(kReserve6).status, Status::Good);
    EXPECT_TRUE(IsCheck(a.send({0x17, 0x10, 0, 0, 0, 0}), invalid_cdb(1, 4)));
    EXPECT_TRUE(IsCheck(a.send({0x57, 0, 0, 0, 0, 0, 0, 0, 8, 0}), invalid_cdb(7, -1)));
    EXPECT_TRUE(held_by(a));
}

TEST_F(Reservations, Registration) {
    for (uint8_t op : {0x16, 0x56}) {
        const vtl::CommandInfo* info = lu.commands().find(op, std::nullopt);
        ASSERT_NE(info, nullptr);
        EXPECT_FALSE(info->allowed_when_reserved) << int(op);
        EXPECT_EQ(info->unit_attention, vtl::UnitAttentionRule::Report);
    }
    for (uint8_t op : {0x17, 0x57}) {
        const vtl::CommandInfo* info = lu.commands().find(op, std::nullopt);
        ASSERT_NE(info, nullptr);
        ASSERT_TRUE(info->allowed_when_reserved) << int(op);
    }
    EXPECT_EQ(lu.commands().find(0x16, std::nullopt)->usage, (Bytes{0x16, 0, 0, 0, 0, 0x07}));
    EXPECT_EQ(lu.commands().find(0x56, std::nullopt)->usage, (Bytes{0x56, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0x07}));
    EXPECT_EQ(lu.commands().find(0x1E, std::nullopt)->usage, (Bytes{0x1E, 0, 0, 0, 0x03, 0x07}));
}

class PreventAllow : public Reservations {};

TEST_F(PreventAllow, PreventedWhileAnyNexusPrevents) {
    EXPECT_FALSE(lu.medium_removal_prevented());
    ASSERT_EQ(a.send(kPrevent).status, Status::Good);
    EXPECT_TRUE(lu.medium_removal_prevented());
    ASSERT_EQ(b.send(kPrevent).status, Status::Good);
    ASSERT_EQ(a.send(kAllow).status, Status::Good);
    EXPECT_TRUE(lu.medium_removal_prevented());  // b still prevents
    ASSERT_EQ(a.send(kAllow).status, Status::Good);
    EXPECT_TRUE(lu.medium_removal_prevented());
    ASSERT_EQ(b.send(kAllow).status, Status::Good);
    EXPECT_FALSE(lu.medium_removal_prevented());
}

TEST_F(PreventAllow, NexusLossAndLunResetAllow) {
    ASSERT_EQ(a.send(kPrevent).status, Status::Good);
    a.nexus_loss();
    EXPECT_FALSE(lu.medium_removal_prevented());
    ASSERT_EQ(b.send(kPrevent).status, Status::Good);
    b.lun_reset();
    EXPECT_FALSE(lu.medium_removal_prevented());
}

TEST_F(PreventAllow, OnlyAllowRunsWhileAnotherNexusHoldsAReservation) {
    ASSERT_EQ(a.send(kReserve6).status, Status::Good);
    ASSERT_EQ(a.send(kPrevent).status, Status::Good);
    EXPECT_EQ(b.send(kPrevent).status, Status::ReservationConflict);
    EXPECT_EQ(b.send(kAllow).status, Status::Good);
    EXPECT_TRUE(lu.medium_removal_prevented());  // b's ALLOW does not undo a's PREVENT
}

TEST_F(PreventAllow, InvalidFields) {
    EXPECT_TRUE(IsCheck(a.send({0x1E, 0, 0, 0, 0x02, 0}), invalid_cdb(4, 1)));  // PREVENT 10b
    EXPECT_TRUE(IsCheck(a.send({0x1E, 0, 0, 0, 0x03, 0}), invalid_cdb(4, 1)));  // PREVENT 11b
    EXPECT_TRUE(IsCheck(a.send({0x1E, 0, 0, 0, 0x05, 0}), invalid_cdb(4, 2)));
    EXPECT_TRUE(IsCheck(a.send({0x1E, 0, 0, 0, 0x81, 0}), invalid_cdb(4, 7)));
    EXPECT_TRUE(IsCheck(a.send({0x1E, 0x01, 0, 0, 0x01, 0}), invalid_cdb(1, 0)));
    EXPECT_TRUE(IsCheck(a.send({0x1E, 0, 0x20, 0, 0x01, 0}), invalid_cdb(2, 5)));
    EXPECT_TRUE(IsCheck(a.send({0x1E, 0, 0, 0xFF, 0x01, 0}), invalid_cdb(3, 7)));
    EXPECT_FALSE(lu.medium_removal_prevented());
}

TEST_F(PreventAllow, RejectedAllowKeepsPrevention) {
    ASSERT_EQ(a.send(kPrevent).status, Status::Good);
    EXPECT_TRUE(IsCheck(a.send({0x1E, 0, 0, 0, 0x02, 0}), invalid_cdb(4, 1)));
    EXPECT_TRUE(IsCheck(a.send({0x1E, 0, 0, 0, 0x04, 0}), invalid_cdb(4, 2)));
    EXPECT_TRUE(lu.medium_removal_prevented());
}

TEST_F(PreventAllow, TapeDriveToo) {
    vtl::DeviceIdentity id;
    id.vendor = "VTLEMU";
    vtl::LogicalUnit drive("lib0/drive0", clock, std::make_unique<vtl::TapeDrive>(id));
    Initiator h(drive, clock);
    h.clear_power_on_attention();
    EXPECT_EQ(h.send(kPrevent).status, Status::Good);  // no medium needed
    EXPECT_TRUE(drive.medium_removal_prevented());
    EXPECT_EQ(h.send(kAllow).status, Status::Good);
    EXPECT_FALSE(drive.medium_removal_prevented());
}

}  // namespace
