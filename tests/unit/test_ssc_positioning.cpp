// SPACE, LOCATE, READ POSITION and REWIND: round trips through all three READ POSITION forms,
// spacing in both directions with the sense st counts with, partitions (MODE SELECT 11h,
// FORMAT MEDIUM, LOCATE with CP).
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;

namespace {

// Objects: r r FM r r r FM FM r  (indices 0..8), EOD at 9.
struct Layout : LoadedDrive {
    Layout() {
        for (int i = 0; i < 2; ++i) EXPECT_TRUE(IsGood(write(pattern(200, i))));
        EXPECT_TRUE(IsGood(filemarks(1)));
        for (int i = 0; i < 3; ++i) EXPECT_TRUE(IsGood(write(pattern(200, 10 + i))));
        EXPECT_TRUE(IsGood(filemarks(2)));
        EXPECT_TRUE(IsGood(write(pattern(200, 20))));
        EXPECT_TRUE(IsGood(send(rewind())));
    }
};

}  // namespace

TEST(SscPositioning, ReadPositionShortLongAndExtendedAgree) {
    Layout t;
    for (uint32_t target : {0u, 1u, 3u, 6u, 9u}) {
        SCOPED_TRACE(target);
        ASSERT_TRUE(IsGood(t.send(locate10(target))));
        const auto s = t.send(fixtures::read_position(0x00), 20);
        const auto l = t.send(fixtures::read_position(0x06), 32);
        const auto e = t.send(fixtures::read_position(0x08, 32), 32);
        ASSERT_TRUE(IsGood(s));
        ASSERT_EQ(s.data.size(), 20u);
        ASSERT_EQ(l.data.size(), 32u);
        ASSERT_EQ(e.data.size(), 32u);
        const auto sv = *fixtures::decode_read_position_short(s.data);
        const auto lv = *fixtures::decode_read_position_long(l.data);
        const auto ev = *fixtures::decode_read_position_extended(e.data);
        EXPECT_EQ(sv.first_block, target);
        EXPECT_EQ(sv.last_block, target);
        EXPECT_EQ(lv.logical_object, target);
        EXPECT_EQ(ev.first_block, target);
        EXPECT_EQ(ev.last_block, target);
        EXPECT_EQ(ev.additional_length, 0x1Cu);
        EXPECT_EQ(sv.bop, target == 0);
        EXPECT_EQ(lv.bop, target == 0);
        EXPECT_EQ(ev.bop, target == 0);
        EXPECT_FALSE(sv.bpew);
        EXPECT_EQ(sv.blocks_in_buffer, 0u);
        EXPECT_EQ(sv.bytes_in_buffer, 0u);
        const uint64_t file = (target > 2) + (target > 6) + (target > 7);  // filemarks at 2, 6 and 7
        EXPECT_EQ(lv.logical_file, file);
    }
    // Golden bytes of the short form at object 3 of partition 0.
    ASSERT_TRUE(IsGood(t.send(locate10(3))));
    EXPECT_EQ(t.send(fixtures::read_position(0x00), 20).data,
              (Bytes{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0}));
    // The extended form obeys its allocation length.
    EXPECT_EQ(t.send(fixtures::read_position(0x08, 8), 32).data.size(), 8u);
}

TEST(SscPositioning, SpaceBlocksStopsAtFilemarksBothWays) {
    Layout t;
    // Forward 5 blocks from BOP: 2 blocks, then the filemark: FILEMARK, residual 3, positioned
    // after the filemark.
    EXPECT_TRUE(IsStreamCheck(t.send(space6(5, kBlocks)), 0x0, 0x00, 0x01, 3, true));
    EXPECT_EQ(t.object(), 3u);
    EXPECT_TRUE(IsGood(t.send(space6(2, kBlocks))));
    EXPECT_EQ(t.object(), 5u);
    // Backward 4 blocks: 2 blocks, then the filemark (stop on its BOP side): residual 2,
    // positive.
    EXPECT_TRUE(IsStreamCheck(t.send(space6(-4, kBlocks)), 0x0, 0x00, 0x01, 2, true));
    EXPECT_EQ(t.object(), 2u);
    // Backward into BOP: NO SENSE, EOM, 00/04 BEGINNING-OF-PARTITION, residual.
    ASSERT_TRUE(IsGood(t.send(locate10(1))));
    EXPECT_TRUE(IsStreamCheck(t.send(space6(-3, kBlocks)), 0x0, 0x00, 0x04, 2, false, true));
    EXPECT_EQ(t.object(), 0u);
    // Forward into end of data.
    ASSERT_TRUE(IsGood(t.send(locate10(8))));
    EXPECT_TRUE(IsStreamCheck(t.send(space6(3, kBlocks)), 0x8, 0x00, 0x05, 2));
    EXPECT_EQ(t.object(), 9u);
}

