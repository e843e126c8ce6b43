// MappedReader: bytes and CRC through the mapping equal the file's, across window moves; a
// hole is not resident and written pages are; a file cut short under a prepared window gives
// FormatCorrupted for that read (the bus error is caught) and later reads still work; a bus
// error outside a guarded copy still ends the process as it would without the reader.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>
#include <vector>

#include "storage/crc32c.h"
#include "storage/file_io.h"
#include "storage/mapped_reader.h"
#include "storage_test_util.h"

using namespace vtl::storage;
using vtl::storage::testing::record_data;
using vtl::storage::testing::TempDir;

namespace {

constexpr uint64_t kMiB = 1u << 20;

// GCC says it one way, Clang the other.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

class MappedReaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto fd = open_at(AT_FDCWD, (dir_.path() / "p0.records").string(), O_RDWR | O_CREAT);
        ASSERT_TRUE(fd.ok()) << fd.error().message;
        fd_ = std::move(*fd);
    }
    void put(uint64_t offset, const std::vector<uint8_t>& bytes) {
        ASSERT_TRUE(write_all(fd_.get(), bytes.data(), bytes.size(), offset, "p0.records").ok());
    }
    // Reads `size` bytes plus a 40-byte tail at `offset` through `reader` and checks both.
    void expect_read(MappedReader& reader, uint64_t offset, const std::vector<uint8_t>& expected) {
        const size_t size = expected.size() - 40;
        ASSERT_TRUE(reader.prepare(offset, expected.size()));
        std::vector<uint8_t> data(size), tail(40);
        auto crc = reader.read(offset, data, tail, "p0.records");
        ASSERT_TRUE(crc.ok()) << crc.error().message;
        EXPECT_EQ(*crc, crc32c(expected.data(), size)) << "offset " << offset;
        EXPECT_TRUE(std::equal(data.begin(), data.end(), expected.begin())) << "offset " << offset;
        EXPECT_TRUE(std::equal(tail.begin(), tail.end(), expected.begin() + static_cast<long>(size)));
    }

    TempDir dir_;
    Fd fd_;
};

TEST_F(MappedReaderTest, ReadsWhatTheFileHoldsAcrossWindows) {
    // Places in a 200 MiB sparse file: the start, unaligned, across the first window's end, far on.
    const uint64_t offsets[] = {0, 40, MappedReader::kWindow - 1000, 150 * kMiB + 4056, 3 * kMiB + 7};
    std::vector<std::vector<uint8_t>> pieces;
    for (size_t i = 0; i < std::size(offsets); ++i) {
        pieces.push_back(record_data(11, i, 256 * 1024 + 40));
    }
    ASSERT_EQ(::ftruncate(fd_.get(), 200 * kMiB), 0);
    MappedReader reader(fd_.get());
    for (size_t i = 0; i < std::size(offsets); ++i) {
        if (i == 1) continue;  // overlaps piece 0; written and read on its own below
        put(offsets[i], pieces[i]);
    }
    for (size_t i = 0; i < std::size(offsets); ++i) {
        if (i != 1) expect_read(reader, offsets[i], pieces[i]);
    }
    put(offsets[1], pieces[1]);  // over piece 0, while the window maps it: the mapping sees it
    expect_read(reader, offsets[1], pieces[1]);
    // Sequential 1 MiB records past the release interval: still the right bytes.
    for (uint64_t i = 0; i < 6; ++i) {
        auto piece = record_data(12, i, kMiB + 40);
        put(160 * kMiB + i * kMiB, piece);
        expect_read(reader, 160 * kMiB + i * kMiB, piece);
    }
}

TEST_F(MappedReaderTest, HolesAreNotResidentWrittenPagesAre) {
    ASSERT_EQ(::ftruncate(fd_.get(), 8 * kMiB), 0);
    put(0, record_data(13, 0, 300000));
    MappedReader reader(fd_.get());
    ASSERT_TRUE(reader.prepare(0, 8 * kMiB));
    EXPECT_TRUE(reader.resident(0, 300000));
    EXPECT_TRUE(reader.resident(40, 200000));
    EXPECT_FALSE(reader.resident(4 * kMiB, 256 * 1024));  // never written or read
    EXPECT_FALSE(reader.resident(200000, 4 * kMiB));      // partly
}

TEST_F(MappedReaderTest, FileCutShortUnderTheWindowIsAnErrorNotACrash) {
    const auto bytes = record_data(14, 0, 2 * kMiB);
    put(0, bytes);
    MappedReader reader(fd_.get());
    ASSERT_TRUE(reader.prepare(kMiB, 512 * 1024 + 40));
    ASSERT_EQ(::ftruncate(fd_.get(), kMiB + 4096), 0);  // someone else cuts the file
    std::vector<uint8_t> data(512 * 1024), tail(40);
    auto read = reader.read(kMiB, data, tail, "p0.records");
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code, Errc::FormatCorrupted);
    EXPECT_EQ(read.error().message,
              "p0.records offset 1048576: file ends at 1052672, inside the 524328 bytes read there");
    // What is still in the file reads as before.
    std::vector<uint8_t> head(bytes.begin(), bytes.begin() + 4096);
    expect_read(reader, 0, head);
}

TEST(MappedReaderDeathTest, BusErrorsOutsideAReadStillEndTheProcess) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    TempDir dir;
    auto fd = open_at(AT_FDCWD, (dir.path() / "f").string(), O_RDWR | O_CREAT);
    ASSERT_TRUE(fd.ok());
    const auto fault_outside_a_read = [&] {
        MappedReader reader(fd->get());
        (void)reader.prepare(0, 4096);  // installs the handler
        auto* page = static_cast<volatile uint8_t*>(::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd->get(), 0));
        (void)page[0];  // the file is empty: SIGBUS, not ours to catch
    };
    if (kAddressSanitizer) {
        // ASan had SIGBUS before us: its handler gets the fault and reports it.
        EXPECT_DEATH(fault_outside_a_read(), "AddressSanitizer: BUS");
    } else {
        // Nobody had it: the default disposition, a death by SIGBUS.
        EXPECT_EXIT(fault_outside_a_read(), ::testing::KilledBySignal(SIGBUS), "");
    }
}

}  // namespace
