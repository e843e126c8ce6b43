// The management API's library operations (library/lifecycle.cpp): create and delete
// cartridges, tape image import/export, reset, snapshots, the inventory views, and several
// libraries in one emulator.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "cdb.h"
#include "config/config.h"
#include "core/virtual_clock.h"
#include "device/tape_drive.h"
#include "initiator.h"
#include "library/async_moves.h"
#include "library/emulator.h"
#include "library/library.h"
#include "library_fixture.h"
#include "sense_view.h"
#include "storage/store.h"
#include "support.h"
#include "test_ssc_support.h"

namespace vtl {
namespace {

using library::Library;
using Kind = Library::Placement::Kind;
using libtest::TempDir;
using ssctest::Bytes;
using ssctest::IsGood;
using testsupport::IsCheck;
using testsupport::sense;
using namespace std::chrono_literals;

constexpr uint64_t kCapacity = 64u << 20;

// "lc0": 2 LTO-8 drives at 0x0100, 12 slots from 0x1000, 2 I/E slots from 0x0010, one robot at
// 0x0000; A00001L8..A00004L8 (64 MiB) in slots 1-4. Every motion takes no time.
config::LibraryConfig lifecycle_config(const std::filesystem::path& state_dir = {}) {
    auto lib = config::library_defaults("lc0");
    lib.slots = 12;
    lib.ie_slots = 2;
    lib.timings = ssctest::DriveRig::zero_timings();
    lib.state_dir = state_dir;
    for (int i = 0; i < 2; ++i) {
        config::DriveConfig d;
        d.name = fmt::format("drive{}", i);
        d.serial = config::default_drive_serial(lib.name, d.name);
        lib.drives.push_back(d);
    }
    for (uint32_t i = 1; i <= 4; ++i) {
        lib.cartridges.push_back(config::CartridgeConfig{
            .barcode = fmt::format("A0000{}L8", i), .slot = i, .generation = 8, .capacity = kCapacity});
    }
    return lib;
}

class Lifecycle : public ::testing::Test {
protected:
    void SetUp() override { start(); }

    void start(Library::Options options = {}) {
        hosts_.clear();
        lib_.reset();
        lib_ = std::make_unique<Library>(cfg_, clock_, options);
        changer_ = std::make_unique<fixtures::Initiator>(lib_->changer(), clock_);
        changer_->clear_power_on_attention();
        for (const char* d : {"drive0", "drive1"}) {
            hosts_.push_back(std::make_unique<fixtures::Initiator>(*lib_->find(d), clock_));
            hosts_.back()->clear_power_on_attention();
        }
    }

    uint16_t slot(uint32_t n) const { return libtest::slot(cfg_, n); }
    uint16_t drive(uint32_t i) const { return libtest::drive(cfg_, i); }
    uint16_t ie(uint32_t i) const { return libtest::ie(cfg_, i); }
    fixtures::Initiator& host(int drive) { return *hosts_.at(static_cast<size_t>(drive)); }
    TapeDrive& tape(int drive) { return static_cast<TapeDrive&>(host(drive).lu().device()); }

    std::optional<scsi::Sense> move(uint16_t from, uint16_t to) {
        libtest::Outcome o;
        lib_->start_move(library::MoveRequest{.source = from, .destination = to}, o.callback());
        for (int i = 0; i < 100 && o.calls == 0; ++i) clock_.advance(100ms);
        EXPECT_EQ(o.calls, 1);
        return o.sense;
    }
    // Loads the cartridge in slot `n` into drive `d`; the host takes the 28/00.
    void load(uint32_t n, int d) {
        ASSERT_FALSE(move(slot(n), drive(static_cast<uint32_t>(d))));
        for (int i = 0; i < 100 && tape(d).state() != DriveMechanism::State::Loaded; ++i) clock_.advance(100ms);
        ASSERT_EQ(tape(d).state(), DriveMechanism::State::Loaded);
        ASSERT_TRUE(IsCheck(host(d).send(fixtures::test_unit_ready()), sense(0x6, 0x28, 0x00)));
        ASSERT_TRUE(IsGood(host(d).send(fixtures::test_unit_ready())));
    }
    fixtures::Response write(int d, const Bytes& data) {
        return host(d).send(ssctest::write6(uint32_t(data.size())), 0, data);
    }
    fixtures::Response read(int d, uint32_t length) { return host(d).send(ssctest::read6(length), length); }