TEST(SscPositioning, SpaceFilemarksAndSequentialFilemarks) {
    Layout t;
    EXPECT_TRUE(IsGood(t.send(space6(2, kFilemarks))));
    EXPECT_EQ(t.object(), 7u);
    EXPECT_TRUE(IsGood(t.send(space6(-1, kFilemarks))));
    EXPECT_EQ(t.object(), 6u);  // before the filemark
    EXPECT_TRUE(IsStreamCheck(t.send(space6(-5, kFilemarks)), 0x0, 0x00, 0x04, 4, false, true));
    EXPECT_EQ(t.object(), 0u);
    // Two adjacent filemarks: after the run.
    EXPECT_TRUE(IsGood(t.send(space6(2, kSequentialFilemarks))));
    EXPECT_EQ(t.object(), 8u);
    EXPECT_TRUE(IsStreamCheck(t.send(space6(3, kSequentialFilemarks)), 0x8, 0x00, 0x05, 3));
    EXPECT_EQ(t.object(), 9u);
    EXPECT_TRUE(IsGood(t.send(space16(-2, kSequentialFilemarks))));
    EXPECT_EQ(t.object(), 6u);
    // Count 0 moves nothing; setmarks do not exist.
    EXPECT_TRUE(IsGood(t.send(space6(0, kBlocks))));
    EXPECT_EQ(t.object(), 6u);
    EXPECT_TRUE(IsCheck(t.send(space6(1, 4)), invalid_cdb(1, 3)));
    EXPECT_TRUE(IsCheck(t.send(space6(1, 0x10)), invalid_cdb(1, 4)));
    EXPECT_EQ(t.object(), 6u);
}

TEST(SscPositioning, LocateSixteenByObjectFileAndEndOfData) {
    Layout t;
    EXPECT_TRUE(IsGood(t.send(locate16(4))));
    EXPECT_EQ(t.object(), 4u);
    EXPECT_TRUE(IsGood(t.send(locate16(2, false, 0, /*file*/ 1))));
    EXPECT_EQ(t.object(), 7u);  // just after the second filemark
    EXPECT_TRUE(IsGood(t.send(locate16(0, false, 0, /*eod*/ 3))));
    EXPECT_EQ(t.object(), 9u);
    // Beyond end of data: BLANK CHECK 00/05, positioned at it.
    ASSERT_TRUE(IsGood(t.send(rewind())));
    EXPECT_TRUE(IsStreamCheck(t.send(locate16(100)), 0x8, 0x00, 0x05, std::nullopt));
    EXPECT_EQ(t.object(), 9u);
    // DEST_TYPE 2 is reserved, BAM is not supported.
    EXPECT_TRUE(IsCheck(t.send(locate16(1, false, 0, 2)), invalid_cdb(1, 5)));
    auto bam = locate16(1);
    bam[2] = 1;
    EXPECT_TRUE(IsCheck(t.send(bam), invalid_cdb(2, 0)));
    // A partition that does not exist.
    EXPECT_TRUE(IsCheck(t.send(locate10(0, true, 1)), invalid_cdb(8)));
    EXPECT_EQ(t.object(), 9u);
}

// Linux st sends LOCATE(10) with BT=1 (block address type) unless set to scsi2logical; an LTO
// drive's block addresses are its logical object identifiers, so it lands on the same object.
TEST(SscPositioning, LocateTenWithBlockAddressTypeGoesToTheSameObject) {
    Layout t;
    auto bt = locate10(4);
    bt[1] |= 0x04;
    EXPECT_TRUE(IsGood(t.send(bt)));
    EXPECT_EQ(t.object(), 4u);
    bt = locate10(7);
    bt[1] |= 0x04;
    EXPECT_TRUE(IsGood(t.send(bt)));
    EXPECT_EQ(t.object(), 7u);
}

