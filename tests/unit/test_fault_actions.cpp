// Every fault action, through the logical units and robots the way a host sees it.
#include <bit>

#include "test_fault_support.h"

namespace vtl::faulttest {
namespace {

using ssctest::pattern;
using ssctest::read6;
using ssctest::rewind;
using ssctest::write6;

TEST(FaultActions, CheckConditionCarriesKeyAscAscqAndInformation) {
    FaultRig rig;
    rig.add(
        R"J({"device":"t0/changer","command":"TEST UNIT READY","action":"check_condition","sense":"4/44/00","information":1234,"count":1})J");
    const auto r = rig.tur(rig.changer());
    ASSERT_TRUE(IsCheck(r, sense(0x4, 0x44, 0x00)));
    const auto s = fixtures::decode_sense(r.sense);
    EXPECT_EQ(s->response_code, 0x70);  // the changer's format: fixed
    EXPECT_EQ(s->information, 1234u);
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));  // count = 1: retired
    const json list = rig.plan().list();
    EXPECT_EQ(list[0]["fired"], 1);
    EXPECT_EQ(list[0]["retired"], true);
    EXPECT_EQ(rig.plan().stats()["by_action"]["check_condition"], 1);
    EXPECT_EQ(rig.plan().stats()["fired_total"], 1);
}

TEST(FaultActions, CheckConditionInDescriptorFormatWhenDSenseIsSet) {
    FaultRig rig;
    // The control mode page as the changer reports it, sent back with D_SENSE (byte 2 bit 2).
    const auto current = rig.run(rig.changer(), Bytes{0x1A, 0x08, 0x0A, 0x00, 0xFF, 0x00}, 0xFF);
    ASSERT_TRUE(IsGood(current));
    ASSERT_GE(current.data.size(), 4u + 12u);
    Bytes list{0x00, 0x00, 0x00, 0x00};
    list.insert(list.end(), current.data.begin() + 4, current.data.begin() + 4 + 2 + current.data[5]);
    list[4] &= 0x3F;  // PS is reserved in MODE SELECT
    list[6] |= 0x04;
    ASSERT_TRUE(IsGood(rig.run(rig.changer(), fixtures::mode_select6(true, false, uint8_t(list.size())), 0, list)));
    rig.add(R"J({"device":"t0/changer","command":0,"action":"check_condition","sense":"3/11/00","information":7})J");
    const auto r = rig.tur(rig.changer());
    ASSERT_TRUE(IsCheck(r, sense(0x3, 0x11, 0x00)));
    const auto s = fixtures::decode_sense(r.sense);
    EXPECT_EQ(s->response_code, 0x72);
    EXPECT_EQ(s->information, 7u);
}

TEST(FaultActions, BusyTaskSetFullReservationConflict) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/changer","action":"busy","count":1})J");
    rig.add(R"J({"device":"t0/changer","action":"task_set_full","count":1})J");
    rig.add(R"J({"device":"t0/changer","action":"reservation_conflict","count":1})J");
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::Busy));
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::TaskSetFull));
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::ReservationConflict));
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    const auto stats = rig.plan().stats();
    EXPECT_EQ(stats["fired_total"], 3);
    EXPECT_EQ(stats["by_action"]["busy"], 1);
    EXPECT_EQ(stats["by_action"]["task_set_full"], 1);
    EXPECT_EQ(stats["by_action"]["reservation_conflict"], 1);
}

TEST(FaultActions, DelayRunsTheCommandAfterTheChosenTime) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/changer","command":"TEST UNIT READY","action":"delay","delay":"90s","count":1})J");
    auto p = rig.changer().submit(fixtures::test_unit_ready());
    rig.clock().advance(90s - 1ns);
    EXPECT_FALSE(p.done());
    rig.clock().advance(1ns);
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, scsi::Status::Good);
    EXPECT_EQ(rig.plan().stats()["held"], 0);
}

