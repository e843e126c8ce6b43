// Configuration: the built-in default, a full sample, range expansion, the TOML writer's round
// trip, and every kind of mistake reported at its file:line:column.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "config/config.h"

using namespace std::chrono_literals;
using namespace vtl::config;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

const std::string kData = VTL_TEST_DATA_DIR "/config";

std::string error_of(std::string_view toml) {
    try {
        parse_config(toml, "t.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST(ConfigDefault, IsTheIssuesBuiltInLibrary) {
    const Config config = default_config();
    ASSERT_EQ(config.libraries.size(), 1u);
    const LibraryConfig& lib = config.libraries[0];
    EXPECT_EQ(lib.name, "lib0");
    EXPECT_EQ(lib.personality, Personality::Generic);
    EXPECT_EQ(lib.changer, "changer");
    EXPECT_EQ(lib.state_dir, "/var/lib/vtl/lib0");
    EXPECT_EQ(lib.serial, default_library_serial("lib0"));
    EXPECT_EQ(lib.robots, 1u);
    EXPECT_EQ(lib.slots, 50u);
    EXPECT_EQ(lib.ie_slots, 4u);
    EXPECT_EQ(lib.addresses, (AddressBases{.transport = 0x0000, .ie = 0x0010, .drive = 0x0100, .slot = 0x1000}));
    EXPECT_EQ(lib.timings.pick, 2s);
    EXPECT_EQ(lib.timings.place, 2s);
    EXPECT_EQ(lib.timings.load, 15s);
    EXPECT_EQ(lib.timings.unload, 15s);
    EXPECT_EQ(lib.bridge.timeout, 720s);
    EXPECT_EQ(lib.bridge.abort_policy, AbortPolicy::Complete);
    EXPECT_EQ(lib.async_move.move_opcode, 0xC5);
    EXPECT_EQ(lib.async_move.query_opcode, 0xC6);

    ASSERT_EQ(lib.drives.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        const auto name = "drive" + std::to_string(i);
        EXPECT_EQ(lib.drives[i].name, name);
        EXPECT_EQ(lib.drives[i].model, "ULT3580-TD8");
        EXPECT_EQ(lib.drives[i].serial, default_drive_serial("lib0", name));
        EXPECT_FALSE(lib.drives[i].bridge);
    }
    ASSERT_EQ(lib.cartridges.size(), 40u);
    for (uint32_t i = 0; i < 40; ++i) {
        char barcode[16];
        std::snprintf(barcode, sizeof barcode, "VTL%03uL8", i + 1);
        EXPECT_EQ(lib.cartridges[i], (CartridgeConfig{.barcode = barcode, .slot = i + 1, .type = MediaType::Data,
                                                      .generation = 8}));
    }
}

TEST(ConfigDefault, DerivedSerialsAreStableAndDistinct) {
    EXPECT_EQ(default_library_serial("lib0"), default_library_serial("lib0"));
    EXPECT_NE(default_library_serial("lib0"), default_library_serial("lib1"));
    EXPECT_NE(default_drive_serial("lib0", "drive0"), default_drive_serial("lib1", "drive0"));
    EXPECT_EQ(default_library_serial("lib0").size(), 12u);
    EXPECT_EQ(default_drive_serial("lib0", "drive0").size(), 10u);
    EXPECT_EQ(serial_error(default_library_serial("x")), std::nullopt);
}

TEST(ConfigDefault, PrintedTomlParsesBackEqual) {
    const std::string toml = to_toml(default_config());
    EXPECT_THAT(toml, HasSubstr("first = \"VTL001L8\"\ncount = 40\nslot = 1\n"));
    EXPECT_THAT(toml, HasSubstr("# vtld configuration"));
    EXPECT_EQ(parse_config(toml, "default.toml"), default_config());
}

TEST(ConfigParse, FullSample) {
    const Config config = load_config(kData + "/full.toml");
    ASSERT_EQ(config.libraries.size(), 2u);
    const LibraryConfig& a = config.libraries[0];
    EXPECT_EQ(a.name, "tape-a");
    EXPECT_EQ(a.personality, Personality::IbmTs4500);
    EXPECT_EQ(a.serial, "TS4500A0001");
    EXPECT_EQ(a.state_dir, "/srv/vtl/tape-a");
    EXPECT_EQ(a.changer, "robot");
    EXPECT_EQ(a.robots, 2u);
    EXPECT_EQ(a.slots, 120u);
    EXPECT_EQ(a.ie_slots, 10u);
    EXPECT_EQ(a.addresses, (AddressBases{.transport = 1, .ie = 0x301, .drive = 0x101, .slot = 0x401}));
    EXPECT_EQ(a.timings, (Timings{.pick = 2500ms, .place = 3s, .load = 13min, .unload = 500ms, .slot_to_slot = 1h,
                                  .ie_to_slot = 0ms}));
    EXPECT_EQ(a.bridge, (BridgeConfig{.timeout = 900s, .abort_policy = AbortPolicy::ReturnToSource}));
    EXPECT_EQ(a.async_move, (AsyncMoveConfig{.move_opcode = 0xD0, .query_opcode = 0xD1}));
    ASSERT_EQ(a.drives.size(), 2u);
    EXPECT_EQ(a.drives[0], (DriveConfig{.name = "d0", .model = "ULT3580-TD9", .serial = "1013000001", .bridge = true}));
    EXPECT_EQ(a.drives[1], (DriveConfig{.name = "d1", .model = "ULT3580-HH7", .serial = default_drive_serial("tape-a", "d1"),
                                        .bridge = false}));

    // In slot order; the range without a slot took the lowest free ones.
    ASSERT_EQ(a.cartridges.size(), 27u);
    auto at = [&](uint32_t slot) {
        for (const auto& c : a.cartridges) {
            if (c.slot == slot) return c;
        }
        return CartridgeConfig{};
    };
    EXPECT_EQ(at(1), (CartridgeConfig{"AUTO01L6", 1, MediaType::Data, 6}));
    EXPECT_EQ(at(3), (CartridgeConfig{"AUTO03L6", 3, MediaType::Data, 6}));
    EXPECT_EQ(at(11), (CartridgeConfig{"ABC001L9", 11, MediaType::Data, 9}));
    EXPECT_EQ(at(30), (CartridgeConfig{"ABC020L9", 30, MediaType::Data, 9}));
    EXPECT_EQ(at(100), (CartridgeConfig{"WRM001LY", 100, MediaType::Worm, 8}));
    EXPECT_EQ(at(101), (CartridgeConfig{"TYPEM1M8", 101, MediaType::Data, 7}));
    EXPECT_EQ(at(102), (CartridgeConfig{"DIAG01", 102, MediaType::Diagnostic, std::nullopt}));
    EXPECT_EQ(at(120), (CartridgeConfig{"CLN001CU", 120, MediaType::Cleaning, std::nullopt}));
    EXPECT_TRUE(std::is_sorted(a.cartridges.begin(), a.cartridges.end(),
                               [](const auto& x, const auto& y) { return x.slot < y.slot; }));

    const LibraryConfig& h = config.libraries[1];
    EXPECT_EQ(h.name, "hp1");
    EXPECT_EQ(h.personality, Personality::HpeMsl);
    EXPECT_EQ(h.state_dir, "/var/lib/vtl/hp1");
    EXPECT_EQ(h.ie_slots, 0u);
    ASSERT_EQ(h.drives.size(), 2u);
    EXPECT_EQ(h.drives[0].name, "drive0");
    EXPECT_EQ(h.drives[1].model, "Ultrium 9-SCSI");
    EXPECT_TRUE(h.cartridges.empty());

    EXPECT_EQ(parse_config(to_toml(config), "again.toml"), config);
}

TEST(ConfigParse, MinimalLibraryTakesThePersonalitysDefaults) {
    const Config config = parse_config("[[library]]\npersonality = \"ibm-ts3500\"\n", "t.toml");
    const LibraryConfig& lib = config.libraries.at(0);
    EXPECT_EQ(lib.name, "lib0");
    EXPECT_EQ(lib.slots, 50u);
    EXPECT_EQ(lib.addresses, default_addresses(Personality::IbmTs3500));
    EXPECT_TRUE(lib.drives.empty());
    EXPECT_TRUE(lib.cartridges.empty());
}

TEST(ConfigParse, RangeExpansion) {
    const Config config = parse_config(R"([[library]]
slots = 100
[[library.cartridges]]
first = "VTL095L8"
count = 5
slot = 96
[[library.cartridges]]
barcode = "CLN001CU"
[[library.cartridges]]
first = "W0LV"
count = 10
slot = 1
)",
                                       "t.toml");
    const auto& carts = config.libraries.at(0).cartridges;
    ASSERT_EQ(carts.size(), 16u);
    EXPECT_EQ(carts[0], (CartridgeConfig{"W0LV", 1, MediaType::Worm, 5}));
    EXPECT_EQ(carts[9], (CartridgeConfig{"W9LV", 10, MediaType::Worm, 5}));
    EXPECT_EQ(carts[10], (CartridgeConfig{"CLN001CU", 11, MediaType::Cleaning, std::nullopt}));  // lowest free slot
    EXPECT_EQ(carts[11], (CartridgeConfig{"VTL095L8", 96, MediaType::Data, 8}));
    EXPECT_EQ(carts[15], (CartridgeConfig{"VTL099L8", 100, MediaType::Data, 8}));
}

TEST(ConfigParse, TypeAndGenerationFromTheConfigWhenTheSuffixIsSilent) {
    const Config config = parse_config(R"([[library]]
[[library.cartridges]]
barcode = "TAPE01"
type = "worm"
generation = 6
slot = 1
[[library.cartridges]]
barcode = "VTL001L7"
type = "data"
generation = 7
slot = 2
)",
                                       "t.toml");
    const auto& carts = config.libraries.at(0).cartridges;
    EXPECT_EQ(carts.at(0), (CartridgeConfig{"TAPE01", 1, MediaType::Worm, 6}));
    EXPECT_EQ(carts.at(1), (CartridgeConfig{"VTL001L7", 2, MediaType::Data, 7}));
}

