// Loading and unloading through the library, as hosts see it: a MOVE into the drive, TEST UNIT
// READY 02/04/01 while it threads, UNIT ATTENTION 28/00, then GOOD; LOAD UNLOAD unload so the
// library can pick the cartridge; timed rewinds and locates on the clock; IMMED operations,
// the commands behind them, and deferred errors.
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;
using namespace std::chrono_literals;
using State = DriveMechanism::State;

namespace {

config::Timings slow_timings() {
    config::Timings t = DriveRig::zero_timings();
    t.load = 10s;
    t.unload = 5s;
    return t;
}

}  // namespace

TEST(SscLoadUnload, MoveIntoTheDriveThenNotReadyThenUnitAttentionThenGood) {
    DriveRig t({{"VTL001L8", 64u << 20}}, "ULT3580-TD8", slow_timings());
    EXPECT_TRUE(IsCheck(t.send(fixtures::test_unit_ready()), sense(0x2, 0x3A, 0x00)));
    EXPECT_TRUE(IsCheck(t.read(100), sense(0x2, 0x3A, 0x00)));
    t.library().start_move(library::MoveRequest{.source = t.slot(1), .destination = t.drive_address()}, nullptr);
    t.clock().advance(1ms);
    ASSERT_EQ(t.drive().state(), State::Loading);
    EXPECT_TRUE(IsCheck(t.send(fixtures::test_unit_ready()), sense(0x2, 0x04, 0x01)));
    EXPECT_TRUE(IsCheck(t.send(fixtures::read_position(0x06), 32), sense(0x2, 0x04, 0x01)));
    t.clock().advance(10s);
    ASSERT_EQ(t.drive().state(), State::Loaded);
    EXPECT_TRUE(IsCheck(t.send(fixtures::test_unit_ready()), sense(0x6, 0x28, 0x00)));
    EXPECT_TRUE(IsGood(t.send(fixtures::test_unit_ready())));
    EXPECT_TRUE(t.position().bop);
}

TEST(SscLoadUnload, UnloadLetsTheLibraryPickTheCartridge) {
    DriveRig t({{"VTL001L8", 64u << 20}}, "ULT3580-TD8", slow_timings());
    t.load(1);
    ASSERT_TRUE(IsGood(t.write(pattern(100, 1))));
    // PREVENT MEDIUM REMOVAL: the unload is refused and the cartridge stays.
    ASSERT_TRUE(IsGood(t.send(fixtures::prevent_allow(1))));
    EXPECT_TRUE(IsCheck(t.send(load_unload(false)), sense(0x5, 0x53, 0x02)));
    EXPECT_EQ(t.drive().state(), State::Loaded);
    ASSERT_TRUE(IsGood(t.send(fixtures::prevent_allow(0))));

    auto unload = t.host().submit(load_unload(false));
    EXPECT_FALSE(unload.done());
    EXPECT_EQ(t.drive().state(), State::Unloading);
    EXPECT_TRUE(IsCheck(t.send(fixtures::test_unit_ready()), sense(0x2, 0x04, 0x00)));
    t.clock().advance(5s);
    ASSERT_TRUE(unload.done());
    EXPECT_TRUE(IsGood(unload.response()));
    EXPECT_EQ(t.drive().state(), State::Ejected);
    EXPECT_TRUE(IsCheck(t.send(fixtures::test_unit_ready()), sense(0x2, 0x3A, 0x00)));
    // The robot takes it back to its slot; the data is on the cartridge.
    ASSERT_FALSE(t.move(t.drive_address(), t.slot(1)));
    EXPECT_EQ(t.drive().state(), State::Empty);
    t.load(1);
    EXPECT_EQ(t.read(100).data, pattern(100, 1));
}

