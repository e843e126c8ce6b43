// The config keys the tape drives add: a cartridge's capacity and write-protect switch, the
// rewind and locate timings, and the cleaning intervals; each checked with file:line:column
// errors and written back by to_toml.
#include <gmock/gmock.h>

#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::config;
using ::testing::HasSubstr;

namespace {

std::string error_of(const std::string& toml) {
    try {
        parse_config(toml, "t.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST(SscConfig, SizesParseAndPrintExactly) {
    std::string error;
    EXPECT_EQ(parse_size("64MiB", error), 64u << 20);
    EXPECT_EQ(parse_size("800GB", error), 800'000'000'000u);
    EXPECT_EQ(parse_size("1.5TB", error), 1'500'000'000'000u);
    EXPECT_EQ(parse_size("65536B", error), 65536u);
    EXPECT_EQ(parse_size("0.5KiB", error), 512u);
    for (const char* bad : {"", "MiB", "64", "64 MiB", "64mib", "1.5B", "-1MB", "99999999999999999999TB", "1.MB"}) {
        SCOPED_TRACE(bad);
        EXPECT_EQ(parse_size(bad, error), std::nullopt);
        EXPECT_FALSE(error.empty());
    }
    for (uint64_t v : {uint64_t(64) << 10, uint64_t(64) << 20, uint64_t(800'000'000'000), uint64_t(12'000'000'000'000),
                       uint64_t(65537), uint64_t(1536) << 20}) {
        EXPECT_EQ(parse_size(format_size(v), error), v) << format_size(v);
    }
    EXPECT_EQ(format_size(64u << 20), "64MiB");
    EXPECT_EQ(format_size(800'000'000'000u), "800GB");
    EXPECT_EQ(parse_motion_time("8ms/GB", error), (MotionTime{std::chrono::milliseconds(8), true}));
    EXPECT_EQ(parse_motion_time("90s", error), (MotionTime{std::chrono::seconds(90), false}));
    EXPECT_EQ(format_motion_time(MotionTime{std::chrono::milliseconds(8), true}), "8ms/GB");
}

TEST(SscConfig, TapeKeysParseAndRoundTrip) {
    const Config c = parse_config(R"([[library]]
[library.timings]
rewind = "8ms/GB"
locate = 2
[[library.drives]]
clean_after_loads = 100
clean_after_gb = 5000
[[library.cartridges]]
first = "SMALL1L8"
count = 3
capacity = "64MiB"
write_protected = true
slot = 1
[[library.cartridges]]
barcode = "BIG001L9"
capacity = 800000000000
slot = 4
)",
                                  "t.toml");
    const auto& lib = c.libraries.at(0);
    EXPECT_EQ(lib.timings.rewind, (MotionTime{std::chrono::milliseconds(8), true}));
    EXPECT_EQ(lib.timings.locate, (MotionTime{std::chrono::seconds(2), false}));
    EXPECT_EQ(lib.drives.at(0).clean_after_loads, 100u);
    EXPECT_EQ(lib.drives.at(0).clean_after_gb, 5000u);
    ASSERT_EQ(lib.cartridges.size(), 4u);
    EXPECT_EQ(lib.cartridges[2].capacity, 64u << 20);
    EXPECT_TRUE(lib.cartridges[2].write_protected);
    EXPECT_EQ(lib.cartridges[3].capacity, 800'000'000'000u);
    EXPECT_FALSE(lib.cartridges[3].write_protected);

    const std::string toml = to_toml(c);
    EXPECT_THAT(toml, HasSubstr("capacity = \"64MiB\"\nwrite_protected = true\n"));
    EXPECT_THAT(toml, HasSubstr("capacity = \"800GB\"\n"));
    EXPECT_THAT(toml, HasSubstr("rewind = \"8ms/GB\""));
    EXPECT_THAT(toml, HasSubstr("first = \"SMALL1L8\"\ncount = 3\n"));
    EXPECT_EQ(parse_config(toml, "again.toml"), c);
    // Defaults: fast motions, no cleaning interval, native capacity.
    const auto d = default_config();
    EXPECT_EQ(d.libraries[0].timings.rewind, MotionTime{});
    EXPECT_EQ(d.libraries[0].cartridges[0].capacity, std::nullopt);
    EXPECT_EQ(parse_config(to_toml(d), "d.toml"), d);
}

TEST(SscConfig, MistakesAreReportedWithTheirPlace) {
    EXPECT_EQ(error_of("[[library]]\nname = \"l\"\n[[library.cartridges]]\nbarcode = \"A00001L8\"\ncapacity = \"64 MiB\"\n"),
              "t.toml:5:12: library \"l\": cartridge \"A00001L8\": capacity: \"64 MiB\": expected a number and a unit "
              "(B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB) like \"64MiB\", \"800GB\", \"1.5TB\"");
    EXPECT_EQ(error_of("[[library]]\nname = \"l\"\n[[library.cartridges]]\nbarcode = \"A00001L8\"\ncapacity = \"1KiB\"\n"),
              "t.toml:5:12: library \"l\": cartridge \"A00001L8\": capacity: expected 4KiB..1PB; got \"1KiB\"");
    EXPECT_EQ(error_of("[[library]]\nname = \"l\"\n[[library.cartridges]]\nbarcode = \"A00001L8\"\nwrite_protected = 1\n"),
              "t.toml:5:19: library \"l\": cartridge \"A00001L8\": write_protected: expected true or false; got 1");
    EXPECT_EQ(error_of("[[library]]\nname = \"l\"\n[library.timings]\nrewind = \"8ms/TB\"\n"),
              "t.toml:4:10: library \"l\": timings.rewind: \"8ms/TB\": expected a number and a unit (ms, s, min, h) like "
              "\"15s\", \"2.5s\", \"500ms\"");
    EXPECT_EQ(error_of("[[library]]\nname = \"l\"\n[[library.drives]]\nclean_after_loads = -1\n"),
              "t.toml:4:21: library \"l\": drive \"drive0\": clean_after_loads: expected 0..1000000; got -1");
}

TEST(SscConfig, ACartridgeTakesItsConfiguredCapacityAndSwitch) {
    ssctest::LoadedDrive t({{"SIZED1L8", 1u << 20, true}});
    const auto cap = t.log_page(0x31);
    EXPECT_EQ(cap->uint_param(0x0003), 1u);
    EXPECT_TRUE(t.mode_sense(0x00)->write_protected());
}
