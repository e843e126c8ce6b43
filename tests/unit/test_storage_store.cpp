// The store: barcodes that could name a path are refused with barcode_error's reason, cartridge
// directories must resolve inside the store, a cartridge opens in one place at a time, fences
// persist until cleared, and interrupted creations leave nothing behind.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "config/barcode.h"
#include "storage/byte_order.h"
#include "storage/cartridge_header.h"
#include "storage/crc32c.h"
#include "storage/store.h"
#include "storage_test_util.h"

using namespace vtl::storage;
using vtl::storage::testing::record_data;
using vtl::storage::testing::TempDir;

namespace {

std::vector<std::string> entries(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST(StorageStore, HostileBarcodesAreRefusedWithTheBarcodeReason) {
    TempDir dir;
    auto store = Store::open(dir.path());
    ASSERT_TRUE(store.ok());
    const std::string hostile[] = {"../x", "A/B", "", "ABCDEFGHIJKLMNOPQ", "vtl001l8", std::string("VTL\0" "01", 6),
                                   "..", ".", "/etc", "A B", "VTL001L8/../../x"};
    for (const auto& barcode : hostile) {
        SCOPED_TRACE(vtl::config::quote(barcode));
        const auto why = vtl::config::barcode_error(barcode);
        ASSERT_TRUE(why.has_value());
        auto opened = (*store)->open_cartridge(barcode);
        ASSERT_FALSE(opened.ok());
        EXPECT_EQ(opened.error().code, Errc::InvalidArgument);
        EXPECT_NE(opened.error().message.find(*why), std::string::npos) << opened.error().message;
        EXPECT_EQ((*store)->create(barcode, Layout{1 << 20, {}}).error().code, Errc::InvalidArgument);
        EXPECT_EQ((*store)->import_image(barcode, "/dev/null", ImageFormat::Simh).error().code, Errc::InvalidArgument);
        EXPECT_EQ((*store)->clear_fence(barcode).error().code, Errc::InvalidArgument);
        EXPECT_FALSE((*store)->exists(barcode));
    }
    EXPECT_TRUE(entries(dir.path() / "cartridges").empty());
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"cartridges"});
}

TEST(StorageStore, ACartridgeDirectoryMustNotLeadOutside) {
    TempDir dir, outside;
    auto store = Store::open(dir.path());
    ASSERT_TRUE(store.ok());
    std::filesystem::create_directory_symlink(outside.path(), dir.path() / "cartridges" / "EVIL01L8");
    auto opened = (*store)->open_cartridge("EVIL01L8");
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, Errc::InvalidArgument) << opened.error().message;
    EXPECT_TRUE(entries(outside.path()).empty());
    EXPECT_FALSE((*store)->exists("EVIL01L8"));
}

