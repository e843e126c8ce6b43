// Compressor's decision to store a record raw: long records are judged by a sample first, so a
// random record skips the whole zstd pass while compressible data still compresses (and round
// trips), and the cartridge's counters say what was stored.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "storage/compressor.h"
#include "storage/store.h"
#include "storage_test_util.h"

namespace vtl::storage {
namespace {

using testing::record_data;
using testing::TempDir;
using testing::text_data;

constexpr size_t kRecord = 256 * 1024;

// Round trip through decompress: the frame holds exactly `data`.
void expect_round_trip(Compressor& z, std::span<const uint8_t> frame, const std::vector<uint8_t>& data) {
    const std::vector<uint8_t> copy(frame.begin(), frame.end());  // frame is valid until the next call
    std::vector<uint8_t> out(data.size());
    std::string why;
    ASSERT_TRUE(z.decompress(copy, out, static_cast<uint32_t>(data.size()), why)) << why;
    EXPECT_EQ(out, data);
}

TEST(StorageCompressor, RandomLongRecordIsStoredRaw) {
    Compressor z(1);
    for (size_t size : {Compressor::kSampleFrom, size_t(100000), kRecord, size_t(1) << 20}) {
        EXPECT_TRUE(z.compress(record_data(3, size, size)).empty()) << size;
    }
}

TEST(StorageCompressor, CompressibleLongRecordStillCompresses) {
    Compressor z(1);
    const auto text = text_data(2, kRecord);
    const auto frame = z.compress(text);
    ASSERT_FALSE(frame.empty());
    EXPECT_LT(frame.size(), kRecord / 20);
    expect_round_trip(z, frame, text);
    // After a raw decision the context compresses the next record normally.
    EXPECT_TRUE(z.compress(record_data(4, 0, kRecord)).empty());
    const auto again = z.compress(text);
    ASSERT_FALSE(again.empty());
    expect_round_trip(z, again, text);
}

TEST(StorageCompressor, SampleCoversTheWholeRecordNotItsStart) {
    Compressor z(1);
    // Random first 64 KiB, text after: the sample's later chunks shrink, so the record is
    // compressed (and saves most of the text).
    auto mixed = text_data(5, kRecord);
    const auto noise = record_data(6, 0, 64 * 1024);
    std::copy(noise.begin(), noise.end(), mixed.begin());
    const auto frame = z.compress(mixed);
    ASSERT_FALSE(frame.empty());
    EXPECT_LT(frame.size(), 64 * 1024 + 16 * 1024);
    expect_round_trip(z, frame, mixed);
    // Text first, random after: compressed too (the text part saves more than the frame costs).
    auto reversed = record_data(7, 0, kRecord);
    const auto head = text_data(8, 64 * 1024);
    std::copy(head.begin(), head.end(), reversed.begin());
    const auto frame2 = z.compress(reversed);
    ASSERT_FALSE(frame2.empty());
    EXPECT_LT(frame2.size(), kRecord - 48 * 1024);
    expect_round_trip(z, frame2, reversed);
}

TEST(StorageCompressor, LongRecordIsJudgedByItsSample) {
    Compressor z(1);
    // Zeros except random bytes exactly where the sample's chunks lie: the whole record would
    // shrink to about the random part, but its sample does not shrink, so it is stored raw
    // without the whole pass (the price of the sample: such a record keeps its size).
    std::vector<uint8_t> data(kRecord, 0);
    const size_t step = (kRecord - Compressor::kSampleChunk) / (Compressor::kSampleChunks - 1);
    for (size_t i = 0; i < Compressor::kSampleChunks; ++i) {
        const auto noise = record_data(14, i, Compressor::kSampleChunk);
        std::copy(noise.begin(), noise.end(), data.begin() + i * step);
    }
    EXPECT_TRUE(z.compress(data).empty());
    // Move the random chunks off the sampled places and the record compresses.
    std::rotate(data.begin(), data.begin() + 8192, data.end());
    const auto frame = z.compress(data);
    ASSERT_FALSE(frame.empty());
    EXPECT_LT(frame.size(), Compressor::kSampleChunks * Compressor::kSampleChunk + 4096);
    expect_round_trip(z, frame, data);
}

TEST(StorageCompressor, ShortRecordsAreNotSampled) {
    Compressor z(1);
    // Below kSampleFrom the whole record is tried: a short compressible record compresses, a
    // random one does not.
    const auto text = text_data(9, Compressor::kSampleFrom - 1);
    const auto frame = z.compress(text);
    ASSERT_FALSE(frame.empty());
    expect_round_trip(z, frame, text);
    EXPECT_TRUE(z.compress(record_data(10, 0, 4096)).empty());
    // A record mostly random whose only compressible part lies where no sample chunk looks
    // still compresses when it is short: 8 KiB of zeros in a 16 KiB record.
    auto part = record_data(11, 0, 16 * 1024);
    std::fill(part.begin() + 4096, part.begin() + 12288, uint8_t{0});
    const auto frame3 = z.compress(part);
    ASSERT_FALSE(frame3.empty());
    expect_round_trip(z, frame3, part);
}

TEST(StorageCompressor, CartridgeStoresRandomRecordsRawAndCountsThem) {
    TempDir dir;
    auto store = Store::open(dir.path());
    ASSERT_TRUE(store.ok());
    auto c = (*store)->open_cartridge("CMP001L8", OpenOptions{true, Layout{64ull << 20, {}}});
    ASSERT_TRUE(c.ok());
    const auto noise = record_data(12, 0, kRecord);
    const auto text = text_data(13, kRecord);
    auto a = (*c)->write_record(noise, true);
    ASSERT_TRUE(a.ok());
    EXPECT_FALSE(a->compressed);
    EXPECT_EQ(a->stored, kRecord);
    auto b = (*c)->write_record(text, true);
    ASSERT_TRUE(b.ok());
    EXPECT_TRUE(b->compressed);
    EXPECT_LT(b->stored, kRecord / 20);
    const Counters& w = (*c)->counters();
    EXPECT_EQ(w.bytes_from_host, 2 * kRecord);
    EXPECT_EQ(w.bytes_to_medium, kRecord + b->stored);
    // Both read back exactly.
    ASSERT_TRUE((*c)->locate(0, 0).ok());
    std::vector<uint8_t> buffer(kRecord);
    auto r1 = (*c)->read_next(buffer);
    ASSERT_TRUE(r1.ok());
    EXPECT_EQ(r1->copied, kRecord);
    EXPECT_EQ(buffer, noise);
    auto r2 = (*c)->read_next(buffer);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(r2->copied, kRecord);
    EXPECT_EQ(buffer, text);
}

}  // namespace
}  // namespace vtl::storage