TEST(FaultActions, DelayedCommandCanBeAborted) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/changer","action":"delay","delay":"1h","count":1})J");
    auto p = rig.changer().submit(fixtures::test_unit_ready());
    rig.clock().advance(1s);
    EXPECT_TRUE(rig.changer().abort(p));
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, scsi::Status::TaskAborted);
    EXPECT_EQ(rig.clock().pending_timers(), 0u);  // the delay's timer went with it
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
}

TEST(FaultActions, HangUntilAbortTaskThenLunReset) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/drive0","command":"TEST UNIT READY","action":"hang","count":2})J");
    auto first = rig.drive().submit(fixtures::test_unit_ready());
    rig.clock().advance(24h);
    EXPECT_FALSE(first.done());
    EXPECT_EQ(rig.plan().stats()["held"], 1);
    EXPECT_TRUE(rig.drive().abort(first));
    ASSERT_TRUE(first.done());
    EXPECT_EQ(first.response().status, scsi::Status::TaskAborted);
    // The drive keeps serving: an immediate command and the next hang.
    EXPECT_TRUE(IsGood(rig.run(rig.drive(), fixtures::inquiry(), 96)));
    auto second = rig.drive().submit(fixtures::test_unit_ready());
    rig.clock().advance(1h);
    EXPECT_FALSE(second.done());
    rig.drive().lun_reset();
    ASSERT_TRUE(second.done());
    EXPECT_EQ(second.response().status, scsi::Status::TaskAborted);
    EXPECT_TRUE(IsCheck(rig.tur(rig.drive()), sense(0x6, 0x29, 0x03)));
    EXPECT_TRUE(IsCheck(rig.tur(rig.drive()), sense(0x2, 0x3A, 0x00)));  // served again: no medium
    EXPECT_EQ(rig.plan().stats()["held"], 0);
}

TEST(FaultActions, RemovingAHangRuleReleasesTheCommand) {
    FaultRig rig;
    const auto id = rig.add(R"J({"device":"t0/changer","action":"hang"})J");
    auto p = rig.changer().submit(fixtures::test_unit_ready());
    rig.clock().advance(1min);
    EXPECT_FALSE(p.done());
    EXPECT_TRUE(rig.plan().remove(id));
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, scsi::Status::Good);
}

TEST(FaultActions, UnitAttentionForOneNexus) {
    FaultRig rig;
    Initiator other(rig.library().changer(), rig.clock(), "iqn.2026-01.test:other");
    other.clear_power_on_attention();
    rig.add(
        R"J({"device":"t0/changer","initiator":"iqn.2026-01.test:host0","action":"unit_attention","asc":"2A/01","count":1})J");
    EXPECT_TRUE(IsCheck(rig.tur(rig.changer()), sense(0x6, 0x2A, 0x01)));
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    EXPECT_TRUE(IsGood(rig.tur(other)));
}

TEST(FaultActions, UnitAttentionForEveryNexus) {
    FaultRig rig;
    Initiator other(rig.library().changer(), rig.clock(), "iqn.2026-01.test:other");
    other.clear_power_on_attention();
    rig.add(R"J({"device":"t0/changer","action":"unit_attention","asc":"3F/0E","nexus":"all","count":1})J");
    EXPECT_TRUE(IsCheck(rig.tur(rig.changer()), sense(0x6, 0x3F, 0x0E)));
    EXPECT_TRUE(IsCheck(rig.tur(other), sense(0x6, 0x3F, 0x0E)));
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    EXPECT_TRUE(IsGood(rig.tur(other)));
}

TEST(FaultActions, UnitAttentionEventAtATime) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/drive1","action":"unit_attention","asc":"29/04","at":"30s"})J");
    Initiator host(*rig.library().find("drive1"), rig.clock());
    host.clear_power_on_attention();
    rig.clock().advance(29s);
    EXPECT_TRUE(IsCheck(rig.tur(host), sense(0x2, 0x3A, 0x00)));
    rig.clock().advance(1s);
    EXPECT_TRUE(IsCheck(rig.tur(host), sense(0x6, 0x29, 0x04)));
    EXPECT_TRUE(IsCheck(rig.tur(host), sense(0x2, 0x3A, 0x00)));
    EXPECT_EQ(rig.plan().list()[0]["retired"], true);
}

