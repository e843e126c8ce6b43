// Fault rules as users write them: the TOML and JSON forms, and errors that name the field
// (and, in TOML, the file, line and column).
#include <fstream>

#include "test_fault_support.h"

namespace vtl::faulttest {
namespace {

std::string error_of(FaultRig& rig, const std::string& rule) {
    try {
        rig.add(rule);
    } catch (const fault::FaultError& e) {
        return e.what();
    }
    return "(accepted)";
}

std::string toml_error_of(FaultRig& rig, const std::string& text) {
    try {
        rig.plan().load_toml(text, "plan.toml");
    } catch (const fault::FaultError& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(FaultRules, TomlPlanWithEveryActionLoads) {
    FaultRig rig;
    const auto ids = rig.plan().load_toml(R"T(
[[fault]]
device = "t0/drive0"
command = "READ(6)"
action = "delay"
delay = "2.5s"

[[fault]]
command = 0x00
action = "hang"
nth = 3

[[fault]]
action = "check_condition"
sense = "3/11/00"
information = 42
count = 1

[[fault]]
action = "busy"
every = 10

[[fault]]
action = "task_set_full"
probability = 0.25

[[fault]]
action = "reservation_conflict"
initiator = "iqn.2026-01.test:other"

[[fault]]
device = "t0/changer"
action = "unit_attention"
asc = "2A/01"
nexus = "all"

[[fault]]
device = "t0/drive1"
action = "not_ready"
asc = "04/01"
duration = "1min"
at = "10s"

[[fault]]
device = "t0/drive2"
action = "offline"
at = "1h"
changer_sense = "5/83/05"

[[fault]]
device = "t0/drive0"
action = "medium_error"
blocks = [100, 120]

[[fault]]
device = "t0/drive0"
action = "early_eom"
warning_at = 1000
end_at = 1100

[[fault]]
command = "READ(6)"
action = "corrupt"
bits = 4
after = "1min"
before = "2min"

[[fault]]
device = "t0/drive0"
action = "refuse_load"
recovery = "20s"

[[fault]]
device = "t0"
drive = 1
action = "refuse_unload"

[[fault]]
device = "t0"
action = "door"
door = "library"
at = "5min"
duration = "2min"

[[fault]]
device = "t0/drive0"
action = "tape_alert"
flags = [0x14, 3]
for = "30s"

[[fault]]
device = "t0"
slot = [3, 4]
action = "robot_recovery"
recovery = "13min"
sense = "4/15/01"
)T",
                                          "plan.toml");
    ASSERT_EQ(ids.size(), 17u);
    const json list = rig.plan().list();
    ASSERT_EQ(list.size(), 17u);
    EXPECT_EQ(list[0]["id"], ids[0]);
    EXPECT_EQ(list[0]["action"], "delay");
    EXPECT_EQ(list[0]["delay"], "2.5s");
    EXPECT_EQ(list[0]["fired"], 0);
    EXPECT_EQ(list[16]["action"], "robot_recovery");
    EXPECT_EQ(list[16]["slot"], json::array({3, 4}));
    EXPECT_EQ(list[2]["information"], 42);
    EXPECT_EQ(list[2]["retired"], false);
    EXPECT_TRUE(rig.plan().remove(ids[5]));
    EXPECT_FALSE(rig.plan().remove(ids[5]));
    EXPECT_EQ(rig.plan().list().size(), 16u);
    rig.plan().clear();
    EXPECT_TRUE(rig.plan().list().empty());
}

TEST(FaultRules, JsonErrorsNameTheField) {
    FaultRig rig;
    EXPECT_EQ(error_of(rig, R"J({"sense":"3/11/00"})J"), "action: missing (one of delay, hang, check_condition, ...)");
    EXPECT_EQ(error_of(rig, R"J({"action":"explode"})J"),
              "action: unknown action \"explode\" (one of delay, hang, check_condition, busy, task_set_full, "
              "reservation_conflict, unit_attention, not_ready, offline, medium_error, early_eom, corrupt, "
              "refuse_load, refuse_unload, door, tape_alert, robot_recovery)");
    EXPECT_EQ(error_of(rig, R"J({"action":"check_condition","sense":"3/11"})J"),
              "sense: expected \"KEY/ASC/ASCQ\" in hex such as \"3/11/00\", got \"3/11\"");
    EXPECT_EQ(error_of(rig, R"J({"action":"busy","delay":"1s"})J"), "delay: unknown field for action \"busy\"");
    EXPECT_EQ(error_of(rig, R"J({"action":"delay","delay":"fast"})J").rfind("delay: ", 0), 0u);
    EXPECT_EQ(error_of(rig, R"J({"action":"busy","probability":1.5})J"),
              "probability: expected a number from 0 to 1, got 1.5");
    EXPECT_EQ(error_of(rig, R"J({"action":"busy","nth":0})J"), "nth: 0 is out of range 1..18446744073709551615");
    EXPECT_EQ(error_of(rig, R"J({"action":"busy","nth":2,"every":3})J"), "every: nth and every exclude each other");
    EXPECT_EQ(error_of(rig, R"J({"action":"busy","command":["READ(6)",300]})J"),
              "command[1]: opcode 300 is not 00h-FFh");
    EXPECT_EQ(error_of(rig, R"J({"action":"busy","device":"nolib/drive0"})J"), "device: no library \"nolib\"");
    EXPECT_EQ(error_of(rig, R"J({"action":"busy","device":"t0/drive9"})J"),
              "device: library \"t0\" has no device \"drive9\"");
    EXPECT_EQ(error_of(rig, R"J({"action":"medium_error","device":"t0/drive0"})J"),
              "blocks: missing: medium_error needs the damaged block range");
    EXPECT_EQ(error_of(rig, R"J({"action":"busy","blocks":[5,2]})J"), "blocks: last is before first");
    EXPECT_EQ(error_of(rig, R"J({"action":"robot_recovery","recovery":"1min","command":"MOVE MEDIUM"})J"),
              "command: does not apply to robot_recovery: it acts on robot motions");
    EXPECT_EQ(
        error_of(rig, R"J({"action":"busy","device":"t0","at":"1s"})J"),
        "at: only unit_attention, not_ready, offline, door and tape_alert happen at a time; busy acts on commands");
    EXPECT_EQ(error_of(rig, R"J({"action":"tape_alert","flags":[3,65]})J"),
              "flags[1]: expected a TapeAlert flag 1-64, got 65");
    EXPECT_EQ(error_of(rig, R"J({"action":"refuse_load","device":"t0/changer"})J"),
              "device: name the drive that refuses (\"lib0/drive0\"), or the library with drive = N");
    EXPECT_EQ(error_of(rig, R"J({"action":"busy","slot":0})J"), "slot: slots and I/E slots are numbered from 1");
    EXPECT_EQ(error_of(rig, R"([1,2])"), "a fault rule must be an object, got array");
    EXPECT_TRUE(rig.plan().list().empty());  // nothing half-added
}

TEST(FaultRules, TomlErrorsNameFileLineColumnAndField) {
    FaultRig rig;
    EXPECT_EQ(toml_error_of(
                  rig, "[[fault]]\naction = \"busy\"\n\n[[fault]]\naction = \"check_condition\"\nsense = \"3/1100\"\n"),
              "plan.toml:6:9: fault[1].sense: expected \"KEY/ASC/ASCQ\" in hex such as \"3/11/00\", got \"3/1100\"");
    EXPECT_EQ(toml_error_of(rig, "[[fault]]\naction = \"tape_alert\"\nflags = [1, 2, 99]\n"),
              "plan.toml:3:16: fault[0].flags[2]: expected a TapeAlert flag 1-64, got 99");
    EXPECT_EQ(toml_error_of(rig, "[[fault]]\naction = \"busy\"\n[other]\nx = 1\n"),
              "plan.toml:3:1: unknown key \"other\" (a fault plan holds [[fault]] tables)");
    EXPECT_EQ(toml_error_of(rig, "[[fault]]\naction = \"busy\"\ndevice = \"t0/drive7\"\n"),
              "plan.toml:1:1: fault[0].device: library \"t0\" has no device \"drive7\"");
    EXPECT_EQ(toml_error_of(rig, "[[fault]]\naction = busy\n").rfind("plan.toml:2:", 0), 0u);
    // A plan with one bad rule adds none.
    EXPECT_TRUE(rig.plan().list().empty());
}

TEST(FaultRules, LoadFile) {
    FaultRig rig;
    libtest::TempDir dir;
    const auto file = dir.path() / "faults.toml";
    std::ofstream(file) << "[[fault]]\naction = \"busy\"\ncommand = \"TEST UNIT READY\"\ncount = 1\n";
    const auto ids = rig.plan().load_file(file);
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_TRUE(IsStatus(rig.tur(rig.changer()), scsi::Status::Busy));
    EXPECT_TRUE(IsGood(rig.tur(rig.changer())));
    try {
        rig.plan().load_file(dir.path() / "missing.toml");
        ADD_FAILURE() << "a missing file loaded";
    } catch (const fault::FaultError& e) {
        EXPECT_EQ(std::string(e.what()), (dir.path() / "missing.toml").string() + ": cannot read the fault plan");
    }
}

}  // namespace
}  // namespace vtl::faulttest