    // The unit attentions queued for a host, in order, as "28/00" strings (TEST UNIT READY until GOOD
    // or another kind of answer).
    std::vector<std::string> attentions(fixtures::Initiator& h) {
        std::vector<std::string> out;
        for (int i = 0; i < 20; ++i) {
            const auto r = h.send(fixtures::test_unit_ready());
            if (r.status != scsi::Status::CheckCondition) break;
            const auto v = fixtures::decode_sense(r.sense);
            if (!v || v->key != 0x6) break;
            out.push_back(fmt::format("{:02X}/{:02X}", v->asc, v->ascq));
        }
        return out;
    }

    std::filesystem::path store_dir() { return lib_->cartridge_store().directory(); }
    std::string barcode_at(uint16_t address) {
        const smc::Element* e = lib_->inventory().at(address);
        return e && e->cartridge ? lib_->inventory().cartridge(*e->cartridge).barcode : std::string();
    }

    config::LibraryConfig cfg_ = lifecycle_config();
    VirtualClock clock_;
    std::unique_ptr<Library> lib_;
    std::unique_ptr<fixtures::Initiator> changer_;
    std::vector<std::unique_ptr<fixtures::Initiator>> hosts_;
};

Library::NewCartridge options(std::optional<config::MediaType> type = {}, std::optional<int> generation = {},
                              std::optional<uint64_t> capacity = {}, bool write_protected = false) {
    return Library::NewCartridge{
        .type = type, .generation = generation, .capacity = capacity, .write_protected = write_protected};
}

// ---- create ------------------------------------------------------------------------------------

TEST_F(Lifecycle, CreateIntoSlotIeAndStoreOnly) {
    ASSERT_EQ(lib_->create_cartridge("B00001L8", {Kind::Slot, 9}, options({}, {}, 1u << 20)), std::nullopt);
    EXPECT_EQ(barcode_at(slot(9)), "B00001L8");
    EXPECT_FALSE(lib_->inventory().at(slot(9))->source.has_value());
    EXPECT_FALSE(lib_->inventory().at(slot(9))->impexp);
    const auto& c = lib_->inventory().cartridge(*lib_->inventory().at(slot(9))->cartridge);
    EXPECT_EQ(c.type, config::MediaType::Data);
    EXPECT_EQ(c.generation, 8);
    // In the store at once, with its capacity.
    {
        auto opened = lib_->cartridge_store().open_cartridge("B00001L8", storage::OpenOptions{.create = false});
        ASSERT_TRUE(opened.ok());
        EXPECT_EQ((*opened)->layout().capacity, 1u << 20);
    }
    EXPECT_EQ(attentions(*changer_), std::vector<std::string>{"28/00"});

    ASSERT_EQ(lib_->create_cartridge("W00001LY", {Kind::ImportExport, 1}, options()), std::nullopt);
    EXPECT_EQ(barcode_at(ie(1)), "W00001LY");
    EXPECT_TRUE(lib_->inventory().at(ie(1))->impexp);
    EXPECT_EQ(lib_->inventory().cartridge(*lib_->inventory().at(ie(1))->cartridge).type, config::MediaType::Worm);
    EXPECT_EQ(lib_->inventory().cartridge(*lib_->inventory().at(ie(1))->cartridge).generation, 8);
    EXPECT_EQ(attentions(*changer_), std::vector<std::string>{"28/01"});

    ASSERT_EQ(lib_->create_cartridge("S00001", {Kind::Shelf, 0}, options(config::MediaType::Worm, 7)), std::nullopt);
    EXPECT_FALSE(lib_->inventory().find("S00001"));
    EXPECT_TRUE(lib_->cartridge_store().exists("S00001"));
    EXPECT_EQ(attentions(*changer_), std::vector<std::string>{});
}

TEST_F(Lifecycle, CreatedWriteProtectedCartridgeRefusesWrites) {
    ASSERT_EQ(lib_->create_cartridge("P00001L8", {Kind::Slot, 10}, options({}, {}, kCapacity, true)), std::nullopt);
    load(10, 0);
    EXPECT_TRUE(IsCheck(write(0, ssctest::pattern(512, 1)), sense(0x7, 0x27, 0x00)));
    // A configured cartridge without the switch still writes.
    load(1, 1);
    EXPECT_TRUE(IsGood(write(1, ssctest::pattern(512, 1))));
}

TEST_F(Lifecycle, CreateRefusals) {
    auto create = [&](const std::string& b, Library::Placement p, Library::NewCartridge o = {}) {
        return lib_->create_cartridge(b, p, o).value_or("(created)");
    };
    EXPECT_EQ(create("a00001l8", {Kind::Slot, 9}),
              fmt::format("invalid barcode \"a00001l8\": {}", *config::barcode_error("a00001l8")));
    EXPECT_EQ(create("A00001L8", {Kind::Slot, 9}), "barcode A00001L8 is already in the library (element 0x1000)");
    EXPECT_EQ(create("B00001L8", {Kind::Slot, 9}, options(config::MediaType::Worm)),
              "type worm conflicts with barcode B00001L8, whose suffix means LTO-8 data");
    EXPECT_EQ(create("B00001", {Kind::Slot, 9}, options({}, 4)),
              "generation 4 is not an LTO generation the library knows (5..9)");
    EXPECT_EQ(create("B00001L8", {Kind::Slot, 9}, options({}, 7)),
              "generation 7 conflicts with barcode B00001L8, whose suffix means LTO-8 data");
    EXPECT_EQ(create("B00001L8", {Kind::Slot, 9}, options({}, {}, 4095)),
              "capacity 4095 bytes is outside 4096 bytes .. 1 PB");
    EXPECT_EQ(create("B00001L8", {Kind::Slot, 13}), "no storage slot 13 (the library has slots 1..12)");
    EXPECT_EQ(create("B00001L8", {Kind::Slot, 0}), "no storage slot 0 (the library has slots 1..12)");
    EXPECT_EQ(create("B00001L8", {Kind::Slot, 2}), "storage slot 2 is not empty: it holds A00002L8");
    EXPECT_EQ(create("B00001L8", {Kind::ImportExport, 2}), "no import/export slot 2 (the library has 2)");
    ASSERT_EQ(lib_->create_cartridge("B00002L8", {Kind::ImportExport, 0}, {}), std::nullopt);
    EXPECT_EQ(create("B00001L8", {Kind::ImportExport, 0}), "import/export slot 0 is not empty");
    // A cartridge taken out of the library keeps its files: it goes back in through the I/E station.
    ASSERT_EQ(lib_->create_cartridge("B00003L8", {Kind::Shelf, 0}, {}), std::nullopt);
    EXPECT_EQ(create("B00003L8", {Kind::Slot, 9}),
              "the cartridge store already holds B00003L8 (a cartridge outside the library); insert it at the "
              "import/export station, or delete it first");
    // A host's PREVENT MEDIUM REMOVAL locks the I/E station.
    (void)attentions(*changer_);
    ASSERT_TRUE(IsGood(changer_->send({0x1E, 0, 0, 0, 1, 0})));
    EXPECT_EQ(create("B00001L8", {Kind::ImportExport, 1}),
              "the import/export station is locked: a host holds PREVENT MEDIUM REMOVAL on the changer");
    ASSERT_TRUE(IsGood(changer_->send({0x1E, 0, 0, 0, 0, 0})));
    // A storage slot only while the robot is idle.
    cfg_.timings.pick = 10s;
    start();
    libtest::Outcome o;
    lib_->start_move(library::MoveRequest{.source = slot(1), .destination = slot(11)}, o.callback());
    EXPECT_EQ(create("B00004L8", {Kind::Slot, 9}),
              "the robot is busy (1 operation in flight); a cartridge goes into a storage slot only while it is idle");
    clock_.advance(30s);
    EXPECT_EQ(o.calls, 1);
    EXPECT_EQ(lib_->create_cartridge("B00004L8", {Kind::Slot, 9}, {}), std::nullopt);
    EXPECT_FALSE(lib_->cartridge_store().exists("B00001L8"));  // refused creations left nothing
}

// ---- delete -----------------------------------------------------------------------------------

TEST_F(Lifecycle, DeleteFromSlotIeAndStore) {
    load(1, 0);  // creates A00001L8's files
    ASSERT_FALSE(move(drive(0), slot(1)));
    ASSERT_TRUE(std::filesystem::exists(store_dir() / "A00001L8"));
    (void)attentions(*changer_);
    ASSERT_EQ(lib_->delete_cartridge("A00001L8"), std::nullopt);
    EXPECT_FALSE(lib_->inventory().find("A00001L8"));
    EXPECT_FALSE(lib_->inventory().at(slot(1))->full());
    EXPECT_FALSE(std::filesystem::exists(store_dir() / "A00001L8"));
    EXPECT_EQ(attentions(*changer_), std::vector<std::string>{"28/00"});

    ASSERT_EQ(lib_->create_cartridge("B00001L8", {Kind::ImportExport, 0}, {}), std::nullopt);
    (void)attentions(*changer_);
    ASSERT_EQ(lib_->delete_cartridge("B00001L8"), std::nullopt);
    EXPECT_FALSE(lib_->inventory().at(ie(0))->full());
    EXPECT_EQ(attentions(*changer_), std::vector<std::string>{"28/01"});

    ASSERT_EQ(lib_->create_cartridge("S00001L8", {Kind::Shelf, 0}, {}), std::nullopt);
    ASSERT_EQ(lib_->delete_cartridge("S00001L8"), std::nullopt);
    EXPECT_FALSE(lib_->cartridge_store().exists("S00001L8"));
    // A configured cartridge never loaded has no files: deleting it only takes it out.
    ASSERT_EQ(lib_->delete_cartridge("A00002L8"), std::nullopt);
    EXPECT_FALSE(lib_->inventory().at(slot(2))->full());
}

TEST_F(Lifecycle, DeleteRefusals) {
    EXPECT_EQ(lib_->delete_cartridge("A0001.L8"),
              fmt::format("invalid barcode \"A0001.L8\": {}", *config::barcode_error("A0001.L8")));
    EXPECT_EQ(lib_->delete_cartridge("Z99999L8"), "no cartridge Z99999L8 in library lc0 or its cartridge store");
    load(1, 0);
    EXPECT_EQ(lib_->delete_cartridge("A00001L8"), "A00001L8 is in drive0 (0x0100); unload it first");
    cfg_.timings.pick = 10s;
    cfg_.timings.place = 10s;
    start();
    libtest::Outcome o;
    lib_->start_move(library::MoveRequest{.source = slot(2), .destination = slot(11)}, o.callback());
    EXPECT_EQ(lib_->delete_cartridge("A00002L8"),
              "A00002L8 is being moved (a move from 0x1001 is queued or in motion); wait for it to finish");
    clock_.advance(11s);  // picked: in the gripper
    EXPECT_EQ(lib_->delete_cartridge("A00002L8"),
              "A00002L8 is in the robot's gripper (0x0000); wait for the move to finish");
    clock_.advance(30s);
    EXPECT_EQ(o.calls, 1);
    EXPECT_EQ(lib_->delete_cartridge("A00002L8"), std::nullopt);
}

// ---- images -----------------------------------------------------------------------------------

TEST_F(Lifecycle, ExportThenImportRoundTrip) {
    TempDir dir;
    load(1, 0);
    const Bytes r1 = ssctest::pattern(1000, 1), r2 = ssctest::pattern(4097, 2);
    ASSERT_TRUE(IsGood(write(0, r1)));
    ASSERT_TRUE(IsGood(write(0, r2)));
    ASSERT_TRUE(IsGood(host(0).send(ssctest::write_filemarks(1))));
    EXPECT_EQ(lib_->export_image("A00001L8", dir.path() / "a.tap", storage::ImageFormat::Simh),
              "A00001L8 is in drive0 (0x0100); unload it first");
    ASSERT_FALSE(move(drive(0), slot(1)));
    for (auto format : {storage::ImageFormat::Simh, storage::ImageFormat::Aws}) {
        const auto image = dir.path() / (format == storage::ImageFormat::Simh ? "a.tap" : "a.aws");
        ASSERT_EQ(lib_->export_image("A00001L8", image, format), std::nullopt);
        // SIMH: 4+1000+4, 4+4097+1 pad+4, 4 (tape mark); AWS: 6+1000, 6+4097, 6.
        EXPECT_EQ(std::filesystem::file_size(image),
                  format == storage::ImageFormat::Simh ? 1008u + 4106u + 4u : 1006u + 4103u + 6u);
    }
    // Into a new, empty cartridge of the library; then read back through a drive.
    ASSERT_EQ(lib_->create_cartridge("B00001L8", {Kind::Slot, 9}, options({}, {}, kCapacity)), std::nullopt);
    ASSERT_EQ(lib_->import_image(dir.path() / "a.aws", storage::ImageFormat::Aws, "B00001L8"), std::nullopt);
    // A configured cartridge never loaded is empty too.
    ASSERT_EQ(lib_->import_image(dir.path() / "a.tap", storage::ImageFormat::Simh, "A00003L8"), std::nullopt);
    for (uint32_t n : {9u, 3u}) {
        load(n, 1);
        EXPECT_EQ(read(1, 1000).data, r1);
        EXPECT_EQ(read(1, 4097).data, r2);
        EXPECT_EQ(fixtures::decode_sense(read(1, 100).sense)->ascq, 0x01);  // the filemark
        ASSERT_FALSE(move(drive(1), slot(n)));
    }
    // Into a barcode the library does not know: the store only.
    ASSERT_EQ(lib_->import_image(dir.path() / "a.tap", storage::ImageFormat::Simh, "C00001L8"), std::nullopt);
    EXPECT_TRUE(lib_->cartridge_store().exists("C00001L8"));
    EXPECT_FALSE(lib_->inventory().find("C00001L8"));
}

TEST_F(Lifecycle, ImportRefusals) {
    TempDir dir;
    const auto image = dir.path() / "x.tap";
    std::ofstream(image, std::ios::binary)
        .write(
            "\x04\x00\x00\x00"
            "abcd"
            "\x04\x00\x00\x00",
            12);
    load(1, 0);
    EXPECT_EQ(lib_->import_image(image, storage::ImageFormat::Simh, "A00001L8"),
              "A00001L8 is in drive0 (0x0100); unload it first");
    ASSERT_TRUE(IsGood(write(0, ssctest::pattern(100, 1))));
    ASSERT_FALSE(move(drive(0), slot(1)));
    EXPECT_EQ(lib_->import_image(image, storage::ImageFormat::Simh, "A00001L8"),
              "A00001L8 already holds data (1 object in partition 0); images go only into empty cartridges (delete "
              "it and create it again)");
    // A malformed image leaves the empty cartridge as it was.
    const auto bad = dir.path() / "bad.tap";
    std::ofstream(bad, std::ios::binary)
        .write(
            "\x04\x00\x00\x00"
            "ab",
            6);
    ASSERT_EQ(lib_->create_cartridge("B00001L8", {Kind::Slot, 9}, options({}, {}, 1u << 20)), std::nullopt);
    const auto refused = lib_->import_image(bad, storage::ImageFormat::Simh, "B00001L8");
    ASSERT_TRUE(refused.has_value());
    EXPECT_TRUE(refused->starts_with("import " + bad.string() + " into B00001L8: ")) << *refused;
    auto opened = lib_->cartridge_store().open_cartridge("B00001L8", storage::OpenOptions{.create = false});
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ((*opened)->layout().capacity, 1u << 20);
    EXPECT_EQ((*opened)->eod(0), 0u);
    opened->reset();
    EXPECT_EQ(lib_->export_image("Z00001L8", dir.path() / "z.tap", storage::ImageFormat::Simh),
              "no cartridge Z00001L8 in library lc0 or its cartridge store");
}

// ---- reset ------------------------------------------------------------------------------------

TEST_F(Lifecycle, ResetRestoresTheConfiguredInventory) {
    const nlohmann::json configured = smc::Inventory(cfg_).to_json();
    load(1, 0);
    ASSERT_TRUE(IsGood(write(0, ssctest::pattern(100, 1))));
    load(2, 1);
    ASSERT_FALSE(move(slot(3), slot(12)));
    ASSERT_EQ(lib_->create_cartridge("B00001L8", {Kind::Slot, 9}, options({}, {}, {}, true)), std::nullopt);
    ASSERT_EQ(lib_->create_cartridge("B00002L8", {Kind::ImportExport, 0}, {}), std::nullopt);
    lib_->set_exception(slot(4), scsi::Asc{0x83, 0x00});
    ASSERT_EQ(lib_->open_ie_door(), std::nullopt);
    (void)attentions(*changer_);

    ASSERT_EQ(lib_->reset(), std::nullopt);
    EXPECT_EQ(lib_->inventory().to_json(), configured);
    EXPECT_EQ(tape(0).state(), DriveMechanism::State::Empty);
    EXPECT_EQ(tape(1).state(), DriveMechanism::State::Empty);
    EXPECT_FALSE(lib_->ie_door_open());
    EXPECT_EQ(lib_->cartridge_store().list(), std::vector<std::string>{});
    EXPECT_EQ(attentions(*changer_), (std::vector<std::string>{"29/00", "28/00"}));
    EXPECT_EQ(attentions(host(0)), (std::vector<std::string>{"29/00"}));
    EXPECT_EQ(attentions(host(1)), (std::vector<std::string>{"29/00"}));
    // The written cartridge is blank again, and a created one's settings are gone.
    load(1, 0);
    EXPECT_EQ(fixtures::decode_sense(read(0, 100).sense)->key, 0x8);  // BLANK CHECK
    CartridgeSettings none;
    EXPECT_FALSE(lib_->cartridge_settings_for("B00001L8", none).write_protected);
    EXPECT_EQ(lib_->create_cartridge("B00001L8", {Kind::Slot, 9}, {}), std::nullopt);
}

TEST_F(Lifecycle, ResetSnapshotAndRestoreRefuseWhileBusy) {
    cfg_.timings.pick = 10s;
    cfg_.timings.load = 10s;
    start();
    ASSERT_EQ(lib_->snapshot("s1"), std::nullopt);
    libtest::Outcome o;
    lib_->start_move(library::MoveRequest{.source = slot(1), .destination = drive(0)}, o.callback());
    const std::string moving = "library lc0 is busy: 1 robot operation is in flight; try again when it has finished";
    EXPECT_EQ(lib_->reset(), moving);
    EXPECT_EQ(lib_->snapshot("s2"), moving);
    EXPECT_EQ(lib_->restore("s1"), moving);
    clock_.advance(15s);  // placed: the drive is threading it
    ASSERT_EQ(o.calls, 1);
    ASSERT_EQ(tape(0).state(), DriveMechanism::State::Loading);
    const std::string loading = "library lc0 is busy: drive0 is loading A00001L8; try again when it is ready";
    EXPECT_EQ(lib_->reset(), loading);
    EXPECT_EQ(lib_->snapshot("s2"), loading);
    clock_.advance(15s);
    EXPECT_EQ(lib_->reset(), std::nullopt);
}

TEST_F(Lifecycle, ResetForgetsAsyncMoveResultsAndSnapshotsKeepThem) {
    using State = library::AsyncMoves::State;
    const uint32_t token = lib_->async_moves().start(library::MoveRequest{.source = slot(1), .destination = slot(9)});
    clock_.advance(1s);
    ASSERT_NE(lib_->async_moves().find(token), nullptr);
    EXPECT_EQ(lib_->async_moves().find(token)->state, State::Done);
    ASSERT_EQ(lib_->snapshot("with"), std::nullopt);
    ASSERT_EQ(lib_->reset(), std::nullopt);
    EXPECT_EQ(lib_->async_moves().find(token), nullptr);
    EXPECT_GT(lib_->async_moves().next_token(), token);  // never handed out again
    ASSERT_EQ(lib_->restore("with"), std::nullopt);
    ASSERT_NE(lib_->async_moves().find(token), nullptr);
    EXPECT_EQ(lib_->async_moves().find(token)->state, State::Done);
    EXPECT_EQ(barcode_at(slot(9)), "A00001L8");
}

// ---- snapshots --------------------------------------------------------------------------------

TEST_F(Lifecycle, SnapshotIsUnchangedByLaterWrites) {
    load(1, 0);
    const Bytes r1 = ssctest::pattern(3000, 1), r2 = ssctest::pattern(5000, 2);
    ASSERT_TRUE(IsGood(write(0, r1)));
    ASSERT_TRUE(IsGood(write(0, r2)));
    ASSERT_TRUE(IsGood(host(0).send(ssctest::write_filemarks(1))));
    ASSERT_EQ(lib_->snapshot("before"), std::nullopt);
    // Appending, then overwriting from the beginning (the store cuts and rewrites its files in place).
    ASSERT_TRUE(IsGood(write(0, ssctest::pattern(7000, 3))));
    ASSERT_TRUE(IsGood(host(0).send(ssctest::rewind())));
    ASSERT_TRUE(IsGood(write(0, ssctest::pattern(100, 4))));
    ASSERT_TRUE(IsGood(host(0).send(ssctest::write_filemarks(1))));
    // And elsewhere: a cartridge moved, one created.
    ASSERT_FALSE(move(slot(2), slot(10)));
    ASSERT_EQ(lib_->create_cartridge("B00001L8", {Kind::Slot, 11}, {}), std::nullopt);
    (void)attentions(*changer_);

    ASSERT_EQ(lib_->restore("before"), std::nullopt);
    EXPECT_EQ(barcode_at(slot(2)), "A00002L8");
    EXPECT_EQ(barcode_at(slot(10)), "");
    EXPECT_FALSE(lib_->inventory().find("B00001L8"));
    EXPECT_FALSE(lib_->cartridge_store().exists("B00001L8"));
    EXPECT_EQ(attentions(*changer_), std::vector<std::string>{"28/00"});
    // The drive holds the cartridge again, loaded, at its beginning.
    EXPECT_EQ(tape(0).state(), DriveMechanism::State::Loaded);
    EXPECT_EQ(attentions(host(0)), std::vector<std::string>{"28/00"});
    EXPECT_EQ(attentions(host(1)), std::vector<std::string>{"28/00"});
    EXPECT_EQ(read(0, 3000).data, r1);
    EXPECT_EQ(read(0, 5000).data, r2);
    EXPECT_EQ(fixtures::decode_sense(read(0, 100).sense)->ascq, 0x01);  // filemark
    EXPECT_EQ(fixtures::decode_sense(read(0, 100).sense)->key, 0x8);    // then blank: nothing after
    // Restoring twice gives the same again: restore never consumes the snapshot.
    ASSERT_TRUE(IsGood(host(0).send(ssctest::rewind())));
    ASSERT_TRUE(IsGood(write(0, ssctest::pattern(10, 9))));
    ASSERT_EQ(lib_->restore("before"), std::nullopt);
    (void)attentions(host(0));
    EXPECT_EQ(read(0, 3000).data, r1);
}

TEST_F(Lifecycle, SnapshotNamesListAndRefusals) {
    EXPECT_EQ(lib_->snapshot(""), "invalid snapshot name \"\": a snapshot name must not be empty");
    EXPECT_EQ(lib_->snapshot(".x"), "invalid snapshot name \".x\": a snapshot name starts with a letter or digit");
    EXPECT_EQ(
        lib_->snapshot("a/b"),
        "invalid snapshot name \"a/b\": character 2 \"/\" of a snapshot name is not A-Z, a-z, 0-9, '.', '_' or '-'");
    ASSERT_EQ(lib_->snapshot("ci-job_1.a"), std::nullopt);
    EXPECT_EQ(lib_->snapshot("ci-job_1.a"), "snapshot ci-job_1.a of library lc0 already exists; delete it first");
    ASSERT_EQ(lib_->delete_cartridge("A00004L8"), std::nullopt);
    ASSERT_EQ(lib_->snapshot("b"), std::nullopt);
    const auto list = lib_->list_snapshots();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].name, "b");
    EXPECT_EQ(list[0].cartridges, 3u);
    EXPECT_EQ(list[1].name, "ci-job_1.a");
    EXPECT_EQ(list[1].cartridges, 4u);
    EXPECT_EQ(lib_->restore("nope"), "library lc0 has no snapshot nope");
    EXPECT_EQ(lib_->delete_snapshot("nope"), "library lc0 has no snapshot nope");
    ASSERT_EQ(lib_->delete_snapshot("b"), std::nullopt);
    ASSERT_EQ(lib_->list_snapshots().size(), 1u);
    ASSERT_EQ(lib_->restore("ci-job_1.a"), std::nullopt);
    EXPECT_EQ(barcode_at(slot(4)), "A00004L8");
}