TEST(FaultActions, NotReadyForAWindow) {
    FaultRig rig;
    rig.add(
        R"J({"device":"t0/changer","command":"MOVE MEDIUM","action":"not_ready","asc":"04/01","duration":"1min"})J");
    auto move = rig.run(rig.changer(), smctest::move_medium(0, rig.slot(1), rig.slot(9)));
    EXPECT_TRUE(IsCheck(move, sense(0x2, 0x04, 0x01)));  // the triggering command sees it first
    rig.clock().advance(59s);
    EXPECT_TRUE(IsCheck(rig.tur(rig.changer()), sense(0x2, 0x04, 0x01)));
    EXPECT_TRUE(IsCheck(rig.run(rig.changer(), fixtures::read_element_status(true, 0, 0, 10, 4096), 4096),
                        sense(0x2, 0x04, 0x01)));
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), fixtures::inquiry(), 96)));
    // REQUEST SENSE returns the condition as its data.
    const auto rs = rig.run(rig.changer(), fixtures::request_sense(false, 252), 252);
    ASSERT_TRUE(IsGood(rs));
    const auto s = fixtures::decode_sense(rs.data);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->key, 0x2);
    EXPECT_EQ(s->asc, 0x04);
    EXPECT_EQ(s->ascq, 0x01);
    rig.clock().advance(1s);
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    EXPECT_EQ(rig.tag_at(rig.slot(1)), "A00001L8");         // the refused move changed nothing
    EXPECT_EQ(rig.plan().stats()["refused_not_ready"], 3);  // MOVE MEDIUM, TEST UNIT READY, READ ELEMENT STATUS
}

TEST(FaultActions, DriveOfflineRefusesCommandsAndTheLibraryItsMoves) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/drive0","action":"offline","at":"0s","duration":"10min","changer_sense":"5/83/05"})J");
    rig.clock().run_ready();
    EXPECT_TRUE(IsCheck(rig.tur(rig.drive()), sense(0x2, 0x04, 0x12)));
    EXPECT_TRUE(
        IsCheck(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(1), rig.dte(0))), sense(0x5, 0x83, 0x05)));
    EXPECT_EQ(rig.tag_at(rig.slot(1)), "A00001L8");
    // Other drives are not affected.
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(2), rig.dte(1)))));
    rig.clock().advance(10min);
    EXPECT_TRUE(IsCheck(rig.tur(rig.drive()), sense(0x2, 0x3A, 0x00)));
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(1), rig.dte(0)))));
}

TEST(FaultActions, LibraryDoorOpenedByAnOperator) {
    FaultRig rig;
    Initiator other(rig.library().changer(), rig.clock(), "iqn.2026-01.test:other");
    other.clear_power_on_attention();
    rig.add(R"J({"device":"t0","action":"door","at":"10s","duration":"5min"})J");
    rig.clock().advance(10s - 1ms);
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    rig.clock().advance(1ms);
    EXPECT_TRUE(IsCheck(rig.tur(rig.changer()), sense(0x2, 0x04, 0x03)));
    EXPECT_TRUE(
        IsCheck(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(1), rig.slot(9))), sense(0x2, 0x04, 0x03)));
    EXPECT_TRUE(IsCheck(rig.tur(rig.drive()), sense(0x2, 0x3A, 0x00)));  // drives go on
    rig.clock().advance(5min);
    EXPECT_TRUE(IsCheck(rig.tur(rig.changer()), sense(0x6, 0x28, 0x00)));
    EXPECT_TRUE(IsCheck(rig.tur(other), sense(0x6, 0x28, 0x00)));
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
}