TEST(ConfigParse, DurationsAsStringsOrIntegerSeconds) {
    std::string error;
    EXPECT_EQ(parse_duration("15s", error), 15s);
    EXPECT_EQ(parse_duration("2.5s", error), 2500ms);
    EXPECT_EQ(parse_duration("500ms", error), 500ms);
    EXPECT_EQ(parse_duration("13min", error), 13min);
    EXPECT_EQ(parse_duration("1h", error), 1h);
    EXPECT_EQ(parse_duration("0.25min", error), 15s);
    EXPECT_EQ(parse_duration("1.5000000000000000000s", error), 1500ms);
    for (const char* bad : {"", "s", "15", "15 s", "-1s", "1.s", ".5s", "15m", "1e3s", "15S", "99999999999999999999h"}) {
        SCOPED_TRACE(bad);
        EXPECT_EQ(parse_duration(bad, error), std::nullopt);
        EXPECT_FALSE(error.empty());
    }
    EXPECT_EQ(parse_duration("0.0005s", error), std::nullopt);
    EXPECT_EQ(error, "finer than a millisecond");
    EXPECT_EQ(parse_duration("15", error), std::nullopt);
    EXPECT_EQ(error, "missing a unit (ms, s, min, h)");

    for (auto d : {Millis(0), Millis(1), Millis(999), Millis(1500), Millis(2000), Millis(61'500), Millis(720'000),
                   Millis(3'600'000), Millis(5'400'000)}) {
        EXPECT_EQ(parse_duration(format_duration(d), error), d) << format_duration(d);
    }
    EXPECT_EQ(format_duration(720s), "12min");
    EXPECT_EQ(format_duration(2500ms), "2.5s");
    EXPECT_EQ(format_duration(0ms), "0s");
}