TEST_F(Lifecycle, SnapshotNameTooLong) {
    EXPECT_EQ(lib_->snapshot(std::string(65, 'a')),
              "invalid snapshot name \"" + std::string(40, 'a') + "...\": a snapshot name has at most 64 characters");
    EXPECT_EQ(lib_->snapshot(std::string(64, 'a')), std::nullopt);
}

// ---- persistence ------------------------------------------------------------------------------

TEST_F(Lifecycle, PersistentLibraryComesBackAsLeft) {
    TempDir dir;
    cfg_ = lifecycle_config(dir.path() / "lc0");
    start(Library::Options{.persist = true});
    load(1, 0);
    const Bytes r1 = ssctest::pattern(2000, 5);
    ASSERT_TRUE(IsGood(write(0, r1)));
    ASSERT_EQ(lib_->create_cartridge("P00001L8", {Kind::Slot, 9}, options({}, {}, kCapacity, true)), std::nullopt);
    ASSERT_EQ(lib_->snapshot("keep"), std::nullopt);
    ASSERT_EQ(lib_->reset(), std::nullopt);
    start(Library::Options{.persist = true});  // restart after the reset
    EXPECT_EQ(lib_->inventory().to_json(), smc::Inventory(cfg_).to_json());
    EXPECT_FALSE(lib_->cartridge_settings_for("P00001L8", CartridgeSettings{}).write_protected);

    ASSERT_EQ(lib_->restore("keep"), std::nullopt);
    start(Library::Options{.persist = true});  // restart after the restore
    EXPECT_EQ(barcode_at(slot(9)), "P00001L8");
    EXPECT_EQ(barcode_at(drive(0)), "A00001L8");
    EXPECT_TRUE(lib_->cartridge_settings_for("P00001L8", CartridgeSettings{}).write_protected);
    ASSERT_EQ(tape(0).state(), DriveMechanism::State::Loaded);
    EXPECT_EQ(read(0, 2000).data, r1);
    ASSERT_EQ(lib_->list_snapshots().size(), 1u);
    ASSERT_FALSE(move(drive(0), slot(1)));
    load(9, 1);
    EXPECT_TRUE(IsCheck(write(1, ssctest::pattern(10, 1)), sense(0x7, 0x27, 0x00)));
    hosts_.clear();
    changer_.reset();
    lib_.reset();  // before its state directory goes
}

