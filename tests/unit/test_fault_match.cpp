// Every way a rule matches: device, command (name or opcode), element/slot/drive, block range,
// initiator, the Nth, every Nth, seeded probability, time windows, and the count limit.
#include "test_fault_support.h"

namespace vtl::faulttest {
namespace {

using ssctest::pattern;
using ssctest::read6;
using ssctest::rewind;
using ssctest::write6;

// Busy (B) or good (.) for each of `n` TEST UNIT READY on the changer.
std::string outcomes(FaultRig& rig, Initiator& host, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
        const auto r = rig.tur(host);
        s += r.status == scsi::Status::Busy ? 'B' : r.status == scsi::Status::Good ? '.' : '?';
    }
    return s;
}

TEST(FaultMatch, DeviceLibraryAndAny) {
    FaultRig rig;
    Initiator drive1(*rig.library().find("drive1"), rig.clock());
    drive1.clear_power_on_attention();
    const auto id = rig.add(R"J({"device":"t0/drive0","action":"busy"})J");
    EXPECT_TRUE(IsStatus(rig.tur(rig.drive()), scsi::Status::Busy));
    EXPECT_FALSE(IsStatus(rig.tur(drive1), scsi::Status::Busy));
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    rig.plan().remove(id);
    rig.add(R"J({"device":"t0","action":"busy"})J");
    EXPECT_TRUE(IsStatus(rig.tur(drive1), scsi::Status::Busy));
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::Busy));
    rig.plan().clear();
    rig.add(R"J({"action":"busy"})J");
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::Busy));
}

TEST(FaultMatch, CommandByNameAndByOpcode) {
    FaultRig rig;
    rig.add(R"J({"command":"inquiry","action":"busy","count":1})J");
    rig.add(R"J({"command":["0x12", 0],"action":"task_set_full"})J");
    EXPECT_TRUE(IsStatus(rig.run(rig.changer(), fixtures::inquiry(), 96), scsi::Status::Busy));
    EXPECT_TRUE(IsStatus(rig.run(rig.changer(), fixtures::inquiry(), 96), scsi::Status::TaskSetFull));
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::TaskSetFull));
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), fixtures::read_element_status(true, 0, 0, 10, 4096), 4096)));
}

TEST(FaultMatch, ElementSlotAndDriveOfChangerCommands) {
    FaultRig rig;
    rig.add(
        R"J({"device":"t0/changer","command":"MOVE MEDIUM","slot":2,"action":"check_condition","sense":"4/15/01"})J");
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(1), rig.slot(9)))));
    EXPECT_TRUE(
        IsCheck(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(2), rig.slot(10))), sense(0x4, 0x15, 0x01)));
    EXPECT_TRUE(
        IsCheck(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(9), rig.slot(2))), sense(0x4, 0x15, 0x01)));
    rig.plan().clear();
    rig.add(R"J({"device":"t0","drive":1,"action":"busy"})J");
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(9), rig.dte(0)))));
    EXPECT_TRUE(IsStatus(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(3), rig.dte(1))), scsi::Status::Busy));
    // A drive's own commands match its element address.
    Initiator drive1(*rig.library().find("drive1"), rig.clock());
    drive1.clear_power_on_attention();
    EXPECT_TRUE(IsStatus(rig.tur(drive1), scsi::Status::Busy));
    EXPECT_FALSE(IsStatus(rig.tur(rig.drive()), scsi::Status::Busy));
    rig.plan().clear();
    rig.add(R"J({"device":"t0/changer","element":"0x1004","action":"busy"})J");  // slot 5
    EXPECT_TRUE(IsStatus(rig.run(rig.changer(), fixtures::read_element_status(true, 0, 0x1004, 1, 1024), 1024),
                         scsi::Status::Busy));
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), fixtures::read_element_status(true, 0, 0x1003, 1, 1024), 1024)));
}

TEST(FaultMatch, ElementOfRobotMotions) {
    FaultRig rig;
    rig.add(R"J({"device":"t0","slot":3,"action":"robot_recovery","recovery":"1min","sense":"4/15/01"})J");
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(1), rig.slot(9)))));
    EXPECT_TRUE(
        IsCheck(rig.run(rig.changer(), smctest::move_medium(0, rig.slot(3), rig.slot(10))), sense(0x4, 0x15, 0x01)));
    EXPECT_EQ(rig.tag_at(rig.slot(3)), "A00003L8");
}

TEST(FaultMatch, BlockRange) {
    FaultRig rig;
    rig.load();
    for (uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(IsGood(rig.run(rig.drive(), write6(10), 0, pattern(10, i))));
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), rewind())));
    rig.add(
        R"J({"device":"t0/drive0","command":"READ(6)","blocks":[1,2],"action":"check_condition","sense":"3/31/00"})J");
    EXPECT_TRUE(IsGood(rig.run(rig.drive(), read6(10), 10)));
    EXPECT_TRUE(IsCheck(rig.run(rig.drive(), read6(10), 10), sense(0x3, 0x31, 0x00)));
    // Refused before it ran: still at block 1.
    EXPECT_EQ(rig.tape_drive().tape().object(), 1u);
    rig.plan().clear();
    rig.add(R"J({"device":"t0/drive0","blocks":[4,9],"action":"busy"})J");
    EXPECT_TRUE(IsGood(rig.run(rig.drive(), ssctest::locate10(3))));
    EXPECT_TRUE(IsGood(rig.run(rig.drive(), read6(10), 10)));         // block 3
    EXPECT_TRUE(IsStatus(rig.tur(rig.drive()), scsi::Status::Busy));  // at block 4
    // Without a medium nothing has a block.
    Initiator drive1(*rig.library().find("drive1"), rig.clock());
    drive1.clear_power_on_attention();
    rig.add(R"J({"device":"t0/drive1","blocks":[0,0],"action":"busy"})J");
    EXPECT_TRUE(IsCheck(rig.tur(drive1), sense(0x2, 0x3A, 0x00)));
}

