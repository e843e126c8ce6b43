// Capacity limits on small cartridges: early warning (NO SENSE, EOM, 00/02, the data written),
// then end of partition (VOLUME OVERFLOW, EOM, 00/02, nothing written), in both block modes.
// Records may not use the partition's last 16 KiB (or its early-warning margin if smaller):
// that room is kept for filemarks (storage::kFilemarkReserve).
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;

TEST(SscCapacity, EarlyWarningThenEndOfMediumOnA64KiBCartridge) {
    // 64 KiB: early warning 2% (1310 bytes) before the end, at 64226 bytes; records may use
    // everything up to that margin's end, 64226 bytes.
    LoadedDrive t({{"SMALL1L8", 64u << 10}});
    const Bytes record = pattern(4096, 1);
    for (int i = 0; i < 15; ++i) ASSERT_TRUE(IsGood(t.write(record))) << i;
    EXPECT_FALSE(t.position().bpew);
    // A 16th record would fill the medium exactly, leaving no room for a filemark: VOLUME
    // OVERFLOW, EOM, residual = the whole record, nothing written.
    auto r = t.write(record);
    EXPECT_TRUE(IsStreamCheck(r, 0xD, 0x00, 0x02, 4096, false, true));
    EXPECT_EQ(t.object(), 15u);
    // The filemark a host writes at close still fits, and reaches early warning.
    EXPECT_TRUE(IsStreamCheck(t.filemarks(1), 0x0, 0x00, 0x02, 0, false, /*eom=*/true));
    EXPECT_EQ(t.object(), 16u);
    EXPECT_TRUE(t.position().bpew);
    EXPECT_TRUE(t.position().eop);
    // Nothing more fits (residual: the one filemark).
    EXPECT_TRUE(IsStreamCheck(t.filemarks(1), 0xD, 0x00, 0x02, 1, false, true));
    EXPECT_EQ(t.object(), 16u);
    // Everything written reads back, then end of data (past early warning: EOM too).
    ASSERT_TRUE(IsGood(t.send(rewind())));
    for (int i = 0; i < 15; ++i) EXPECT_EQ(t.read(4096).data, record) << i;
    EXPECT_TRUE(IsStreamCheck(t.read(4096), 0x0, 0x00, 0x01, 4096, true, false));
    EXPECT_TRUE(IsStreamCheck(t.read(4096), 0x8, 0x00, 0x05, 4096, false, true));
}

TEST(SscCapacity, TheRecordThatWouldFillThePartitionLeavesRoomForTheClosingFilemark) {
    // 8 MiB with 256 KiB records (the VM tests' cartridge and st's block size): 31 fit; the
    // 32nd would end exactly at the end, so it is refused and the filemark still fits.
    LoadedDrive t({{"SMALL4L8", 8u << 20}});
    const Bytes record = pattern(256u << 10, 4);
    for (int i = 0; i < 31; ++i) ASSERT_TRUE(IsGood(t.write(record))) << i;
    EXPECT_TRUE(IsStreamCheck(t.write(record), 0xD, 0x00, 0x02, 256u << 10, false, true));
    EXPECT_EQ(t.object(), 31u);
    EXPECT_TRUE(IsGood(t.filemarks(1)));  // 7936 KiB + 4 KiB: before early warning at 8028 KiB
    EXPECT_EQ(t.object(), 32u);
    // Records go on into the early-warning zone (at 8,220,836 bytes) up to the reserve's start
    // at 8,372,224: 241,664 bytes after the 8,130,560 used.
    EXPECT_TRUE(IsStreamCheck(t.write(pattern(241664, 5)), 0x0, 0x00, 0x02, 0, false, true));
    EXPECT_TRUE(IsStreamCheck(t.write(pattern(1, 6)), 0xD, 0x00, 0x02, 1, false, true));
    // The reserve takes four filemarks, then nothing.
    EXPECT_TRUE(IsStreamCheck(t.filemarks(4), 0x0, 0x00, 0x02, 0, false, true));
    EXPECT_TRUE(IsStreamCheck(t.filemarks(1), 0xD, 0x00, 0x02, 1, false, true));
    EXPECT_EQ(t.object(), 37u);
    EXPECT_EQ(t.log_page(0x31)->uint_param(0x0001), 0u) << "remaining capacity, partition 0";
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
    EXPECT_EQ(written, 63);  // a 64th would leave no room for filemarks
    EXPECT_EQ(warned, 1);    // record 63 is past the 98% point
    EXPECT_EQ(t.object(), 63u);
}

TEST(SscCapacity, FixedModeOverflowCountsTheBlocksNotWritten) {
    LoadedDrive t({{"SMALL3L8", 64u << 10}});
    ASSERT_TRUE(IsGood(t.set_block_length(8192)));
    // 7 blocks fit before early warning; ask for 4 more after 6: the 7th is written, the 8th
    // would leave no room for filemarks: VOLUME OVERFLOW with 3 blocks not written.
    ASSERT_TRUE(IsGood(t.write_fixed(pattern(8192 * 6, 1), 8192)));
    const auto r = t.write_fixed(pattern(8192 * 4, 2), 8192);
    EXPECT_TRUE(IsStreamCheck(r, 0xD, 0x00, 0x02, 3, false, true));
    EXPECT_EQ(t.object(), 7u);
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