TEST(FaultActions, IeDoorOpenedByAnOperator) {
    FaultRig rig;
    const auto id = rig.add(R"J({"device":"t0","action":"door","door":"ie","at":"1s"})J");
    rig.clock().advance(1s);
    EXPECT_TRUE(rig.library().ie_door_open());
    EXPECT_TRUE(
        IsCheck(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(1), rig.ie(0))), sense(0x2, 0x04, 0x03)));
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));  // the library itself is ready
    EXPECT_TRUE(rig.plan().remove(id));           // no duration: closes when the rule goes
    EXPECT_FALSE(rig.library().ie_door_open());
    EXPECT_TRUE(IsCheck(rig.tur(rig.changer()), sense(0x6, 0x28, 0x01)));
}

TEST(FaultActions, TapeAlertFlagsRaised) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/drive0","action":"tape_alert","flags":[3, 20],"at":"0s"})J");
    rig.clock().run_ready();
    EXPECT_TRUE(rig.tape_drive().alerts().active(0x03));
    EXPECT_TRUE(rig.tape_drive().alerts().active(0x14));
    EXPECT_FALSE(rig.tape_drive(1).alerts().active(0x03));
    const auto r = rig.run(rig.drive(), fixtures::log_sense(false, false, 1, 0x2E, 0, 0, 0xFFFF), 0xFFFF);
    ASSERT_TRUE(IsGood(r));
    const auto page = fixtures::decode_log_page(r.data);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->uint_param(0x03), 1u);
    EXPECT_EQ(page->uint_param(0x14), 1u);
    EXPECT_EQ(page->uint_param(0x05), 0u);
}

TEST(FaultActions, MediumErrorOnAReadBlockRangeVariable) {
    FaultRig rig;
    rig.load();
    for (uint32_t i = 0; i < 6; ++i) ASSERT_TRUE(IsGood(rig.run(rig.drive(), write6(1000), 0, pattern(1000, i))));
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), rewind())));
    rig.add(R"J({"device":"t0/drive0","action":"medium_error","blocks":[2,3]})J");
    for (uint32_t i = 0; i < 6; ++i) {
        const auto r = rig.run(rig.drive(), read6(1000), 1000);
        if (i == 2 || i == 3) {
            ASSERT_TRUE(IsCheck(r, sense(0x3, 0x11, 0x00))) << "block " << i;
            EXPECT_EQ(fixtures::decode_sense(r.sense)->information, 1000u);
            EXPECT_EQ(r.residual, 1000u);
        } else {
            ASSERT_TRUE(IsGood(r)) << "block " << i;
            EXPECT_EQ(r.data, pattern(1000, i));
        }
        EXPECT_EQ(rig.tape_drive().tape().object(), i + 1);  // past the bad block, as a drive is
    }
    EXPECT_EQ(rig.plan().list()[0]["fired"], 2);
    EXPECT_EQ(rig.tape_drive().statistics().read_errors, 2u);
}