TEST(SscLoadUnload, LoadThreadsAnEjectedCartridgeAgainAndRewindsALoadedOne) {
    LoadedDrive t;
    ASSERT_TRUE(IsGood(t.write(pattern(100, 1))));
    EXPECT_TRUE(IsGood(t.send(load_unload(true))));  // loaded: a rewind
    EXPECT_TRUE(t.position().bop);
    ASSERT_TRUE(IsGood(t.send(load_unload(false))));
    EXPECT_EQ(t.drive().state(), State::Ejected);
    ASSERT_TRUE(IsGood(t.send(load_unload(true))));
    EXPECT_EQ(t.drive().state(), State::Loaded);
    EXPECT_TRUE(IsCheck(t.send(fixtures::test_unit_ready()), sense(0x6, 0x28, 0x00)));
    EXPECT_EQ(t.read(100).data, pattern(100, 1));
    // LOAD with EOT is invalid.
    EXPECT_TRUE(IsCheck(t.send(load_unload(true, false, true)), invalid_cdb(4, 2)));
}

TEST(SscLoadUnload, RewindAndLocateTakeTheirTimeOnTheClock) {
    config::Timings timings = DriveRig::zero_timings();
    timings.rewind = config::MotionTime{std::chrono::milliseconds(90'000), false};  // fixed 90 s
    timings.locate = config::MotionTime{std::chrono::milliseconds(1'000'000), true};  // 1000 s per GB
    LoadedDrive t({{"VTL001L8", 64u << 20}}, "ULT3580-TD8", timings);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(IsGood(t.write(pattern(1u << 20, i))));  // 10 MiB

    auto rw = t.host().submit(rewind());
    EXPECT_FALSE(rw.done());
    t.clock().advance(89s);
    EXPECT_FALSE(rw.done());
    t.clock().advance(1s);
    ASSERT_TRUE(rw.done());
    EXPECT_TRUE(IsGood(rw.response()));

    // 10 objects of 1 MiB each: 10.49 MB at 1000 s/GB is 10.49 s.
    auto lo = t.host().submit(locate10(10));
    t.clock().advance(10s);
    EXPECT_FALSE(lo.done());
    t.clock().advance(500ms);
    ASSERT_TRUE(lo.done());
    EXPECT_EQ(t.object(), 10u);
}

TEST(SscLoadUnload, ImmediateRewindAnswersAtOnceAndHoldsTheNextCommand) {
    config::Timings timings = DriveRig::zero_timings();
    timings.rewind = config::MotionTime{std::chrono::milliseconds(30'000), false};
    LoadedDrive t({{"VTL001L8", 64u << 20}}, "ULT3580-TD8", timings);
    ASSERT_TRUE(IsGood(t.write(pattern(100, 1))));
    EXPECT_TRUE(IsGood(t.send(rewind(true))));
    // The rewind goes on: TEST UNIT READY says so, and a READ POSITION waits for it.
    EXPECT_TRUE(IsCheck(t.send(fixtures::test_unit_ready()), sense(0x2, 0x04, 0x07)));
    auto pos = t.host().submit(fixtures::read_position(0x06), 32);
    EXPECT_FALSE(pos.done());
    t.clock().advance(30s);
    ASSERT_TRUE(pos.done());
    EXPECT_TRUE(fixtures::decode_read_position_long(pos.response().data)->bop);
    EXPECT_TRUE(IsGood(t.send(fixtures::test_unit_ready())));
}

TEST(SscLoadUnload, AFailedImmediateOperationIsADeferredError) {
    LoadedDrive t({{"WPROT1L8", 64u << 20}});
    // LOCATE IMMED into partition... of a medium with one: refused before it starts (no
    // deferral). A LOCATE IMMED beyond end of data, however, fails while running.
    EXPECT_TRUE(IsCheck(t.send(locate10(0, true, 2, true)), invalid_cdb(8)));
    EXPECT_TRUE(IsGood(t.send(locate10(5, false, 0, true))));
    // The next command gets the error, deferred (sense 71h), and does not run.
    const auto r = t.send(fixtures::read_position(0x06), 32);
    ASSERT_TRUE(IsCheck(r, sense(0x8, 0x00, 0x05)));
    EXPECT_EQ(r.sense[0] & 0x7F, 0x71);
    EXPECT_TRUE(IsGood(t.send(fixtures::read_position(0x06), 32)));
}

TEST(SscLoadUnload, CleaningIsAskedForAfterTheConfiguredLoads) {
    DriveRig t({{"VTL001L8", 64u << 20}, {"CLN001CU"}}, "ULT3580-TD8", DriveRig::zero_timings(),
               [](config::LibraryConfig& c) { c.drives[0].clean_after_loads = 2; });
    auto cycle = [&] {
        t.load(1);
        ASSERT_TRUE(IsGood(t.send(load_unload(false))));
        ASSERT_FALSE(t.move(t.drive_address(), t.slot(1)));
    };
    cycle();
    EXPECT_FALSE(t.drive().cleaning_requested());
    cycle();
    EXPECT_TRUE(t.drive().cleaning_requested());
    EXPECT_EQ(t.log_page(0x2E)->uint_param(0x15), 1u);
    // A cleaning cycle clears it.
    ASSERT_FALSE(t.move(t.slot(2), t.drive_address()));
    for (int i = 0; i < 10 && t.drive().state() != State::Ejected; ++i) t.clock().advance(1s);
    ASSERT_FALSE(t.move(t.drive_address(), t.slot(2)));
    EXPECT_FALSE(t.drive().cleaning_requested());
    EXPECT_EQ(t.log_page(0x2E)->uint_param(0x15), 0u);
}

TEST(SscLoadUnload, AUsedUpCleaningCartridgeDoesNotClean) {
    DriveRig t({{"CLN001CU"}});
    for (uint32_t use = 1; use <= TapeDrive::kCleaningCartridgeUses + 1; ++use) {
        SCOPED_TRACE(use);
        t.drive().require_cleaning();
        ASSERT_FALSE(t.move(t.slot(1), t.drive_address()));
        for (int i = 0; i < 10 && t.drive().state() != State::Ejected; ++i) t.clock().advance(1s);
        ASSERT_FALSE(t.move(t.drive_address(), t.slot(1)));
        // Uses 1 to 50 clean the drive; the 51st finds the cartridge used up.
        ASSERT_EQ(t.drive().cleaning_requested(), use > TapeDrive::kCleaningCartridgeUses);
    }
    EXPECT_EQ(t.log_page(0x2E)->uint_param(0x16), 1u);  // expired cleaning media
}

TEST(SscLoadUnload, APersistentLibraryKeepsTheDataAndTheLoadedCartridgeAcrossARestart) {
    libtest::TempDir dir;
    auto cfg = config::library_defaults("keep");
    cfg.state_dir = dir.path() / "keep";
    cfg.slots = 4;
    cfg.timings = DriveRig::zero_timings();
    cfg.drives.push_back(config::DriveConfig{.name = "drive0", .serial = "1013000099"});
    cfg.cartridges.push_back(config::CartridgeConfig{.barcode = "KEEP01L8", .slot = 1, .generation = 8, .capacity = 8u << 20});
    const library::Library::Options persist{.persist = true};
    {
        VirtualClock clock;
        library::Library lib(cfg, clock, persist);
        EXPECT_TRUE(std::filesystem::is_directory(cfg.state_dir / "cartridges"));
        fixtures::Initiator host(*lib.find("drive0"), clock);
        host.clear_power_on_attention();
        lib.start_move(library::MoveRequest{.source = cfg.addresses.slot, .destination = cfg.addresses.drive}, nullptr);
        clock.advance(1s);
        ASSERT_TRUE(IsCheck(host.send(fixtures::test_unit_ready()), sense(0x6, 0x28, 0x00)));
        ASSERT_TRUE(IsGood(host.send(write6(1000), 0, pattern(1000, 1))));
        ASSERT_TRUE(IsGood(host.send(write_filemarks(1))));
    }
    VirtualClock clock;
    library::Library lib(cfg, clock, persist);
    auto& drive = static_cast<TapeDrive&>(lib.find("drive0")->device());
    EXPECT_EQ(drive.state(), State::Loaded);
    fixtures::Initiator host(*lib.find("drive0"), clock);
    host.clear_power_on_attention();
    const auto r = host.send(read6(1000), 1000);
    ASSERT_TRUE(IsGood(r));
    EXPECT_EQ(r.data, pattern(1000, 1));
    // The MAM saw one load (a restart is not a load).
    const auto attr = host.send(read_attribute(0, 0, 0x0003, 64), 64);
    EXPECT_EQ(Bytes(attr.data.begin() + 9, attr.data.begin() + 17), (Bytes{0, 0, 0, 0, 0, 0, 0, 1}));
}
