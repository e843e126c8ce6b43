// Capacity limits on small cartridges: early warning (NO SENSE, EOM, 00/02, the data written),
// then end of partition (VOLUME OVERFLOW, EOM, 00/02, nothing written), in both block modes.
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;

TEST(SscCapacity, EarlyWarningThenEndOfMediumOnA64KiBCartridge) {
    // 64 KiB: early warning 2% before the end, at 64225 bytes.
    LoadedDrive t({{"SMALL1L8", 64u << 10}});
    const Bytes record = pattern(4096, 1);
    for (int i = 0; i < 15; ++i) ASSERT_TRUE(IsGood(t.write(record))) << i;
    EXPECT_FALSE(t.position().bpew);
    // The 16th record fills the medium exactly: written, with the early-warning report.
    auto r = t.write(record);
    EXPECT_TRUE(IsStreamCheck(r, 0x0, 0x00, 0x02, 0, false, /*eom=*/true));
    EXPECT_EQ(t.object(), 16u);
    EXPECT_TRUE(t.position().bpew);
    // Nothing more fits: VOLUME OVERFLOW, EOM, residual = the whole record, nothing written.
    r = t.write(record);
    EXPECT_TRUE(IsStreamCheck(r, 0xD, 0x00, 0x02, 4096, false, true));
    EXPECT_EQ(t.object(), 16u);
    // A filemark uses 4 KiB too: it does not fit either (residual: the one filemark).
    EXPECT_TRUE(IsStreamCheck(t.filemarks(1), 0xD, 0x00, 0x02, 1, false, true));
    EXPECT_EQ(t.object(), 16u);
    // Everything written reads back, then end of data (past early warning: EOM too).
    ASSERT_TRUE(IsGood(t.send(rewind())));
    for (int i = 0; i < 16; ++i) EXPECT_EQ(t.read(4096).data, record) << i;
    EXPECT_TRUE(IsStreamCheck(t.read(4096), 0x8, 0x00, 0x05, 4096, false, true));
}

TEST(SscCapacity, FilemarksAloneReachEarlyWarningAndTheEnd) {
    // 1 MiB (SET CAPACITY's smallest) holds 256 filemarks of 4 KiB; early warning 2% before
    // the end (1,027,605 bytes) is reached by the 251st.
    LoadedDrive t;
    ASSERT_TRUE(IsGood(t.send(set_capacity(1))));  // 64 MiB x 1/65535: raised to 1 MiB
    EXPECT_TRUE(IsGood(t.filemarks(250)));
    EXPECT_FALSE(t.position().bpew);
    EXPECT_TRUE(IsStreamCheck(t.filemarks(1), 0x0, 0x00, 0x02, 0, false, true));
    EXPECT_TRUE(t.position().bpew);
    // Ten more do not fit in the five places left: none is written.
    EXPECT_TRUE(IsStreamCheck(t.filemarks(10), 0xD, 0x00, 0x02, 10, false, true));
    EXPECT_EQ(t.object(), 251u);
    EXPECT_TRUE(IsStreamCheck(t.filemarks(5), 0x0, 0x00, 0x02, 0, false, true));
    EXPECT_TRUE(IsStreamCheck(t.filemarks(1), 0xD, 0x00, 0x02, 1, false, true));
    EXPECT_TRUE(IsStreamCheck(t.write(pattern(1, 1)), 0xD, 0x00, 0x02, 1, false, true));
    EXPECT_EQ(t.object(), 256u);
    EXPECT_EQ(t.log_page(0x31)->uint_param(0x0001), 0u) << "remaining capacity, partition 0";
}

TEST(SscCapacity, WritesAfterEarlyWarningSucceedUntilTheEnd) {
    // 64 MiB with 1 MiB records: early warning at 98% (about 65.8 MB).
    LoadedDrive t({{"SMALL2L8", 64u << 20}});
    const Bytes record = pattern(1u << 20, 2);
    int warned = 0;
    int written = 0;
    for (int i = 0; i < 70; ++i) {
        const auto r = t.write(record);
        if (r.status == scsi::Status::Good) {
            ASSERT_EQ(warned, 0) << "GOOD after early warning at record " << i;
            ++written;
            continue;
        }
        const auto v = fixtures::decode_sense(r.sense);
        ASSERT_TRUE(v);
        if (v->key == 0x0) {
            EXPECT_TRUE(IsStreamCheck(r, 0x0, 0x00, 0x02, 0, false, true));
            ++warned;
            ++written;
            continue;
        }
        EXPECT_TRUE(IsStreamCheck(r, 0xD, 0x00, 0x02, 1u << 20, false, true));
        break;
    }
    EXPECT_EQ(written, 64);
    EXPECT_EQ(warned, 2);  // records 63 and 64 are past the 98% point
    EXPECT_EQ(t.object(), 64u);
}

TEST(SscCapacity, FixedModeOverflowCountsTheBlocksNotWritten) {
    LoadedDrive t({{"SMALL3L8", 64u << 10}});
    ASSERT_TRUE(IsGood(t.set_block_length(8192)));
    // 7 blocks fit before early warning; ask for 10: 8 are written (early warning passed on
    // the way), the 9th does not fit: VOLUME OVERFLOW with 2 blocks not written.
    ASSERT_TRUE(IsGood(t.write_fixed(pattern(8192 * 6, 1), 8192)));
    const auto r = t.write_fixed(pattern(8192 * 4, 2), 8192);
    EXPECT_TRUE(IsStreamCheck(r, 0xD, 0x00, 0x02, 2, false, true));
    EXPECT_EQ(t.object(), 8u);
}

TEST(SscCapacity, SetCapacityShrinksTheMediumFromBopOnly) {
    LoadedDrive t;  // configured at 64 MiB
    ASSERT_TRUE(IsGood(t.write(pattern(1000, 1))));
    EXPECT_TRUE(IsCheck(t.send(set_capacity(0x8000)), sense(0x5, 0x3B, 0x0C)));
    EXPECT_EQ(t.object(), 1u);
    EXPECT_TRUE(IsCheck(t.send(set_capacity(0)), invalid_cdb(3)));
    ASSERT_TRUE(IsGood(t.send(rewind())));
    ASSERT_TRUE(IsGood(t.send(set_capacity(0x8000))));  // half
    EXPECT_EQ(t.log_page(0x31)->uint_param(0x0003), 32u);
    EXPECT_TRUE(IsStreamCheck(t.read(1000), 0x8, 0x00, 0x05, 1000)) << "the data went with the old layout";
    ASSERT_TRUE(IsGood(t.send(set_capacity(0xFFFF))));  // all of it again
    EXPECT_EQ(t.log_page(0x31)->uint_param(0x0003), 64u);
}

TEST(SscCapacity, EraseMakesThePositionTheEndOfData) {
    LoadedDrive t;
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(IsGood(t.write(pattern(500, i))));
    ASSERT_TRUE(IsGood(t.send(locate10(2))));
    ASSERT_TRUE(IsGood(t.send(erase6(true))));
    EXPECT_EQ(t.object(), 2u);
    EXPECT_TRUE(IsStreamCheck(t.read(500), 0x8, 0x00, 0x05, 500));
    ASSERT_TRUE(IsGood(t.send(rewind())));
    EXPECT_TRUE(IsStreamCheck(t.send(space6(10, kBlocks)), 0x8, 0x00, 0x05, 8));
}