// ---- views ------------------------------------------------------------------------------------

TEST_F(Lifecycle, InventoryJsonAndPicture) {
    load(1, 0);
    ASSERT_EQ(lib_->create_cartridge("B00001L8", {Kind::ImportExport, 1}, {}), std::nullopt);
    ASSERT_EQ(lib_->create_cartridge("S00001L8", {Kind::Shelf, 0}, {}), std::nullopt);
    lib_->set_exception(slot(3), scsi::Asc{0x83, 0x00});
    const nlohmann::json j = lib_->inventory_json();
    EXPECT_EQ(j["library"], "lc0");
    EXPECT_EQ(j["store_only"], nlohmann::json::array({"S00001L8"}));
    EXPECT_EQ(j["elements"].size(), 1u + 2u + 2u + 12u);
    auto element = [&](uint16_t address) {
        for (const auto& e : j["elements"]) {
            if (e["address"] == address) return e;
        }
        return nlohmann::json();
    };
    EXPECT_EQ(element(drive(0)), nlohmann::json::parse(R"({"address":256,"type":"drive","index":0,"full":true,
        "barcode":"A00001L8","media":{"type":"data","generation":8,"type_m":false},"source":4096,"invert":false,
        "exception":null,"name":"drive0","drive":{"state":"loaded"}})"));
    EXPECT_EQ(element(ie(1))["impexp"], true);
    EXPECT_EQ(element(ie(1))["barcode"], "B00001L8");
    EXPECT_EQ(element(slot(3))["exception"], nlohmann::json::parse(R"({"asc":131,"ascq":0})"));
    EXPECT_EQ(element(slot(12)), nlohmann::json::parse(R"({"address":4107,"type":"slot","index":12,"full":false,
        "source":null,"invert":false,"exception":null})"));

    const std::string picture = lib_->inventory_picture();
    EXPECT_EQ(picture,
              "library lc0 (generic): 1 robot, 2 drives, 12 slots, 2 I/E slots (door closed)\n"
              "robots\n"
              "  robot0    0x0000 [........] \n"
              "drives\n"
              "  drive0    0x0100 [A00001L8]  loaded\n"
              "  drive1    0x0101 [........]  empty\n"
              "import/export\n"
              "     0 0x0010 [........] [B00001L8]<\n"
              "slots\n"
              "     1 0x1000 [........] [A00002L8] [A00003L8]![A00004L8] [........] [........] [........] [........] "
              "[........] [........] \n"
              "    11 0x100A [........] [........] \n");
}