TEST(FaultActions, MediumErrorOnAFixedReadStopsAtTheBadBlock) {
    FaultRig rig;
    rig.load();
    Initiator& h = rig.drive();
    Bytes list{0x00, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0, 0, 0x02, 0x00};  // block length 512
    ASSERT_TRUE(IsGood(rig.run(h, fixtures::mode_select6(true, false, uint8_t(list.size())), 0, list)));
    const Bytes data = pattern(8 * 512, 9);
    ASSERT_TRUE(IsGood(rig.run(h, write6(8, true), 0, data)));
    ASSERT_TRUE(IsGood(rig.run(h, rewind())));
    rig.add(R"J({"device":"t0/drive0","action":"medium_error","blocks":5,"count":1})J");
    const auto r = rig.run(h, read6(8, true), 8 * 512);
    ASSERT_EQ(r.status, scsi::Status::CheckCondition);
    const auto s = fixtures::decode_sense(r.sense);
    EXPECT_EQ(s->key, 0x3);
    EXPECT_EQ(s->asc, 0x11);
    EXPECT_EQ(s->ascq, 0x00);
    EXPECT_EQ(s->information, 3u);  // VALID: blocks 5, 6, 7 not transferred
    EXPECT_EQ(r.data, Bytes(data.begin(), data.begin() + 5 * 512));
    EXPECT_EQ(r.residual, 3u * 512);
    // Positioned after the damaged block (as a drive that gave up on it), not after the transfer.
    EXPECT_EQ(rig.tape_drive().tape().object(), 6u);
    EXPECT_EQ(rig.tape_drive().statistics().read_errors, 1u);
    const auto rest = rig.run(h, read6(2, true), 2 * 512);
    ASSERT_TRUE(IsGood(rest));
    EXPECT_EQ(rest.data, Bytes(data.begin() + 6 * 512, data.end()));
    EXPECT_EQ(rig.tape_drive().tape().object(), 8u);
}

TEST(FaultActions, MediumErrorOnTheFirstBlockOfAFixedRead) {
    FaultRig rig;
    rig.load();
    Initiator& h = rig.drive();
    Bytes list{0x00, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0, 0, 0x02, 0x00};  // block length 512
    ASSERT_TRUE(IsGood(rig.run(h, fixtures::mode_select6(true, false, uint8_t(list.size())), 0, list)));
    ASSERT_TRUE(IsGood(rig.run(h, write6(4, true), 0, pattern(4 * 512, 3))));
    ASSERT_TRUE(IsGood(rig.run(h, ssctest::locate10(1))));
    // Two damaged ranges in the transfer: the nearer one stops it.
    rig.add(R"J({"device":"t0/drive0","action":"medium_error","blocks":[3,3]})J");
    rig.add(R"J({"device":"t0/drive0","action":"medium_error","blocks":[0,1]})J");
    const auto r = rig.run(h, read6(3, true), 3 * 512);
    ASSERT_TRUE(IsCheck(r, sense(0x3, 0x11, 0x00)));
    EXPECT_EQ(fixtures::decode_sense(r.sense)->information, 3u);
    EXPECT_TRUE(r.data.empty());
    EXPECT_EQ(r.residual, 3u * 512);
    EXPECT_EQ(rig.tape_drive().tape().object(), 2u);
}

TEST(FaultActions, FixedReadStoppedByAFilemarkNeverReachesTheDamagedBlock) {
    FaultRig rig;
    rig.load();
    Initiator& h = rig.drive();
    Bytes list{0x00, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0, 0, 0x02, 0x00};  // block length 512
    ASSERT_TRUE(IsGood(rig.run(h, fixtures::mode_select6(true, false, uint8_t(list.size())), 0, list)));
    const Bytes data = pattern(2 * 512, 4);
    ASSERT_TRUE(IsGood(rig.run(h, write6(2, true), 0, data)));
    ASSERT_TRUE(IsGood(rig.run(h, ssctest::write_filemarks(1))));
    ASSERT_TRUE(IsGood(rig.run(h, write6(2, true), 0, pattern(2 * 512, 5))));
    ASSERT_TRUE(IsGood(rig.run(h, rewind())));
    rig.add(R"J({"device":"t0/drive0","action":"medium_error","blocks":4})J");
    const auto r = rig.run(h, read6(6, true), 6 * 512);
    ASSERT_EQ(r.status, scsi::Status::CheckCondition);
    const auto s = fixtures::decode_sense(r.sense);
    EXPECT_EQ(s->key, 0x0);
    EXPECT_TRUE(s->filemark);
    EXPECT_EQ(s->information, 4u);  // 6 blocks asked for, 2 transferred
    EXPECT_EQ(r.data, data);
    EXPECT_EQ(rig.tape_drive().tape().object(), 3u);
    EXPECT_EQ(rig.tape_drive().statistics().read_errors, 0u);
    // The next READ reaches it: one good block, then the damaged one.
    const auto next = rig.run(h, read6(2, true), 2 * 512);
    ASSERT_EQ(next.status, scsi::Status::CheckCondition);
    EXPECT_EQ(fixtures::decode_sense(next.sense)->key, 0x3);
    EXPECT_EQ(fixtures::decode_sense(next.sense)->information, 1u);
    Bytes good = pattern(2 * 512, 5);
    good.resize(512);
    EXPECT_EQ(next.data, good);
    EXPECT_EQ(rig.tape_drive().tape().object(), 5u);
}

