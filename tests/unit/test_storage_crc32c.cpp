// CRC32C: published check values, and the dispatched path (folding or SSE4.2) and the crc32
// instruction path against the portable one for every length and alignment they distinguish.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "storage/crc32c.h"

using namespace vtl::storage;

TEST(StorageCrc32c, CheckValues) {
    const std::string digits = "123456789";
    EXPECT_EQ(crc32c(digits.data(), digits.size()), 0xE3069283u);
    EXPECT_EQ(crc32c_portable(digits.data(), digits.size()), 0xE3069283u);
    EXPECT_EQ(crc32c(nullptr, 0), 0u);
    // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of ones, ascending, descending.
    std::vector<uint8_t> zeros(32, 0), ones(32, 0xFF), up(32), down(32);
    for (int i = 0; i < 32; ++i) up[i] = static_cast<uint8_t>(i), down[i] = static_cast<uint8_t>(31 - i);
    EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
    EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
    EXPECT_EQ(crc32c(up), 0x46DD794Eu);
    EXPECT_EQ(crc32c(down), 0x113FDB5Cu);
}

TEST(StorageCrc32c, DispatchedMatchesPortableAtEveryShape) {
    std::mt19937_64 rng(42);
    std::vector<uint8_t> data(256 * 1024 + 64);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    std::vector<size_t> lengths;
    for (size_t n = 0; n < 1100; ++n) lengths.push_back(n);  // folding: 256-byte steps, 64, 16, tail
    for (size_t n : {1536u, 4111u, 8191u, 24575u, 24576u, 24577u, 25000u, 49152u, 51000u, 262144u, 262184u}) {
        lengths.push_back(n);
    }
    for (size_t offset = 0; offset < 8; ++offset) {
        for (size_t n : lengths) {
            if (offset + n > data.size()) continue;
            const uint32_t expected = crc32c_portable(data.data() + offset, n);
            ASSERT_EQ(crc32c(data.data() + offset, n), expected)
                << "offset " << offset << " length " << n << " " << crc32c_implementation();
            ASSERT_EQ(crc32c_streams(data.data() + offset, n), expected) << "offset " << offset << " length " << n;
            ASSERT_EQ(crc32c(data.data() + offset, n, 0x1234ABCD), crc32c_portable(data.data() + offset, n, 0x1234ABCD))
                << "continuing, offset " << offset << " length " << n;
        }
    }
}

TEST(StorageCrc32c, ContinuesAcrossPieces) {
    std::vector<uint8_t> data(100000);
    std::mt19937 rng(7);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    const uint32_t whole = crc32c(data);
    for (size_t cut : {0u, 1u, 7u, 4096u, 24576u, 99999u, 100000u}) {
        const uint32_t first = crc32c(data.data(), cut);
        EXPECT_EQ(crc32c(data.data() + cut, data.size() - cut, first), whole) << cut;
    }
}

TEST(StorageCrc32c, CopyingVersionCopiesAndMatches) {
    std::mt19937_64 rng(3);
    std::vector<uint8_t> source(300 * 1024);
    for (auto& b : source) b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> target(source.size() + 16);
    for (size_t n : {0u, 1u, 15u, 255u, 256u, 257u, 511u, 1000u, 4096u, 65536u, 65576u, 262144u, 262184u}) {
        for (size_t from : {0u, 1u, 40u}) {
            for (size_t to : {0u, 3u}) {
                std::fill(target.begin(), target.end(), uint8_t{0xA5});
                const uint32_t crc = crc32c_copy(target.data() + to, source.data() + from, n, 0x1234ABCD);
                ASSERT_EQ(crc, crc32c_portable(source.data() + from, n, 0x1234ABCD))
                    << "length " << n << " from " << from << " to " << to;
                ASSERT_TRUE(std::equal(source.begin() + from, source.begin() + from + n, target.begin() + to))
                    << "length " << n << " from " << from << " to " << to;
                // Nothing written outside the destination.
                ASSERT_TRUE(std::all_of(target.begin(), target.begin() + to, [](uint8_t b) { return b == 0xA5; }));
                ASSERT_TRUE(std::all_of(target.begin() + to + n, target.end(), [](uint8_t b) { return b == 0xA5; }));
            }
        }
    }
}
