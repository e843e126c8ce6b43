// READ, WRITE and WRITE FILEMARKS as Linux st drives them: files separated by filemarks, read
// back with longer and shorter requests, spacing to end of data and counting files from the
// residual, fixed-block mode, and every refusal with its exact sense and no motion.
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;

namespace {

// Three files of records of different sizes, each followed by a filemark (as tar writes them
// through st with a close between files).
struct ThreeFiles : LoadedDrive {
    ThreeFiles() {
        for (uint32_t f = 0; f < 3; ++f) {
            for (uint32_t r = 0; r < 4; ++r) {
                const Bytes data = pattern(1000 + 100 * f + r, f * 16 + r);
                EXPECT_TRUE(IsGood(write(data)));
                records.push_back(data);
            }
            EXPECT_TRUE(IsGood(filemarks(1)));
        }
    }
    std::vector<Bytes> records;
};

}  // namespace

TEST(SscReadWrite, FilesSeparatedByFilemarksReadBackExactly) {
    ThreeFiles t;
    EXPECT_EQ(t.object(), 15u);  // 12 records and 3 filemarks
    ASSERT_TRUE(IsGood(t.send(rewind())));
    size_t next = 0;
    for (uint32_t f = 0; f < 3; ++f) {
        for (uint32_t r = 0; r < 4; ++r, ++next) {
            const auto got = t.read(uint32_t(t.records[next].size()));
            ASSERT_TRUE(IsGood(got)) << f << "/" << r;
            EXPECT_EQ(got.data, t.records[next]);
            EXPECT_EQ(got.residual, 0u);
        }
        // The filemark: NO SENSE, FILEMARK, 00/01, INFORMATION = the whole request, no data,
        // positioned after it.
        const auto fm = t.read(4096);
        EXPECT_TRUE(IsStreamCheck(fm, 0x0, 0x00, 0x01, 4096, /*filemark=*/true));
        EXPECT_TRUE(fm.data.empty());
        EXPECT_EQ(t.position().logical_file, f + 1);
    }
    // End of data: BLANK CHECK 08/00/05 with the whole request as residual, no motion.
    const uint64_t at = t.object();
    EXPECT_TRUE(IsStreamCheck(t.read(512), 0x8, 0x00, 0x05, 512));
    EXPECT_TRUE(IsStreamCheck(t.read(512), 0x8, 0x00, 0x05, 512));
    EXPECT_EQ(t.object(), at);
}

TEST(SscReadWrite, SpaceToEndOfDataCountsFilesFromTheResidual) {
    // st's MTEOM on drives without "space to EOD": SPACE a huge number of filemarks.
    ThreeFiles t;
    ASSERT_TRUE(IsGood(t.send(rewind())));
    const int32_t huge = 0x7FFFFF;
    const auto r = t.send(space6(huge, kFilemarks));
    ASSERT_TRUE(IsStreamCheck(r, 0x8, 0x00, 0x05, uint64_t(huge) - 3));
    // What st computes: files = count - residual.
    const auto v = fixtures::decode_sense(r.sense);
    EXPECT_EQ(uint64_t(huge) - *v->information, 3u);
    const auto pos = t.position();
    EXPECT_EQ(pos.logical_object, 15u);
    EXPECT_EQ(pos.logical_file, 3u);
    // Fixed-format bytes as st reads them: 70h|VALID, key 08h, INFORMATION at 3-6.
    EXPECT_EQ(r.sense[0], 0xF0);
    EXPECT_EQ(r.sense[2], 0x08);
    EXPECT_EQ(Bytes(r.sense.begin() + 3, r.sense.begin() + 7), (Bytes{0x00, 0x7F, 0xFF, 0xFC}));
    EXPECT_EQ(r.sense[12], 0x00);
    EXPECT_EQ(r.sense[13], 0x05);
    // And writing there appends a fourth file.
    ASSERT_TRUE(IsGood(t.write(pattern(100, 99))));
    ASSERT_TRUE(IsGood(t.filemarks(1)));
    ASSERT_TRUE(IsGood(t.send(space6(-1, kFilemarks))));
    ASSERT_TRUE(IsGood(t.send(space6(-1, kBlocks))));
    EXPECT_TRUE(IsGood(t.send(space16(0, kEndOfData))));
    EXPECT_EQ(t.position().logical_file, 4u);
}

