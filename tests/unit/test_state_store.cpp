// Persistence: the first start writes a snapshot, completed operations are journaled before the
// host hears of them, restarts replay the journal, a torn tail is dropped, and a state that
// does not fit the config is refused with a message naming the file and the difference.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/virtual_clock.h"
#include "library/changes.h"
#include "library/library.h"
#include "library/state_store.h"
#include "library_fixture.h"

using namespace vtl;
using namespace vtl::libtest;
using namespace std::chrono_literals;
using library::Library;
using library::MoveRequest;
using library::StateStore;
namespace fs = std::filesystem;

namespace {

config::LibraryConfig persistent(const TempDir& dir, config::Personality p = config::Personality::Generic) {
    auto cfg = small_library(p);
    cfg.state_dir = dir.path() / "t0";
    return cfg;
}

Library::Options persist(size_t compact_after = 1000) { return {.persist = true, .compact_after = compact_after}; }

void run_move(Library& lib, VirtualClock& clock, uint16_t from, uint16_t to) {
    Outcome o;
    lib.start_move(MoveRequest{.source = from, .destination = to}, o.callback());
    clock.advance(600s);
    ASSERT_EQ(o.calls, 1);
    ASSERT_FALSE(o.sense);
}

std::string barcode_at(const Library& lib, uint16_t address) {
    const auto* e = lib.inventory().at(address);
    return e && e->cartridge ? lib.inventory().cartridge(*e->cartridge).barcode : "";
}

uintmax_t journal_size(const config::LibraryConfig& cfg) { return fs::file_size(cfg.state_dir / StateStore::kJournalName); }

std::string open_error(const config::LibraryConfig& cfg) {
    VirtualClock clock;
    try {
        Library lib(cfg, clock, persist());
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(opened)";
}

}  // namespace

TEST(StateStore, FirstStartWritesTheConfigsInventory) {
    TempDir dir;
    const auto cfg = persistent(dir);
    VirtualClock clock;
    Library lib(cfg, clock, persist());
    ASSERT_TRUE(fs::exists(cfg.state_dir / StateStore::kSnapshotName));
    std::ifstream in(cfg.state_dir / StateStore::kSnapshotName);
    const auto snap = nlohmann::json::parse(in);
    EXPECT_EQ(snap["format"], 1);
    EXPECT_EQ(snap["library"], "t0");
    EXPECT_EQ(snap["seq"], 0);
    EXPECT_EQ(snap["inventory"], lib.inventory().to_json());
    EXPECT_EQ(journal_size(cfg), 0u);
}

TEST(StateStore, CompletedMovesAreJournaledBeforeDoneAndSurviveARestart) {
    TempDir dir;
    const auto cfg = persistent(dir);
    nlohmann::json expected;
    {
        VirtualClock clock;
        Library lib(cfg, clock, persist());
        uintmax_t size_at_done = 0;
        lib.start_move(MoveRequest{.source = slot(cfg, 1), .destination = drive(cfg, 0)},
                       [&](std::optional<scsi::Sense>) { size_at_done = journal_size(cfg); });
        clock.advance(600s);
        EXPECT_GT(size_at_done, 0u) << "on disk before the host hears of it";
        run_move(lib, clock, slot(cfg, 2), slot(cfg, 12));
        expected = lib.inventory().to_json();
        // Simulate kill -9: copy the files as they are now, before the destructor compacts.
        fs::copy(cfg.state_dir, dir.path() / "crashed");
    }
    {
        auto crashed = cfg;
        crashed.state_dir = dir.path() / "crashed";
        VirtualClock clock;
        Library lib(crashed, clock, persist());
        EXPECT_EQ(lib.inventory().to_json(), expected);
        EXPECT_EQ(lib.drive_at(drive(cfg, 0))->state(), DriveMechanism::State::Loaded) << "the drive holds it again";
    }
    {
        VirtualClock clock;
        Library lib(cfg, clock, persist());  // after a clean shutdown: compacted
        EXPECT_EQ(lib.inventory().to_json(), expected);
        EXPECT_EQ(journal_size(cfg), 0u);
    }
}

TEST(StateStore, ReopeningFromTheConfigStateDiffersFromTheSavedOne) {
    TempDir dir;
    const auto cfg = persistent(dir);
    {
        VirtualClock clock;
        Library lib(cfg, clock, persist());
        run_move(lib, clock, slot(cfg, 1), slot(cfg, 10));
    }
    VirtualClock clock;
    Library lib(cfg, clock, persist());
    EXPECT_EQ(barcode_at(lib, slot(cfg, 10)), "A00001L8") << "the state wins over [[library.cartridges]]";
    EXPECT_EQ(barcode_at(lib, slot(cfg, 1)), "");
}

TEST(StateStore, OperatorActionsAlternateTagsAndExceptionsPersist) {
    TempDir dir;
    const auto cfg = persistent(dir);
    nlohmann::json expected;
    {
        VirtualClock clock;
        Library lib(cfg, clock, persist());
        ASSERT_FALSE(lib.open_ie_door());
        ASSERT_FALSE(lib.insert_cartridge(0, smc::Cartridge{.barcode = "NEW001L9"}));
        ASSERT_FALSE(lib.close_ie_door());
        run_move(lib, clock, slot(cfg, 3), ie(cfg, 1));
        ASSERT_FALSE(lib.open_ie_door());
        ASSERT_FALSE(lib.take_cartridge(1));
        lib.set_alternate_tag(*lib.inventory().at(slot(cfg, 4))->cartridge, "ALT4");
        lib.set_exception(slot(cfg, 11), scsi::Asc{0x83, 0x00});
        expected = lib.inventory().to_json();
        fs::copy(cfg.state_dir, dir.path() / "crashed");
    }
    auto crashed = cfg;
    crashed.state_dir = dir.path() / "crashed";
    VirtualClock clock;
    Library lib(crashed, clock, persist());
    EXPECT_EQ(lib.inventory().to_json(), expected);
    EXPECT_EQ(lib.inventory().find("A00003L8"), std::nullopt);
    EXPECT_EQ(lib.inventory().find("NEW001L9"), ie(cfg, 0));
}

TEST(StateStore, CompactsAfterNRecords) {
    TempDir dir;
    const auto cfg = persistent(dir);
    VirtualClock clock;
    Library lib(cfg, clock, persist(3));
    run_move(lib, clock, slot(cfg, 1), slot(cfg, 9));
    run_move(lib, clock, slot(cfg, 9), slot(cfg, 10));
    EXPECT_GT(journal_size(cfg), 0u);
    run_move(lib, clock, slot(cfg, 10), slot(cfg, 11));
    EXPECT_EQ(journal_size(cfg), 0u);
    std::ifstream in(cfg.state_dir / StateStore::kSnapshotName);
    const auto snap = nlohmann::json::parse(in);
    EXPECT_EQ(snap["seq"], 3);
    EXPECT_EQ(snap["inventory"], lib.inventory().to_json());
}

TEST(StateStore, ATornOrCorruptTailIsDroppedAndCutOff) {
    TempDir dir;
    const auto cfg = persistent(dir);
    nlohmann::json after_first;
    {
        VirtualClock clock;
        Library lib(cfg, clock, persist());
        run_move(lib, clock, slot(cfg, 1), slot(cfg, 9));
        after_first = lib.inventory().to_json();
        const auto first_size = journal_size(cfg);
        run_move(lib, clock, slot(cfg, 2), slot(cfg, 10));
        fs::copy(cfg.state_dir, dir.path() / "torn");
        fs::copy(cfg.state_dir, dir.path() / "flipped");
        fs::resize_file(dir.path() / "torn" / StateStore::kJournalName, journal_size(cfg) - 3);
        {
            std::fstream f(dir.path() / "flipped" / StateStore::kJournalName, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(static_cast<std::streamoff>(first_size + 12));
            f.put('#');
        }
    }
    for (const char* name : {"torn", "flipped"}) {
        SCOPED_TRACE(name);
        auto c = cfg;
        c.state_dir = dir.path() / name;
        const auto full = journal_size(c);
        VirtualClock clock;
        Library lib(c, clock, persist());
        EXPECT_EQ(lib.inventory().to_json(), after_first);
        EXPECT_LT(journal_size(c), full) << "the bad tail is cut off so new records follow good ones";
        run_move(lib, clock, slot(c, 3), slot(c, 11));
        const auto now = lib.inventory().to_json();
        fs::copy(c.state_dir, dir.path() / (std::string(name) + "2"));
        auto again = c;
        again.state_dir = dir.path() / (std::string(name) + "2");
        VirtualClock clock2;
        Library reopened(again, clock2, persist());
        EXPECT_EQ(reopened.inventory().to_json(), now);
    }
}

TEST(StateStore, RecordsTheSnapshotAlreadyHoldsAreSkipped) {
    // A crash between writing the new snapshot and emptying the journal.
    TempDir dir;
    const auto cfg = persistent(dir);
    nlohmann::json expected;
    std::vector<uint8_t> journal;
    {
        VirtualClock clock;
        Library lib(cfg, clock, persist());
        run_move(lib, clock, slot(cfg, 1), slot(cfg, 9));
        run_move(lib, clock, slot(cfg, 9), slot(cfg, 10));
        std::ifstream in(cfg.state_dir / StateStore::kJournalName, std::ios::binary);
        journal.assign(std::istreambuf_iterator<char>(in), {});
        expected = lib.inventory().to_json();
    }  // compacts: snapshot seq 2, empty journal
    {
        std::ofstream out(cfg.state_dir / StateStore::kJournalName, std::ios::binary);
        out.write(reinterpret_cast<const char*>(journal.data()), static_cast<std::streamsize>(journal.size()));
    }
    VirtualClock clock;
    Library lib(cfg, clock, persist());
    EXPECT_EQ(lib.inventory().to_json(), expected);
}

TEST(StateStore, RefusesAStateThatDoesNotFitTheConfig) {
    TempDir dir;
    const auto cfg = persistent(dir);
    {
        VirtualClock clock;
        Library lib(cfg, clock, persist());
    }
    auto fewer = cfg;
    fewer.slots = 10;
    fewer.cartridges.resize(5);
    const auto snapshot = (cfg.state_dir / StateStore::kSnapshotName).string();
    EXPECT_EQ(open_error(fewer),
              snapshot + ": the saved state does not fit the config: storage slots: the saved state has 12 at "
                         "0x1000..0x100B, the config has 10 at 0x1000..0x1009; refusing to start rather than drop "
                         "cartridges (restore the config's layout, or move the state directory away to start from "
                         "the config)");
    auto more_drives = cfg;
    more_drives.drives.push_back(config::DriveConfig{.name = "drive3", .serial = "S3"});
    EXPECT_NE(open_error(more_drives).find("data transfer elements (drives): the saved state has 3 at 0x0100..0x0102, "
                                           "the config has 4 at 0x0100..0x0103"),
              std::string::npos);
    auto moved = cfg;
    moved.addresses.ie = 0x0020;
    EXPECT_NE(open_error(moved).find("import/export elements"), std::string::npos);
    // Nothing was written by the refused starts.
    EXPECT_EQ(open_error(cfg), "(opened)");
}

TEST(StateStore, RefusesOtherFormatsOtherLibrariesAndDamagedFiles) {
    TempDir dir;
    const auto cfg = persistent(dir);
    {
        VirtualClock clock;
        Library lib(cfg, clock, persist());
    }
    const auto snap_path = cfg.state_dir / StateStore::kSnapshotName;
    std::ifstream in(snap_path);
    const auto snap = nlohmann::json::parse(in);
    auto write = [&](const std::string& text) { std::ofstream(snap_path, std::ios::trunc) << text; };

    auto other = snap;
    other["format"] = 2;
    write(other.dump());
    EXPECT_EQ(open_error(cfg), snap_path.string() + ": snapshot format 2; this vtld reads format 1");
    other = snap;
    other["library"] = "lib9";
    write(other.dump());
    EXPECT_EQ(open_error(cfg), snap_path.string() + ": holds the state of library \"lib9\", not \"t0\"");
    write("{\"format\": 1, ");
    EXPECT_EQ(open_error(cfg), snap_path.string() + ": not a JSON snapshot (damaged?)");
    fs::remove(snap_path);
    {
        VirtualClock clock;
        Library lib(cfg, clock, persist());  // no snapshot and an empty journal: a first start
    }
    {
        VirtualClock clock;
        Library lib(cfg, clock, persist());
        run_move(lib, clock, slot(cfg, 1), slot(cfg, 9));
        fs::copy(cfg.state_dir, dir.path() / "lost");
    }
    auto lost = cfg;
    lost.state_dir = dir.path() / "lost";
    fs::remove(lost.state_dir / StateStore::kSnapshotName);
    EXPECT_NE(open_error(lost).find("holds journal records but"), std::string::npos);
}

TEST(StateStore, StateDirectoryThatCannotBeCreatedIsNamed) {
    TempDir dir;
    auto cfg = persistent(dir);
    std::ofstream(dir.path() / "file") << "x";
    cfg.state_dir = dir.path() / "file" / "t0";
    EXPECT_NE(open_error(cfg).find("state directory " + cfg.state_dir.string() + ": cannot create it"), std::string::npos);
}

TEST(StateStore, ChangesApplyAndRefuseWhatDoesNotFit) {
    const auto cfg = small_library();
    smc::Inventory inv(cfg);
    namespace change = library::change;
    change::apply(inv, change::move(slot(cfg, 1), slot(cfg, 9), false));
    EXPECT_EQ(inv.find("A00001L8"), slot(cfg, 9));
    change::apply(inv, change::source(slot(cfg, 9), std::nullopt));
    EXPECT_FALSE(inv.at(slot(cfg, 9))->source);
    EXPECT_THROW(change::apply(inv, change::move(slot(cfg, 1), slot(cfg, 10), false)), std::runtime_error);
    EXPECT_THROW(change::apply(inv, change::move(slot(cfg, 2), slot(cfg, 3), false)), std::runtime_error);
    EXPECT_THROW(change::apply(inv, change::remove(ie(cfg, 0))), std::runtime_error);
    EXPECT_THROW(change::apply(inv, change::alternate_tag("NOPE", "X")), std::runtime_error);
    EXPECT_THROW(change::apply(inv, nlohmann::json{{"op", "teleport"}}), std::runtime_error);
    EXPECT_THROW(change::apply(inv, nlohmann::json{{"op", "move"}}), std::runtime_error);
}