TEST(StorageStore, CreatesListsAndLocksCartridges) {
    TempDir dir;
    auto store = Store::open(dir.path());
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->default_layout("VTL001L8").capacity, 12'000'000'000'000u);
    EXPECT_EQ((*store)->default_layout("VTL001L5").capacity, 1'500'000'000'000u);
    EXPECT_EQ((*store)->default_layout("VTL001M8").capacity, 9'000'000'000'000u);
    OpenOptions no_create;
    no_create.create = false;
    EXPECT_EQ((*store)->open_cartridge("VTL001L8", no_create).error().code, Errc::NotFound);
    {
        auto a = (*store)->open_cartridge("VTL001L8");
        ASSERT_TRUE(a.ok()) << a.error().message;
        EXPECT_EQ((*a)->layout().capacity, 12'000'000'000'000u);
        auto b = (*store)->open_cartridge("VTL001L8");  // a second drive, or a second process
        ASSERT_FALSE(b.ok());
        EXPECT_EQ(b.error().code, Errc::InUse);
        EXPECT_EQ((*store)->export_image("VTL001L8", dir.path() / "x.tap", ImageFormat::Simh).error().code, Errc::InUse);
    }
    auto again = (*store)->open_cartridge("VTL001L8");
    EXPECT_TRUE(again.ok());
    ASSERT_TRUE((*store)->create("VTL002L8", Layout{1 << 20, {}}).ok());
    EXPECT_EQ((*store)->create("VTL002L8", Layout{1 << 20, {}}).error().code, Errc::AlreadyExists);
    EXPECT_EQ((*store)->list(), (std::vector<std::string>{"VTL001L8", "VTL002L8"}));
    // The other process holding a cartridge: flock is per open file description, so a child
    // that inherited nothing but opens the store itself sees it locked.
    const pid_t child = fork();
    if (child == 0) {
        auto s = Store::open(dir.path());
        _exit(s.ok() && !(*s)->open_cartridge("VTL001L8").ok() ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(StorageStore, InterruptedCreationsAreCleanedUp) {
    TempDir dir;
    std::filesystem::create_directories(dir.path() / "cartridges" / ".tmp-VTL009L8-999999999-0");
    std::filesystem::create_directories(dir.path() / "cartridges" / ".tmp-VTL010L8-junk");
    auto store = Store::open(dir.path());
    ASSERT_TRUE(store.ok());
    EXPECT_TRUE(entries(dir.path() / "cartridges").empty());
}

TEST(StorageStore, AFenceFoundOnReadPersistsUntilCleared) {
    TempDir dir;
    auto store = Store::open(dir.path());
    ASSERT_TRUE(store.ok());
    {
        auto c = (*store)->open_cartridge("BAD001L8");
        ASSERT_TRUE(c.ok());
        for (int i = 0; i < 3; ++i) ASSERT_TRUE((*c)->write_record(record_data(1, i, 1000)).ok());
        ASSERT_TRUE((*c)->write_filemarks(1).ok());
    }
    {  // One flipped byte in the second record's data.
        std::fstream f(dir.path() / "cartridges" / "BAD001L8" / "p0.records", std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(40 + 1000 + 40 + 500);
        f.put('\x55' ^ record_data(1, 1, 1000)[500]);
    }
    std::vector<uint8_t> buffer(1000);
    {
        auto c = (*store)->open_cartridge("BAD001L8");
        ASSERT_TRUE(c.ok());
        ASSERT_FALSE((*c)->fence());  // found only when read, like a real bad block
        ASSERT_TRUE((*c)->read_next(buffer).ok());
        auto r = (*c)->read_next(buffer);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, Errc::UnrecoveredRead);
        EXPECT_NE(r.error().message.find("BAD001L8"), std::string::npos);
        EXPECT_NE(r.error().message.find("p0.records offset 1080"), std::string::npos) << r.error().message;
        EXPECT_NE(r.error().message.find("data CRC mismatch"), std::string::npos);
        // Fenced: everything fails now, even what worked before.
        EXPECT_EQ((*c)->locate(0, 0).error().code, Errc::UnrecoveredRead);
        EXPECT_EQ((*c)->write_record(buffer).error().code, Errc::UnrecoveredRead);
        EXPECT_EQ((*c)->sync().error().code, Errc::UnrecoveredRead);
        EXPECT_EQ((*c)->mam().error().code, Errc::UnrecoveredRead);
    }
    {
        auto c = (*store)->open_cartridge("BAD001L8");
        ASSERT_TRUE(c.ok());
        ASSERT_TRUE((*c)->fence());
        EXPECT_EQ((*c)->fence()->code, Errc::UnrecoveredRead);
        EXPECT_NE((*c)->fence()->message.find("data CRC mismatch"), std::string::npos);
    }
    ASSERT_TRUE((*store)->clear_fence("BAD001L8").ok());
    auto c = (*store)->open_cartridge("BAD001L8");
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE((*c)->fence());
    EXPECT_TRUE((*c)->read_next(buffer).ok());
    EXPECT_FALSE((*c)->verify().ok());  // the damage is still there; the data is never deleted
    EXPECT_TRUE((*c)->fence());
}

TEST(StorageStore, ANewerFormatVersionIsRefusedNotGuessed) {
    TempDir dir;
    auto store = Store::open(dir.path());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->create("NEW001L8", Layout{1 << 20, {}}).ok());
    const auto header = dir.path() / "cartridges" / "NEW001L8" / "header";
    std::fstream f(header, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<uint8_t> slot(kHeaderSlotSize);
    f.seekg(kHeaderSlotSize);  // sequence 1 lives in slot 1
    f.read(reinterpret_cast<char*>(slot.data()), kHeaderSlotSize);
    put_le32(&slot[8], 2);  // version 2, with a valid CRC
    put_le32(&slot[kHeaderSlotSize - 4], crc32c(slot.data(), kHeaderSlotSize - 4));
    f.seekp(kHeaderSlotSize);
    f.write(reinterpret_cast<const char*>(slot.data()), kHeaderSlotSize);
    f.close();
    auto c = (*store)->open_cartridge("NEW001L8");
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->fence());
    EXPECT_EQ((*c)->fence()->code, Errc::UnsupportedFormat);
    EXPECT_NE((*c)->fence()->message.find("format version 2"), std::string::npos) << (*c)->fence()->message;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "cartridges" / "NEW001L8" / "FENCED"));  // not damage
}