TEST(SscReadWrite, ShortReadsReportIliAndTheResidualUnlessSili) {
    LoadedDrive t;
    const Bytes record = pattern(1000, 7);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(IsGood(t.write(record)));
    ASSERT_TRUE(IsGood(t.send(rewind())));

    // Record shorter than the request: its 1000 bytes, ILI, INFORMATION = 4096 - 1000.
    auto r = t.read(4096);
    EXPECT_TRUE(IsStreamCheck(r, 0x0, 0x00, 0x00, 3096, false, false, /*ili=*/true));
    EXPECT_EQ(r.data, record);
    EXPECT_EQ(r.residual, 3096u);
    // SILI: no CHECK CONDITION for a short record, the data and the residual.
    r = t.read(4096, /*sili=*/true);
    EXPECT_TRUE(IsGood(r));
    EXPECT_EQ(r.data, record);
    EXPECT_EQ(r.residual, 3096u);
    // Record longer than the request: the first 600 bytes, ILI with a negative residual
    // (two's complement), positioned after the whole record; SILI does not hide it.
    r = t.send(read6(600, false, true), 600);
    EXPECT_TRUE(IsStreamCheck(r, 0x0, 0x00, 0x00, 0xFFFFFE70u /* -400 */, false, false, true));
    EXPECT_EQ(r.data, Bytes(record.begin(), record.begin() + 600));
    EXPECT_EQ(t.object(), 3u);
}

TEST(SscReadWrite, NegativeResidualIsSignExtendedInDescriptorSense) {
    LoadedDrive t;
    const Bytes record = pattern(1000, 7);
    ASSERT_TRUE(IsGood(t.write(record)));
    ASSERT_TRUE(IsGood(t.send(rewind())));
    // D_SENSE in the control page (0Ah byte 2 bit 2): descriptor-format sense from now on.
    auto m = t.mode_sense(0x0A);
    Bytes page = m->find(0x0A)->bytes;
    page[0] &= 0x3F;
    page[2] |= 0x04;
    Bytes list(8, 0);
    list.insert(list.end(), page.begin(), page.end());
    ASSERT_TRUE(IsGood(t.send(fixtures::mode_select10(true, false, uint16_t(list.size())), 0, list)));

    // 600 of 1000 bytes: ILI, INFORMATION -400 as 64 bits in the information descriptor.
    const auto r = t.send(read6(600), 600);
    const Bytes expected = {0x72, 0x00, 0x00, 0x00, 0, 0, 0, 16,
                            // information descriptor, VALID, -400
                            0x00, 0x0A, 0x80, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0x70,
                            // stream commands descriptor, ILI
                            0x04, 0x02, 0x00, 0x20};
    EXPECT_EQ(r.status, scsi::Status::CheckCondition);
    EXPECT_EQ(r.sense, expected);
    EXPECT_EQ(r.data, Bytes(record.begin(), record.begin() + 600));
}

TEST(SscReadWrite, FixedBlockModeCountsBlocks) {
    LoadedDrive t;
    ASSERT_TRUE(IsGood(t.set_block_length(512)));
    const Bytes data = pattern(512 * 6, 3);
    ASSERT_TRUE(IsGood(t.write_fixed(data, 512)));
    ASSERT_TRUE(IsGood(t.filemarks(1)));
    ASSERT_TRUE(IsGood(t.write_fixed(pattern(512 * 2, 4), 512)));
    EXPECT_EQ(t.object(), 9u);  // 6 blocks, a filemark, 2 blocks
    ASSERT_TRUE(IsGood(t.send(rewind())));

    auto r = t.send(read6(4, true), 512 * 4);
    ASSERT_TRUE(IsGood(r));
    EXPECT_EQ(r.data, Bytes(data.begin(), data.begin() + 512 * 4));
    // Ask for 5 blocks with 2 left before the filemark: the 2, FILEMARK, INFORMATION = 3.
    r = t.send(read6(5, true), 512 * 5);
    EXPECT_TRUE(IsStreamCheck(r, 0x0, 0x00, 0x01, 3, true));
    EXPECT_EQ(r.data, Bytes(data.begin() + 512 * 4, data.end()));
    EXPECT_EQ(r.residual, 512u * 3);
    // End of data after 2 blocks: BLANK CHECK, INFORMATION = blocks not transferred.
    r = t.send(read6(3, true), 512 * 3);
    EXPECT_TRUE(IsStreamCheck(r, 0x8, 0x00, 0x05, 1));
    EXPECT_EQ(r.data.size(), 512u * 2);
}

TEST(SscReadWrite, FixedModeRecordOfTheWrongLengthIsIli) {
    LoadedDrive t;
    ASSERT_TRUE(IsGood(t.write(pattern(512, 1))));
    ASSERT_TRUE(IsGood(t.write(pattern(700, 2))));  // variable record in the middle
    ASSERT_TRUE(IsGood(t.write(pattern(512, 3))));
    ASSERT_TRUE(IsGood(t.send(rewind())));
    ASSERT_TRUE(IsGood(t.set_block_length(512)));
    const auto r = t.send(read6(3, true), 512 * 3);
    // One good block, then the 700-byte record: ILI, INFORMATION = 3 - 1 blocks, positioned
    // after the incorrect-length block.
    EXPECT_TRUE(IsStreamCheck(r, 0x0, 0x00, 0x00, 2, false, false, true));
    EXPECT_EQ(r.data, pattern(512, 1));
    EXPECT_EQ(t.object(), 2u);
}