// ---- several libraries in one emulator ---------------------------------------------------------

TEST(LifecycleIdentities, LibrariesInOneEmulatorNeverShareSerialsOrNaa) {
    // Names only: every serial comes from the config's derivation.
    std::string toml;
    for (int i = 0; i < 8; ++i) {
        toml += fmt::format("[[library]]\nname = \"ci{}\"\nstate_dir = \"/nonexistent/ci{}\"\n", i, i);
        for (int d = 0; d < 4; ++d) toml += fmt::format("[[library.drives]]\nname = \"drive{}\"\n", d);
    }
    const config::Config cfg = config::parse_config(toml, "test.toml");
    VirtualClock clock;
    library::Emulator emulator(cfg, clock);
    ASSERT_EQ(emulator.libraries().size(), 8u);
    std::set<std::string> serials;
    std::set<uint64_t> naas;
    size_t devices = 0;
    for (const auto& lib : emulator.libraries()) {
        for (const auto& dev : lib->devices()) {
            const DeviceIdentity& id = dev.lu.device().identity();
            ++devices;
            EXPECT_TRUE(serials.insert(id.serial).second) << dev.lu.name() << " repeats serial " << id.serial;
            EXPECT_TRUE(naas.insert(id.naa).second) << dev.lu.name() << fmt::format(" repeats NAA {:016X}", id.naa);
            EXPECT_EQ(id.naa >> 60, 5u);  // NAA IEEE Registered
        }
    }
    EXPECT_EQ(devices, 8u * 5u);
    // The same names give the same identities after a restart (a second emulator).
    library::Emulator again(cfg, clock);
    EXPECT_EQ(again.find("ci3/drive2")->device().identity().naa, emulator.find("ci3/drive2")->device().identity().naa);
    EXPECT_EQ(again.find("ci3/changer")->device().identity().serial,
              emulator.find("ci3/changer")->device().identity().serial);
}

}  // namespace
}  // namespace vtl