TEST(ConfigParse, StateDirOverride) {
    Config config = load_config(kData + "/full.toml");
    override_state_dirs(config, "/tmp/vtl-state");
    EXPECT_EQ(config.libraries[0].state_dir, "/tmp/vtl-state/tape-a");
    EXPECT_EQ(config.libraries[1].state_dir, "/tmp/vtl-state/hp1");
}

TEST(ConfigErrors, FileErrorsNameTheFile) {
    const std::string file = kData + "/bad_model.toml";
    try {
        load_config(file);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  file + ":9:9: library \"lib0\": drive \"drive4\": model: expected one of ULT3580-TD5, ULT3580-TD6, "
                         "ULT3580-TD7, ULT3580-TD8, ULT3580-TD9, ULT3580-HH5, ULT3580-HH6, ULT3580-HH7, ULT3580-HH8, "
                         "ULT3580-HH9, Ultrium 5-SCSI, Ultrium 6-SCSI, Ultrium 7-SCSI, Ultrium 8-SCSI, Ultrium 9-SCSI; "
                         "got \"LTO8\"");
    }
    try {
        load_config(kData + "/no-such-file.toml");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), kData + "/no-such-file.toml: cannot read: No such file or directory");
    }
}

namespace {

struct ErrorCase {
    const char* what;
    const char* toml;
    const char* location;  // "t.toml:line:column: "
    const char* message;   // the rest, or a fragment of it when `exact` is false
    bool exact = true;
};

// Most cases start with this library header on lines 1-2.
#define LIB "[[library]]\nname = \"lib0\"\n"

const ErrorCase kErrorCases[] = {
    {"syntax", LIB "slots = = 5\n", "t.toml:3:9: ", "TOML syntax error: ", false},
    {"unterminated string", LIB "serial = \"abc\n", "t.toml:3:", "TOML syntax error: ", false},
    {"no library", "# nothing\n", "t.toml:1:1: ", "no library declared; expected at least one [[library]] table"},
    {"library as a table", "[library]\nname = \"x\"\n", "t.toml:1:1: ",
     "library: expected an array of tables ([[library]]); got a table"},
    {"unknown top-level key", "libary = 1\n", "t.toml:1:1: ",
     "unknown key \"libary\"; did you mean \"library\"? accepted keys: library"},
    {"unknown library key", LIB "slto = 5\n", "t.toml:3:1: ",
     "library \"lib0\": unknown key \"slto\"; did you mean \"slots\"? accepted keys: name, personality, serial, "
     "state_dir, changer, robots, slots, ie_slots, addresses, timings, bridge, async_move, drives, cartridges"},
    {"unknown key without a near miss", LIB "colour = \"blue\"\n", "t.toml:3:1: ",
     "library \"lib0\": unknown key \"colour\"; accepted keys: name,", false},
    {"unknown timings key", LIB "[library.timings]\npik = \"1s\"\n", "t.toml:4:1: ",
     "library \"lib0\": timings: unknown key \"pik\"; did you mean \"pick\"? accepted keys: pick, place, load, "
     "unload, slot_to_slot, ie_to_slot, rewind, locate"},
    {"unknown drive key", LIB "[[library.drives]]\nname = \"d0\"\nmodle = \"ULT3580-TD8\"\n", "t.toml:5:1: ",
     "library \"lib0\": drive \"d0\": unknown key \"modle\"; did you mean \"model\"? accepted keys: name, model, "
     "serial, bridge, clean_after_loads, clean_after_gb"},
    {"unknown cartridge key", LIB "[[library.cartridges]]\nbarcod = \"VTL001L8\"\n", "t.toml:4:1: ",
     "library \"lib0\": cartridge #1: unknown key \"barcod\"; did you mean \"barcode\"?", false},
    {"wrong type", LIB "slots = \"50\"\n", "t.toml:3:9: ",
     "library \"lib0\": slots: expected an integer 1..50000; got \"50\""},
    {"float for an integer", LIB "robots = 1.0\n", "t.toml:3:10: ",
     "library \"lib0\": robots: expected an integer 1..4; got 1.0"},
    {"slots out of range", LIB "slots = 0\n", "t.toml:3:9: ", "library \"lib0\": slots: expected 1..50000; got 0"},
    {"robots out of range", LIB "robots = 5\n", "t.toml:3:10: ", "library \"lib0\": robots: expected 1..4; got 5"},
    {"ie_slots out of range", LIB "ie_slots = 241\n", "t.toml:3:12: ",
     "library \"lib0\": ie_slots: expected 0..240; got 241"},
    {"bad library name", "[[library]]\nname = \"Lib 0\"\n", "t.toml:2:8: ",
     "library #1: name: expected 1 to 32 characters a-z, 0-9, '_' or '-', starting with a letter or digit; got "
     "\"Lib 0\""},
    {"bad personality", LIB "personality = \"ibm\"\n", "t.toml:3:15: ",
     "library \"lib0\": personality: expected one of generic, ibm-ts4500, ibm-ts3500, spectra-tfinity, "
     "quantum-i6000, hpe-msl, stk-sl; got \"ibm\""},
    {"bad serial", LIB "serial = \"A/B\"\n", "t.toml:3:10: ",
     "library \"lib0\": serial: expected 1 to 32 characters A-Z, a-z, 0-9, '_' or '-'; got \"A/B\""},
    {"relative state_dir", LIB "state_dir = \"var/vtl\"\n", "t.toml:3:13: ",
     "library \"lib0\": state_dir: expected an absolute path; got \"var/vtl\""},
    {"bad changer name", LIB "changer = \"../x\"\n", "t.toml:3:11: ", "library \"lib0\": changer: expected 1 to 32", false},
    {"duplicate library", LIB "[[library]]\nname = \"lib0\"\n", "t.toml:4:8: ",
     "library \"lib0\": name: \"lib0\" is already the name of the library at line 2"},
    {"duplicate state_dir", LIB "[[library]]\nname = \"lib1\"\nstate_dir = \"/var/lib/vtl/lib0/\"\n", "t.toml:5:13: ",
     "library \"lib1\": state_dir: \"/var/lib/vtl/lib0/\" is also the state directory of library \"lib0\" (line 1)"},
    {"duplicate drive name", LIB "[[library.drives]]\nname = \"d\"\n[[library.drives]]\nname = \"d\"\n", "t.toml:6:8: ",
     "library \"lib0\": drive \"d\": name: \"d\" is already the name of the drive at line 4"},
    {"drive named like the changer", LIB "[[library.drives]]\nname = \"changer\"\n", "t.toml:4:8: ",
     "library \"lib0\": drive \"changer\": name: \"changer\" is already the changer's name"},
    {"bad drive name", LIB "[[library.drives]]\nname = \"Drive0\"\n", "t.toml:4:8: ",
     "library \"lib0\": drive #1: name: expected 1 to 32", false},
    {"duplicate serial", LIB "[[library.drives]]\nserial = \"S1\"\n[[library.drives]]\nserial = \"S1\"\n",
     "t.toml:6:10: ", "library \"lib0\": drive \"drive1\": serial: \"S1\" is already the serial of lib0/drive0 (line 4)"},
    {"serial shared across libraries", LIB "serial = \"S1\"\n[[library]]\nname = \"lib1\"\nserial = \"S1\"\n",
     "t.toml:6:10: ", "library \"lib1\": serial: \"S1\" is already the serial of lib0/changer (line 3)"},
    {"bridge not a bool", LIB "[[library.drives]]\nbridge = \"yes\"\n", "t.toml:4:10: ",
     "library \"lib0\": drive \"drive0\": bridge: expected true or false; got \"yes\""},
    {"drives not tables", LIB "drives = 4\n", "t.toml:3:10: ",
     "library \"lib0\": drives: expected an array of tables ([[library.drives]]); got 4"},
    {"address overlap", LIB "[[library.drives]]\n[library.addresses]\ndrive = 0x1010\n", "t.toml:5:9: ",
     "library \"lib0\": addresses: drive range 0x1010..0x1010 (drives = 1) overlaps slot range 0x1000..0x1031 "
     "(slots = 50)"},
    {"overlap from a count", LIB "ie_slots = 240\n[[library.drives]]\n[library.addresses]\nie = 0x0020\n", "t.toml:6:6: ",
     "library \"lib0\": addresses: ie range 0x0020..0x010F (ie_slots = 240) overlaps drive range", false},
    {"overlap with a default range", LIB "robots = 4\n[library.addresses]\ntransport = 0x000E\n",
     "t.toml:5:13: ",
     "library \"lib0\": addresses: transport range 0x000E..0x0011 (robots = 4) overlaps ie range 0x0010..0x0013 "
     "(ie_slots = 4)"},
    {"address beyond 0xFFFF", LIB "[library.addresses]\nslot = 0xFFF0\n", "t.toml:4:8: ",
     "library \"lib0\": addresses: slot range 0xFFF0..0x10021 (slots = 50) goes beyond 0xFFFF"},
    {"address out of range", LIB "[library.addresses]\nslot = 0x10000\n", "t.toml:4:8: ",
     "library \"lib0\": addresses.slot: expected 0x0000..0xFFFF; got 0x10000"},
    {"duration without unit", LIB "[library.timings]\npick = \"2\"\n", "t.toml:4:8: ",
     "library \"lib0\": timings.pick: \"2\": missing a unit (ms, s, min, h)"},
    {"duration with a space", LIB "[library.timings]\npick = \"2 s\"\n", "t.toml:4:8: ",
     "library \"lib0\": timings.pick: \"2 s\": expected a number and a unit (ms, s, min, h) like \"15s\", "
     "\"2.5s\", \"500ms\""},
    {"duration as a float", LIB "[library.timings]\nload = 2.5\n", "t.toml:4:8: ",
     "library \"lib0\": timings.load: expected a duration like \"15s\", \"2.5s\", \"500ms\", \"13min\", \"1h\" or "
     "integer seconds; got 2.5"},
    {"duration too long", LIB "[library.timings]\nload = \"2h\"\n", "t.toml:4:8: ",
     "library \"lib0\": timings.load: expected 0s..1h; got \"2h\""},
    {"negative seconds", LIB "[library.timings]\nunload = -3\n", "t.toml:4:10: ",
     "library \"lib0\": timings.unload: expected 0s..1h; got -3"},
    {"bridge timeout zero", LIB "[library.bridge]\ntimeout = 0\n", "t.toml:4:11: ",
     "library \"lib0\": bridge.timeout: expected 1s..24h; got 0"},
    {"bad abort policy", LIB "[library.bridge]\nabort_policy = \"retry\"\n", "t.toml:4:16: ",
     "library \"lib0\": bridge.abort_policy: expected \"complete\" or \"return-to-source\"; got \"retry\""},
    {"opcode E7", LIB "[library.async_move]\nmove_opcode = 0xE7\n", "t.toml:4:15: ",
     "library \"lib0\": async_move.move_opcode: expected 0xC0..0xFF other than 0xE7; got 0xE7"},
    {"opcode not vendor specific", LIB "[library.async_move]\nquery_opcode = 0xA5\n", "t.toml:4:16: ",
     "library \"lib0\": async_move.query_opcode: expected 0xC0..0xFF; got 0xA5"},
    {"opcodes equal", LIB "[library.async_move]\nquery_opcode = 0xC5\n", "t.toml:4:16: ",
     "library \"lib0\": async_move.query_opcode: move_opcode and query_opcode must differ; both are 0xC5"},
    {"hostile barcode", LIB "[[library.cartridges]]\nbarcode = \"../../etc\"\nslot = 1\n", "t.toml:4:11: ",
     "library \"lib0\": cartridge #1: barcode: invalid barcode \"../../etc\": character 1 '.' is not A-Z or 0-9"},
    {"UTF-8 barcode", LIB "[[library.cartridges]]\nbarcode = \"VTL\xC3\x84" "1L8\"\n", "t.toml:4:11: ",
     "library \"lib0\": cartridge #1: barcode: invalid barcode \"VTL\\xC3\\x841L8\": byte 4 (0xC3) is not A-Z or 0-9"},
    {"empty barcode", LIB "[[library.cartridges]]\nbarcode = \"\"\n", "t.toml:4:11: ",
     "library \"lib0\": cartridge #1: barcode: invalid barcode \"\": empty; expected 1 to 16 characters A-Z, 0-9"},
    {"NUL in a barcode", LIB "[[library.cartridges]]\nbarcode = \"A\\u0000B\"\n", "t.toml:4:11: ",
     "library \"lib0\": cartridge #1: barcode: invalid barcode \"A\\x00B\": byte 2 (0x00) is not A-Z or 0-9"},
    {"barcode and first", LIB "[[library.cartridges]]\nbarcode = \"A1L8\"\nfirst = \"A1L8\"\ncount = 2\n",
     "t.toml:5:9: ",
     "library \"lib0\": cartridge #1: first: give either barcode (one cartridge) or first and count (a range), not "
     "both"},
    {"neither barcode nor first", LIB "[[library.cartridges]]\nslot = 3\n", "t.toml:3:1: ",
     "library \"lib0\": cartridge #1: expected barcode (one cartridge) or first and count (a range)"},
    {"range without count", LIB "[[library.cartridges]]\nfirst = \"A1L8\"\n", "t.toml:4:9: ",
     "library \"lib0\": cartridge #1: first: a range needs count"},
    {"range overflow", LIB "[[library.cartridges]]\nfirst = \"VTL998L8\"\ncount = 3\n", "t.toml:4:9: ",
     "library \"lib0\": cartridge #1: first: 3 cartridges from \"VTL998L8\" would need the number 1000, wider than "
     "the 3 digits before the suffix"},
    {"bad type", LIB "[[library.cartridges]]\nbarcode = \"TAPE01\"\ntype = \"tape\"\n", "t.toml:5:8: ",
     "library \"lib0\": cartridge \"TAPE01\": type: expected one of data, cleaning, worm, diagnostic; got \"tape\""},
    {"type conflicts with the suffix", LIB "[[library.cartridges]]\nbarcode = \"VTL001LY\"\ntype = \"data\"\n",
     "t.toml:5:8: ",
     "library \"lib0\": cartridge \"VTL001LY\": type: \"data\" conflicts with barcode \"VTL001LY\", whose suffix "
     "means LTO-8 WORM"},
    {"generation conflicts with the suffix", LIB "[[library.cartridges]]\nbarcode = \"VTL001M8\"\ngeneration = 8\n",
     "t.toml:5:14: ",
     "library \"lib0\": cartridge \"VTL001M8\": generation: 8 conflicts with barcode \"VTL001M8\", whose suffix "
     "means LTO-7 Type M data (LTO-8 format)"},
    {"generation out of range", LIB "[[library.cartridges]]\nbarcode = \"TAPE01\"\ngeneration = 4\n",
     "t.toml:5:14: ", "library \"lib0\": cartridge \"TAPE01\": generation: expected 5..9; got 4"},
    {"duplicate barcode", LIB "[[library.cartridges]]\nbarcode = \"AAA001L8\"\nslot = 1\n"
                              "[[library.cartridges]]\nfirst = \"AAA000L8\"\ncount = 3\nslot = 2\n",
     "t.toml:7:9: ",
     "library \"lib0\": cartridges \"AAA000L8\"..\"AAA002L8\": first: barcode \"AAA001L8\" is already declared at "
     "line 4"},
    {"two cartridges in one slot", LIB "[[library.cartridges]]\nbarcode = \"AAA001L8\"\nslot = 7\n"
                                       "[[library.cartridges]]\nfirst = \"BBB001L8\"\ncount = 2\nslot = 6\n",
     "t.toml:9:8: ",
     "library \"lib0\": cartridges \"BBB001L8\"..\"BBB002L8\": slot: slot 7 already holds \"AAA001L8\" (line 5)"},
    {"slot beyond slots", LIB "slots = 10\n[[library.cartridges]]\nbarcode = \"AAA001L8\"\nslot = 11\n",
     "t.toml:6:8: ",
     "library \"lib0\": cartridge \"AAA001L8\": slot: slot 11 is beyond the library's 10 storage slots"},
    {"range beyond slots", LIB "slots = 10\n[[library.cartridges]]\nfirst = \"AAA001L8\"\ncount = 3\nslot = 9\n",
     "t.toml:7:8: ",
     "library \"lib0\": cartridges \"AAA001L8\"..\"AAA003L8\": slot: slots 9..11 go beyond the library's 10 storage "
     "slots"},
    {"slot zero", LIB "[[library.cartridges]]\nbarcode = \"AAA001L8\"\nslot = 0\n", "t.toml:5:8: ",
     "library \"lib0\": cartridge \"AAA001L8\": slot: expected 1..50000; got 0"},
    {"more cartridges than slots", LIB "slots = 10\n[[library.cartridges]]\nfirst = \"AAA001L8\"\ncount = 6\n"
                                       "[[library.cartridges]]\nfirst = \"BBB001L8\"\ncount = 5\n",
     "t.toml:7:1: ",
     "library \"lib0\": cartridges \"BBB001L8\"..\"BBB005L8\": 11 cartridges declared so far but the library has "
     "only 10 storage slots"},
};

#undef LIB

}  // namespace

TEST(ConfigErrors, EachMistakeAtItsLineAndColumn) {
    for (const auto& c : kErrorCases) {
        SCOPED_TRACE(c.what);
        const std::string error = error_of(c.toml);
        EXPECT_THAT(error, StartsWith(c.location));
        if (c.exact) {
            EXPECT_EQ(error, std::string(c.location) + c.message);
        } else {
            EXPECT_THAT(error, HasSubstr(c.message));
        }
    }
}

TEST(ConfigErrors, ThePrintedDefaultStaysValidWhenEdited) {
    // The writer's output is meant to be edited: a typo in it is still caught.
    std::string toml = to_toml(default_config());
    const auto at = toml.find("slots = 50");
    ASSERT_NE(at, std::string::npos);
    toml.replace(at, 5, "slotz");
    EXPECT_THAT(error_of(toml), HasSubstr("unknown key \"slotz\"; did you mean \"slots\"?"));
}