TEST(FaultActions, ADamagedBlockNoteDiesWithAReadThatNeverRan) {
    FaultRig rig;
    rig.load();
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), write6(100), 0, pattern(100, 0))));
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), rewind())));
    // The medium error fires, then a later rule ends the READ before the drive runs it.
    rig.add(R"J({"device":"t0/drive0","action":"medium_error","blocks":0,"count":1})J");
    rig.add(R"J({"device":"t0/drive0","command":"READ(6)","action":"check_condition","sense":"4/44/00","count":1})J");
    EXPECT_TRUE(IsCheck(rig.run(rig.drive(), read6(100), 100), sense(0x4, 0x44, 0x00)));
    EXPECT_EQ(rig.tape_drive().tape().object(), 0u);
    // Both rules are spent: the next READ of the block is good.
    const auto r = rig.run(rig.drive(), read6(100), 100);
    ASSERT_TRUE(IsGood(r));
    EXPECT_EQ(r.data, pattern(100, 0));
    EXPECT_EQ(rig.tape_drive().statistics().read_errors, 0u);
}

TEST(FaultActions, MediumErrorOnWrite) {
    FaultRig rig;
    rig.load();
    rig.add(R"J({"device":"t0/drive0","action":"medium_error","blocks":[2,2]})J");
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), write6(100), 0, pattern(100, 0))));
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), write6(100), 0, pattern(100, 1))));
    const auto r = rig.run(rig.drive(), write6(100), 0, pattern(100, 2));
    ASSERT_TRUE(IsCheck(r, sense(0x3, 0x0C, 0x00)));
    EXPECT_EQ(fixtures::decode_sense(r.sense)->information, 100u);
    EXPECT_EQ(rig.tape_drive().tape().object(), 2u);  // nothing written
    EXPECT_EQ(rig.tape_drive().statistics().write_errors, 1u);
}

TEST(FaultActions, EarlyEndOfMedium) {
    FaultRig rig;
    rig.load();
    rig.add(R"J({"device":"t0/drive0","action":"early_eom","warning_at":3,"end_at":5})J");
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(IsGood(rig.run(rig.drive(), write6(64), 0, pattern(64, i))));
    for (int i = 3; i < 5; ++i) {
        const auto r = rig.run(rig.drive(), write6(64), 0, pattern(64, i));
        ASSERT_TRUE(IsCheck(r, sense(0x0, 0x00, 0x02))) << i;  // written, early warning
        const auto s = fixtures::decode_sense(r.sense);
        EXPECT_TRUE(s->eom);
        EXPECT_EQ(s->information, 0u);
        EXPECT_EQ(rig.tape_drive().tape().object(), uint64_t(i + 1));
    }
    const auto full = rig.run(rig.drive(), write6(64), 0, pattern(64, 5));
    ASSERT_TRUE(IsCheck(full, sense(0xD, 0x00, 0x02)));
    const auto s = fixtures::decode_sense(full.sense);
    EXPECT_TRUE(s->eom);
    EXPECT_EQ(s->information, 64u);
    EXPECT_EQ(rig.tape_drive().tape().object(), 5u);  // nothing written
    EXPECT_TRUE(IsCheck(rig.run(rig.drive(), ssctest::write_filemarks(1)), sense(0xD, 0x00, 0x02)));
}