TEST(FaultMatch, FixedReadCoversItsBlocks) {
    FaultRig rig;
    rig.load();
    Bytes list{0x00, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0, 0, 0x00, 0x80};  // 128-byte blocks
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), fixtures::mode_select6(true, false, uint8_t(list.size())), 0, list)));
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), write6(10, true), 0, pattern(1280, 3))));
    ASSERT_TRUE(IsGood(rig.run(rig.drive(), rewind())));
    rig.add(R"J({"device":"t0/drive0","command":"READ(6)","blocks":7,"action":"busy"})J");
    EXPECT_TRUE(IsGood(rig.run(rig.drive(), read6(4, true), 512)));                        // blocks 0-3
    EXPECT_TRUE(IsStatus(rig.run(rig.drive(), read6(4, true), 512), scsi::Status::Busy));  // 4-7
}

TEST(FaultMatch, Initiator) {
    FaultRig rig;
    Initiator other(rig.library().changer(), rig.clock(), "iqn.2026-01.test:other");
    other.clear_power_on_attention();
    rig.add(R"J({"initiator":"iqn.2026-01.test:other","action":"busy"})J");
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    EXPECT_TRUE(IsStatus(rig.tur(other), scsi::Status::Busy));
}

TEST(FaultMatch, NthAndEveryNth) {
    FaultRig rig;
    const auto nth = rig.add(R"J({"device":"t0/changer","action":"busy","nth":3})J");
    EXPECT_EQ(outcomes(rig, rig.changer(), 6), "..B...");
    EXPECT_EQ(rig.plan().list()[0]["seen"], 6);
    rig.plan().remove(nth);
    rig.add(R"J({"device":"t0/changer","action":"busy","every":3,"count":2})J");
    EXPECT_EQ(outcomes(rig, rig.changer(), 10), "..B..B....");
    const json l = rig.plan().list();
    EXPECT_EQ(l[0]["fired"], 2);
    EXPECT_EQ(l[0]["retired"], true);
}

TEST(FaultMatch, NthCountsOnlyMatchingCommands) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/changer","command":"TEST UNIT READY","action":"busy","nth":2})J");
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), fixtures::inquiry(), 96)));  // not counted
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::Busy));
}

std::string probability_run(uint64_t seed) {
    FaultRig rig(seed);
    rig.add(R"J({"device":"t0/changer","action":"busy","probability":0.3})J");
    return outcomes(rig, rig.changer(), 200);
}

TEST(FaultMatch, SeededProbabilityGivesTheSameSequenceTwice) {
    const std::string a = probability_run(42);
    const std::string b = probability_run(42);
    EXPECT_EQ(a, b);
    const auto busy = std::count(a.begin(), a.end(), 'B');
    EXPECT_GT(busy, 30);  // about 60 of 200
    EXPECT_LT(busy, 95);
    EXPECT_NE(probability_run(43), a);
}

TEST(FaultMatch, ProbabilityZeroAndOne) {
    FaultRig rig;
    const auto never = rig.add(R"J({"device":"t0/changer","action":"busy","probability":0})J");
    EXPECT_EQ(outcomes(rig, rig.changer(), 20), std::string(20, '.'));
    rig.plan().remove(never);
    rig.add(R"J({"device":"t0/changer","action":"busy","probability":1})J");
    EXPECT_EQ(outcomes(rig, rig.changer(), 20), std::string(20, 'B'));
}

TEST(FaultMatch, TimeWindowAfterBeforeOnThePlanClock) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/changer","action":"busy","after":"1min","before":"2min"})J");
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    rig.clock().advance(1min - 1ms);
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    rig.clock().advance(1ms);
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::Busy));
    rig.clock().advance(1min - 1ms);
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::Busy));
    rig.clock().advance(1ms);
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
}

TEST(FaultMatch, ForADurationAfterTheRuleIsAdded) {
    FaultRig rig;
    rig.clock().advance(1h);
    rig.add(R"J({"device":"t0/changer","action":"busy","for":"30s"})J");
    rig.clock().advance(30s - 1ms);
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::Busy));
    rig.clock().advance(1ms);
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
}

TEST(FaultMatch, CountRetiresTheRuleButKeepsItListed) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/changer","action":"busy","count":3})J");
    EXPECT_EQ(outcomes(rig, rig.changer(), 5), "BBB..");
    const json l = rig.plan().list();
    ASSERT_EQ(l.size(), 1u);
    EXPECT_EQ(l[0]["fired"], 3);
    EXPECT_EQ(l[0]["retired"], true);
    EXPECT_EQ(rig.plan().stats()["by_rule"][std::to_string(l[0]["id"].get<uint64_t>())], 3);
}

TEST(FaultMatch, RulesEndWithThePlan) {
    config::Config cfg;
    cfg.libraries.push_back(libtest::small_library());
    VirtualClock clock;
    library::Emulator emulator(cfg, clock);
    Initiator host(emulator.libraries().front()->changer(), clock);
    host.clear_power_on_attention();
    {
        fault::FaultPlan plan(emulator, clock, 1);
        plan.add(json::parse(R"J({"action":"busy"})J"));
        plan.add(json::parse(R"J({"device":"t0","action":"robot_recovery","recovery":"1h","sense":"4/15/01"})J"));
        EXPECT_EQ(host.send(fixtures::test_unit_ready()).status, scsi::Status::Busy);
    }
    EXPECT_EQ(host.send(fixtures::test_unit_ready()).status, scsi::Status::Good);
}

}  // namespace
}  // namespace vtl::faulttest
