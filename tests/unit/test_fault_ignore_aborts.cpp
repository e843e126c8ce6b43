// Fault `hang` with ignore_aborts: a logical unit deaf to task management. The held command
// survives ABORT TASK, LUN RESET and I_T nexus loss; only removing the rule lets it run.
#include "test_fault_support.h"

namespace vtl::faulttest {
namespace {

TEST(FaultIgnoreAborts, HeldCommandSurvivesAbortTaskLunResetAndNexusLoss) {
    FaultRig rig;
    const auto id = rig.add(
        R"J({"device":"t0/drive0","command":"TEST UNIT READY","action":"hang","ignore_aborts":true,"count":1})J");
    auto p = rig.drive().submit(fixtures::test_unit_ready());
    rig.clock().advance(1min);
    EXPECT_FALSE(p.done());
    EXPECT_TRUE(rig.drive().abort(p));  // found, but left alone
    EXPECT_FALSE(p.done());
    rig.drive().lun_reset();
    EXPECT_FALSE(p.done());
    rig.drive().nexus_loss();
    rig.clock().advance(24h);
    EXPECT_FALSE(p.done());
    EXPECT_EQ(rig.plan().stats()["held"], 1);
    EXPECT_EQ(rig.drive().lu().tasks_in_flight(), 1u);
    const auto listed = rig.plan().list();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["fired"], 1);
    EXPECT_EQ(listed[0]["ignore_aborts"], true);

    // Removing the rule runs the command's handler: the drive has no medium, so NOT READY.
    EXPECT_TRUE(rig.plan().remove(id));
    ASSERT_TRUE(p.done());
    EXPECT_TRUE(IsCheck(p.response(), sense(0x2, 0x3A, 0x00)));
    EXPECT_EQ(rig.plan().stats()["held"], 0);
    EXPECT_EQ(rig.drive().lu().tasks_in_flight(), 0u);
}

TEST(FaultIgnoreAborts, ReleasedCommandRunsItsHandler) {
    FaultRig rig;
    const auto id =
        rig.add(R"J({"device":"t0/changer","command":"TEST UNIT READY","action":"hang","ignore_aborts":true})J");
    auto p = rig.changer().submit(fixtures::test_unit_ready());
    EXPECT_TRUE(rig.changer().abort(p));
    rig.changer().lun_reset();
    EXPECT_FALSE(p.done());
    // Other commands keep being served meanwhile (the LU is not serial for INQUIRY).
    EXPECT_TRUE(IsGood(rig.run(rig.changer(), fixtures::inquiry(), 96)));
    EXPECT_TRUE(rig.plan().remove(id));
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, scsi::Status::Good);
    // The LUN RESET's unit attention is still owed to the next command.
    EXPECT_TRUE(IsCheck(rig.tur(rig.changer()), sense(0x6, 0x29, 0x03)));
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
}

TEST(FaultIgnoreAborts, WithoutTheOptionAbortEndsTheHang) {
    FaultRig rig;
    rig.add(R"J({"device":"t0/changer","action":"hang","ignore_aborts":false,"count":1})J");
    auto p = rig.changer().submit(fixtures::test_unit_ready());
    EXPECT_TRUE(rig.changer().abort(p));
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, scsi::Status::TaskAborted);
    EXPECT_EQ(rig.plan().stats()["held"], 0);
}

TEST(FaultIgnoreAborts, OptionIsCheckedAndOnlyForHang) {
    FaultRig rig;
    EXPECT_THROW(rig.add(R"J({"action":"hang","ignore_aborts":"yes"})J"), fault::FaultError);
    try {
        rig.add(R"J({"action":"hang","ignore_aborts":1})J");
        ADD_FAILURE() << "accepted ignore_aborts = 1";
    } catch (const fault::FaultError& e) {
        EXPECT_STREQ(e.what(), "ignore_aborts: expected true or false, got 1");
    }
    try {
        rig.add(R"J({"action":"delay","delay":"1s","ignore_aborts":true})J");
        ADD_FAILURE() << "accepted ignore_aborts on a delay";
    } catch (const fault::FaultError& e) {
        EXPECT_STREQ(e.what(), "ignore_aborts: unknown field for action \"delay\"");
    }
    EXPECT_TRUE(rig.plan().list().empty());
}

TEST(FaultIgnoreAborts, TomlFormLoads) {
    FaultRig rig;
    const auto ids = rig.plan().load_toml(R"T(
[[fault]]
device = "t0/changer"
command = "TEST UNIT READY"
action = "hang"
ignore_aborts = true
count = 1
)T",
                                          "plan.toml");
    ASSERT_EQ(ids.size(), 1u);
    auto p = rig.changer().submit(fixtures::test_unit_ready());
    rig.changer().lun_reset();
    EXPECT_FALSE(p.done());
    rig.plan().clear();
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, scsi::Status::Good);
}

}  // namespace
}  // namespace vtl::faulttest