TEST(SscReadWrite, RefusedCommandsChangeNothing) {
    LoadedDrive t;
    ASSERT_TRUE(IsGood(t.write(pattern(100, 1))));
    const uint64_t at = t.object();
    // FIXED with variable-block mode in force: the FIXED bit is invalid.
    EXPECT_TRUE(IsCheck(t.send(write6(1, true), 0, Bytes(512)), invalid_cdb(1, 0)));
    EXPECT_TRUE(IsCheck(t.send(read6(1, true), 512), invalid_cdb(1, 0)));
    // SILI with FIXED.
    EXPECT_TRUE(IsCheck(t.send(read6(1, true, true), 512), invalid_cdb(1, 1)));
    // Beyond the block limit (8 MiB).
    EXPECT_TRUE(IsCheck(t.send(read6((8u << 20) + 1), 0), invalid_cdb(2)));
    EXPECT_TRUE(IsCheck(t.send(write6((8u << 20) + 1), 0), invalid_cdb(2)));
    // Data-out shorter than the CDB announces.
    EXPECT_TRUE(IsCheck(t.send(write6(1000), 0, Bytes(999)), invalid_cdb(2)));
    // Reserved bits.
    EXPECT_TRUE(IsCheck(t.send({0x0A, 0x80, 0, 0, 1, 0}, 0, Bytes(1)), invalid_cdb(1, 7)));
    EXPECT_TRUE(IsCheck(t.send({0x10, 0x02, 0, 0, 1, 0}), invalid_cdb(1, 1)));  // WSMK: no setmarks
    EXPECT_TRUE(IsCheck(t.send(write_filemarks(0x10000)), invalid_cdb(2)));
    EXPECT_EQ(t.object(), at);
    // A zero transfer length is no operation at all.
    EXPECT_TRUE(IsGood(t.send(read6(0))));
    EXPECT_TRUE(IsGood(t.send(write6(0))));
    EXPECT_EQ(t.object(), at);
}

TEST(SscReadWrite, WriteInTheMiddleCutsWhatFollows) {
    ThreeFiles t;
    ASSERT_TRUE(IsGood(t.send(locate10(5))));  // the second record of file 1
    const Bytes fresh = pattern(300, 1234);
    ASSERT_TRUE(IsGood(t.write(fresh)));
    EXPECT_TRUE(IsStreamCheck(t.send(space16(1, kBlocks)), 0x8, 0x00, 0x05, 1));  // now at end of data
    ASSERT_TRUE(IsGood(t.send(locate10(5))));
    EXPECT_EQ(t.read(300).data, fresh);
    EXPECT_TRUE(IsStreamCheck(t.read(300), 0x8, 0x00, 0x05, 300));
}

TEST(SscReadWrite, WriteFilemarksZeroIsASyncPointAndImmedReturnsAtOnce) {
    LoadedDrive t;
    ASSERT_TRUE(IsGood(t.write(pattern(100, 1))));
    EXPECT_TRUE(IsGood(t.send(write_filemarks(0))));
    EXPECT_TRUE(IsGood(t.send(write_filemarks(0, true))));
    EXPECT_EQ(t.object(), 1u);
    EXPECT_TRUE(IsGood(t.send(write_filemarks(2, true))));
    EXPECT_EQ(t.object(), 3u);
    EXPECT_EQ(t.position().logical_file, 2u);
}

TEST(SscReadWrite, VerifyChecksRecordsFilesAndToEndOfData) {
    ThreeFiles t;
    ASSERT_TRUE(IsGood(t.send(rewind())));
    EXPECT_TRUE(IsGood(t.send(verify6(uint32_t(t.records[0].size())))));
    EXPECT_EQ(t.object(), 1u);
    // Wrong length: ILI with the residual.
    EXPECT_TRUE(IsStreamCheck(t.send(verify6(10)), 0x0, 0x00, 0x00, signed_residual(10 - int64_t(t.records[1].size())),
                              false, false, true));
    // VBF: two files from here.
    EXPECT_TRUE(IsGood(t.send(verify6(2, false, true))));
    EXPECT_EQ(t.position().logical_file, 2u);
    // More files than there are: BLANK CHECK with the files not verified.
    EXPECT_TRUE(IsStreamCheck(t.send(verify6(5, false, true)), 0x8, 0x00, 0x05, 4));
    ASSERT_TRUE(IsGood(t.send(rewind())));
    EXPECT_TRUE(IsGood(t.send(verify6(0, false, false, true))));  // VTE
    EXPECT_EQ(t.object(), 15u);
    // BYTCMP (compare with data-out) is not supported.
    EXPECT_TRUE(IsCheck(t.send(verify6(10, false, false, false, true)), invalid_cdb(1, 1)));
}