// BPEW of every READ POSITION form, which must be GOOD.
struct Bpew {
    bool short_form, long_form, extended_form;
    bool operator==(const Bpew&) const = default;
};
Bpew bpew(FaultRig& rig) {
    const auto s = rig.run(rig.drive(), fixtures::read_position(0x00), 20);
    const auto l = rig.run(rig.drive(), fixtures::read_position(0x06), 32);
    const auto e = rig.run(rig.drive(), fixtures::read_position(0x08, 32), 32);
    EXPECT_TRUE(IsGood(s) && IsGood(l) && IsGood(e));
    const auto sv = fixtures::decode_read_position_short(s.data);
    const auto lv = fixtures::decode_read_position_long(l.data);
    const auto ev = fixtures::decode_read_position_extended(e.data);
    EXPECT_TRUE(sv && lv && ev);
    return {sv && sv->bpew, lv && lv->bpew, ev && ev->bpew};
}

TEST(FaultActions, ReadPositionReportsTheInjectedEarlyWarning) {
    FaultRig rig;
    rig.load();
    const Bpew none{false, false, false}, all{true, true, true};
    const uint64_t id = rig.add(R"J({"device":"t0/drive0","action":"early_eom","warning_at":3})J");
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(IsGood(rig.run(rig.drive(), write6(64), 0, pattern(64, i))));
    EXPECT_EQ(bpew(rig), none);  // blocks 0-2 are before the warning point
    // The WRITE of block 3 reports early warning, and from then READ POSITION says so too.
    EXPECT_TRUE(IsCheck(rig.run(rig.drive(), write6(64), 0, pattern(64, 3)), sense(0x0, 0x00, 0x02)));
    EXPECT_EQ(bpew(rig), all);
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), rewind())));
    EXPECT_EQ(bpew(rig), none);
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), ssctest::locate10(3))));
    EXPECT_EQ(bpew(rig), none);  // a WRITE here would report it only once block 3 is written
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), ssctest::locate10(4))));
    EXPECT_EQ(bpew(rig), all);
    // Asking does not count as a match; the rule only ever fired for the one WRITE.
    EXPECT_EQ(rig.plan().list()[0]["fired"], 1);
    ASSERT_TRUE(rig.plan().remove(id));
    EXPECT_EQ(bpew(rig), none);  // the medium's own early warning is far away
}

TEST(FaultActions, ReadPositionIgnoresAnotherDrivesEarlyWarning) {
    FaultRig rig;
    rig.load();
    rig.add(R"J({"device":"t0/drive1","action":"early_eom","warning_at":0})J");
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), write6(64), 0, pattern(64, 0))));
    EXPECT_EQ(bpew(rig), (Bpew{false, false, false}));
}

Bytes corrupted_read(uint64_t seed) {
    FaultRig rig(seed);
    rig.load();
    EXPECT_TRUE(IsGood(rig.run(rig.drive(), write6(4096), 0, pattern(4096, 1))));
    EXPECT_TRUE(IsGood(rig.run(rig.drive(), rewind())));
    rig.add(R"J({"device":"t0/drive0","command":"READ(6)","action":"corrupt","bits":3,"count":1})J");
    const auto r = rig.run(rig.drive(), read6(4096), 4096);
    EXPECT_TRUE(IsGood(r));
    EXPECT_TRUE(IsGood(rig.run(rig.drive(), rewind())));
    EXPECT_EQ(rig.run(rig.drive(), read6(4096), 4096).data, pattern(4096, 1));  // the medium is intact
    return r.data;
}

TEST(FaultActions, SilentCorruptionFlipsSeededBits) {
    const Bytes original = pattern(4096, 1);
    const Bytes a = corrupted_read(7);
    ASSERT_EQ(a.size(), original.size());
    int flipped = 0;
    for (size_t i = 0; i < a.size(); ++i) flipped += std::popcount(uint8_t(a[i] ^ original[i]));
    EXPECT_EQ(flipped, 3);
    EXPECT_EQ(corrupted_read(7), a);  // same seed, same bits
    EXPECT_NE(corrupted_read(8), a);
}