TEST(SscPositioning, RewindGoesToBeginningOfPartitionZero) {
    Layout t;
    ASSERT_TRUE(IsGood(t.send(locate10(7))));
    EXPECT_TRUE(IsGood(t.send(rewind())));
    const auto p = t.position();
    EXPECT_TRUE(p.bop);
    EXPECT_EQ(p.partition, 0u);
    EXPECT_EQ(p.logical_object, 0u);
    EXPECT_TRUE(IsCheck(t.send({0x01, 0x02, 0, 0, 0, 0}), invalid_cdb(1, 1)));
}

TEST(SscPositioning, PartitionsFromModeSelectAndFormatMedium) {
    LoadedDrive t;
    ASSERT_TRUE(IsGood(t.write(pattern(100, 1))));
    // As LTFS does: read page 11h, set IDP, 2 partitions, sizes in 10^6 bytes: 8 MB for
    // partition 1 and the rest (FFFFh) for partition 0; MODE SELECT; FORMAT MEDIUM (partition).
    auto m = t.mode_sense(0x11);
    ASSERT_TRUE(m);
    const auto* page = m->find(0x11);
    ASSERT_TRUE(page);
    Bytes p = page->bytes;
    ASSERT_EQ(p.size(), 16u);  // LTO-8: up to 4 partitions
    EXPECT_EQ(p[2], 3);        // MAXIMUM ADDITIONAL PARTITIONS
    EXPECT_EQ(p[3], 0);
    p[0] &= 0x3F;
    p[3] = 1;
    p[4] = 0x20 | (p[4] & 0x1F);  // IDP
    p[6] = 6;
    p[8] = 0xFF, p[9] = 0xFF;
    p[10] = 0, p[11] = 8;
    Bytes list{0, 0, 0, 0, 0, 0, 0, 0};
    list.insert(list.end(), p.begin(), p.end());
    // The medium type and device-specific bytes as MODE SENSE reported them are accepted back.
    list[2] = m->medium_type;
    list[3] = m->device_specific;
    ASSERT_TRUE(IsGood(t.send(fixtures::mode_select10(true, false, uint16_t(list.size())), 0, list)));
    // Not at BOP: FORMAT MEDIUM is refused without touching the medium.
    EXPECT_TRUE(IsCheck(t.send(format_medium(1)), sense(0x5, 0x3B, 0x0C)));
    EXPECT_EQ(t.object(), 1u);
    ASSERT_TRUE(IsGood(t.send(rewind())));
    ASSERT_TRUE(IsGood(t.send(format_medium(1))));
    EXPECT_TRUE(IsStreamCheck(t.read(100), 0x8, 0x00, 0x05, 100)) << "formatting empties the medium";

    // Page 11h now describes the medium: 2 partitions, partition 1 of 8 MB.
    m = t.mode_sense(0x11);
    const auto* now = m->find(0x11);
    ASSERT_TRUE(now);
    EXPECT_EQ(now->bytes[3], 1);
    EXPECT_EQ(now->bytes[4] & 0x20, 0x20);
    EXPECT_EQ(now->bytes[10], 0);
    EXPECT_EQ(now->bytes[11], 8);
    // Partition 0 took the rest: 64 MiB - 8 MB, in whole MB rounded up.
    EXPECT_EQ(scsi::get_be16(&now->bytes[8]), ((64u << 20) - 8'000'000u + 999'999u) / 1'000'000u);

    // Data into each partition; LOCATE with CP moves between them.
    ASSERT_TRUE(IsGood(t.write(pattern(500, 50))));
    ASSERT_TRUE(IsGood(t.send(locate10(0, true, 1))));
    EXPECT_EQ(t.position().partition, 1u);
    ASSERT_TRUE(IsGood(t.write(pattern(600, 60))));
    ASSERT_TRUE(IsGood(t.write(pattern(601, 61))));
    EXPECT_EQ(t.object(), 2u);
    ASSERT_TRUE(IsGood(t.send(locate16(0, true, 0))));
    auto r = t.read(500);
    ASSERT_TRUE(IsGood(r));
    EXPECT_EQ(r.data, pattern(500, 50));
    ASSERT_TRUE(IsGood(t.send(locate16(1, true, 1))));
    const auto s = *fixtures::decode_read_position_short(t.send(fixtures::read_position(0), 20).data);
    EXPECT_EQ(s.partition, 1u);
    EXPECT_EQ(s.first_block, 1u);
    EXPECT_EQ(t.read(601).data, pattern(601, 61));
    // Partition 1 holds 8 MB: IBM's tape capacity log page says so (in MiB).
    const auto log = t.log_page(0x31);
    ASSERT_TRUE(log);
    EXPECT_EQ(log->uint_param(0x0004), 8'000'000u >> 20);

    // FORMAT MEDIUM 0: back to one partition.
    ASSERT_TRUE(IsGood(t.send(rewind())));
    ASSERT_TRUE(IsGood(t.send(format_medium(0))));
    EXPECT_TRUE(IsCheck(t.send(locate10(0, true, 1)), invalid_cdb(8)));
    EXPECT_EQ(t.mode_sense(0x11)->find(0x11)->bytes[3], 0) << "page 11h follows the medium";
}

TEST(SscPositioning, PartitionRequestsAreCheckedByModeSelect) {
    LoadedDrive t({{"VTL001L6", 64u << 20}}, "ULT3580-TD6");
    auto m = t.mode_sense(0x11);
    Bytes p = m->find(0x11)->bytes;
    ASSERT_EQ(p.size(), 12u);  // LTO-6: two partitions at most
    EXPECT_EQ(p[2], 1);
    p[0] &= 0x3F;
    p[3] = 2;  // three partitions
    p[4] = 0x20 | (p[4] & 0x1F);
    Bytes list{0, 0, 0, 0, 0, 0, 0, 0};
    list.insert(list.end(), p.begin(), p.end());
    EXPECT_TRUE(IsCheck(t.send(fixtures::mode_select10(true, false, uint16_t(list.size())), 0, list), invalid_param(8 + 3)));
    p[3] = 1;
    p[4] = 0xE0 | (p[4] & 0x1F);  // FDP, SDP and IDP at once
    list.resize(8);
    list.insert(list.end(), p.begin(), p.end());
    EXPECT_TRUE(IsCheck(t.send(fixtures::mode_select10(true, false, uint16_t(list.size())), 0, list), invalid_param(8 + 4)));
    // SDP: two equal partitions.
    p[4] = 0x40 | (p[4] & 0x1F);
    list.resize(8);
    list.insert(list.end(), p.begin(), p.end());
    ASSERT_TRUE(IsGood(t.send(fixtures::mode_select10(true, false, uint16_t(list.size())), 0, list)));
    ASSERT_TRUE(IsGood(t.send(format_medium(2))));
    const auto log = t.log_page(0x31);
    EXPECT_EQ(log->uint_param(0x0003), (32u << 20) >> 20);
    EXPECT_EQ(log->uint_param(0x0004), (32u << 20) >> 20);
}

TEST(SscPositioning, LinuxStPartitioningOfATwoPartitionDrive) {
    // st's MTMKPART on a drive with one additional partition at most: IDP, sizes in MB, the
    // size given for partition 0 and partition 1 left at 0 (the rest), then FORMAT MEDIUM 1
    // since POFM is set.
    LoadedDrive t({{"VTL001L6", 64u << 20}}, "ULT3580-TD6");
    auto m = t.mode_sense(0x11);
    Bytes p = m->find(0x11)->bytes;
    EXPECT_EQ(p[4] & 0x04, 0x04);  // POFM
    p[0] &= 0x3F;
    p[3] = 1;
    p[4] = 0x20 | 0x10 | (p[4] & 0x07);
    p[6] = 0;
    p[8] = 0, p[9] = 16;  // partition 0: 16 MB
    p[10] = 0, p[11] = 0;
    Bytes list{0, 0, 0, 0};
    list.insert(list.end(), p.begin(), p.end());
    ASSERT_TRUE(IsGood(t.send(fixtures::mode_select6(true, false, uint8_t(list.size())), 0, list)));
    ASSERT_TRUE(IsGood(t.send(format_medium(1))));
    const auto cap = t.log_page(0x31);
    EXPECT_EQ(cap->uint_param(0x0003), 16'000'000u >> 20);
    EXPECT_EQ(cap->uint_param(0x0004), ((64u << 20) - 16'000'000u) >> 20);
}