TEST(FaultActions, DriveRefusesALoad) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/drive0","action":"refuse_load","recovery":"20s","count":1})J");
    auto p = rig.changer().submit(smctest::move_medium(0, rig.slot(1), rig.dte(0)));
    rig.clock().advance(20s - 1ms);
    EXPECT_FALSE(p.done());
    rig.clock().advance(1ms);
    ASSERT_TRUE(p.done());
    EXPECT_TRUE(IsCheck(p.response(), sense(0x4, 0x53, 0x00)));
    EXPECT_EQ(rig.tag_at(rig.slot(1)), "A00001L8");
    EXPECT_FALSE(rig.element(rig.dte(0)).full);
    EXPECT_EQ(rig.tape_drive().state(), DriveMechanism::State::Empty);
    // Moves into other drives, and this one once the rule retired, work.
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(1), rig.dte(0)))));
}

TEST(FaultActions, DriveRefusesAnUnload) {
    FaultRig rig;
    rig.load();
    rig.add(R"J({"device":"t0/drive0","action":"refuse_unload","sense":"4/53/01"})J");
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(2), rig.dte(1)))));  // loads pass
    EXPECT_TRUE(
        IsCheck(rig.run(rig.changer(), smctest::move_medium(0, rig.dte(0), rig.slot(1))), sense(0x4, 0x53, 0x01)));
    EXPECT_EQ(rig.tag_at(rig.dte(0)), "A00001L8");
    EXPECT_EQ(rig.tag_at(rig.slot(1)), "");
}

// The time a MOVE MEDIUM from slot 1 to slot 9 takes without faults, on the default timings.
Duration plain_move_time() {
    FaultRig rig(0, config::Timings{});
    const TimePoint start = rig.clock().now();
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(1), rig.slot(9)))));
    return rig.clock().now() - start;
}

TEST(FaultActions, ThirteenMinuteRobotRecoveryThenSuccess) {
    const Duration motion = plain_move_time();
    ASSERT_GT(motion, 0s);
    FaultRig rig(0, config::Timings{});
    rig.add(R"J({"device":"t0","action":"robot_recovery","recovery":"13min","count":1})J");
    auto p = rig.changer().submit(smctest::move_medium(0, rig.slot(1), rig.slot(9)));
    rig.clock().advance(13min + motion - 1ms);
    EXPECT_FALSE(p.done());
    rig.clock().advance(1ms);
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, scsi::Status::Good);
    EXPECT_EQ(rig.tag_at(rig.slot(9)), "A00001L8");
    EXPECT_EQ(rig.tag_at(rig.slot(1)), "");
    EXPECT_EQ(rig.plan().stats()["by_action"]["robot_recovery"], 1);
}

TEST(FaultActions, RobotRecoveryThatFailsLeavesTheCartridgeAtItsSource) {
    FaultRig rig(0, config::Timings{});
    rig.add(R"J({"device":"t0","action":"robot_recovery","recovery":"13min","sense":"4/15/01","count":1})J");
    auto p = rig.changer().submit(smctest::move_medium(0, rig.slot(1), rig.slot(9)));
    rig.clock().advance(13min - 1ms);
    EXPECT_FALSE(p.done());
    rig.clock().advance(1ms);
    ASSERT_TRUE(p.done());
    EXPECT_TRUE(IsCheck(p.response(), sense(0x4, 0x15, 0x01)));
    EXPECT_EQ(rig.tag_at(rig.slot(1)), "A00001L8");
    EXPECT_FALSE(rig.element(rig.slot(9)).full);
    EXPECT_FALSE(rig.element(rig.config().addresses.transport).full);
}

}  // namespace
}  // namespace vtl::faulttest
