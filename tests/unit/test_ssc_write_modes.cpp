// The Device Configuration Extension page (10h/01h) and what it does to writes: append-only mode
// (WRITE MODE 1) with ALLOW OVERWRITE (DATA PROTECT 5A/02 and TapeAlert 09h off an append
// point; 05/20/0C outside append-only mode), and the programmable early warning zone (PEWS:
// NO SENSE, EOM, 00/07 once per entry into it, before early warning).
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;

namespace {

bool alert(DriveRig& t, uint8_t flag) {
    const auto log = t.log_page(0x2E);
    return log && log->uint_param(flag).value_or(0) == 1;
}

// MODE SELECT(10) of page 10h/01h with WRITE MODE `mode` and PEWS `pews` (MB).
Response select_extension(DriveRig& t, uint8_t mode, uint16_t pews = 0) {
    auto m = t.mode_sense(0x10, 0x01);
    EXPECT_TRUE(m && m->find(0x10, 0x01));
    Bytes page = m->find(0x10, 0x01)->bytes;
    page[0] &= 0x7F;  // PS is reserved in MODE SELECT
    page[5] = uint8_t((mode << 4) | (page[5] & 0x0F));
    cdb::be16(page, 6, pews);
    Bytes list(8, 0);
    list.insert(list.end(), page.begin(), page.end());
    return t.send(fixtures::mode_select10(true, false, uint16_t(list.size())), 0, list);
}

const ExpectedSense kAppendOnlyRefusal = sense(0x7, 0x5A, 0x02);

}  // namespace

// ---- The page ------------------------------------------------------------------------------

TEST(SscWriteModes, ExtensionPageReportsAndValidatesWriteMode) {
    LoadedDrive t;
    // Changeable: WRITE MODE (byte 5 bits 7-4) and PEWS (bytes 6-7), nothing else.
    const auto r = t.send(fixtures::mode_sense10(false, 1, 0x10, 0x01, 0x100), 0x100);
    ASSERT_TRUE(IsGood(r));
    const auto changeable = fixtures::decode_mode_sense10(r.data);
    ASSERT_TRUE(changeable && changeable->find(0x10, 0x01));
    Bytes expected(32, 0);
    expected[0] = 0x50;  // SPF, page 10h (the PS bit as reported)
    expected[1] = 0x01;
    expected[3] = 0x1C;
    expected[5] = 0xF0;
    expected[6] = expected[7] = 0xFF;
    Bytes got = changeable->find(0x10, 0x01)->bytes;
    got[0] &= 0x7F;
    EXPECT_EQ(got, expected);

    ASSERT_TRUE(IsGood(select_extension(t, 1, 300)));
    const Bytes page = t.mode_sense(0x10, 0x01)->find(0x10, 0x01)->bytes;
    EXPECT_EQ(page[5], 0x10);
    EXPECT_EQ(page[6], 0x01);
    EXPECT_EQ(page[7], 0x2C);
    // WRITE MODE 2..15 is refused, pointing at its byte (8-byte header + 5) and top bit.
    EXPECT_TRUE(IsCheck(select_extension(t, 2), invalid_param(8 + 5, 7)));
    EXPECT_TRUE(IsCheck(select_extension(t, 0xF), invalid_param(8 + 5, 7)));
    EXPECT_EQ(t.mode_sense(0x10, 0x01)->find(0x10, 0x01)->bytes[5], 0x10) << "a refused select changes nothing";
}

// ---- Append-only mode ----------------------------------------------------------------------

TEST(SscWriteModes, AppendOnlyRefusesWritesOffAnAppendPoint) {
    LoadedDrive t;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(IsGood(t.write(pattern(500, i))));
    ASSERT_TRUE(IsGood(t.filemarks(1)));
    ASSERT_TRUE(IsGood(t.write(pattern(500, 9))));  // objects: R R R F R, EOD 5
    ASSERT_TRUE(IsGood(select_extension(t, 1)));

    // Object 1 is in the middle of data: WRITE, WRITE FILEMARKS and ERASE are all refused,
    // nothing moves, TapeAlert 09h is raised.
    ASSERT_TRUE(IsGood(t.send(locate10(1))));
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 1)), kAppendOnlyRefusal));
    EXPECT_TRUE(alert(t, 0x09));
    EXPECT_TRUE(IsCheck(t.filemarks(1), kAppendOnlyRefusal));
    EXPECT_TRUE(IsCheck(t.send(erase6()), kAppendOnlyRefusal));
    EXPECT_EQ(t.object(), 1u);
    EXPECT_EQ(t.position().logical_object, 1u);
    // A WRITE FILEMARKS of 0 writes nothing: only a sync, allowed anywhere.
    EXPECT_TRUE(IsGood(t.filemarks(0)));
    // At BOP with a record ahead: refused too.
    ASSERT_TRUE(IsGood(t.send(rewind())));
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 1)), kAppendOnlyRefusal));
    // Just after the filemark, but a record follows it: refused.
    ASSERT_TRUE(IsGood(t.send(locate10(4))));
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 1)), kAppendOnlyRefusal));
    // At end of data: appends.
    ASSERT_TRUE(IsGood(t.send(space6(1, kEndOfData))));
    EXPECT_TRUE(IsGood(t.write(pattern(100, 2))));
    EXPECT_EQ(t.object(), 6u);
    // Everything written before is intact.
    ASSERT_TRUE(IsGood(t.send(rewind())));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(t.read(500).data, pattern(500, i)) << i;
}

TEST(SscWriteModes, AppendPointsAfterTrailingFilemarks) {
    LoadedDrive t;
    ASSERT_TRUE(IsGood(t.write(pattern(500, 1))));
    ASSERT_TRUE(IsGood(t.filemarks(2)));  // R F F, EOD 3
    ASSERT_TRUE(IsGood(select_extension(t, 1)));
    // Between the two trailing filemarks (after one, only filemarks to EOD): an append point.
    ASSERT_TRUE(IsGood(t.send(locate10(2))));
    EXPECT_TRUE(IsGood(t.write(pattern(300, 2))));
    EXPECT_EQ(t.object(), 3u);
    EXPECT_EQ(t.position().logical_object, 3u);
    // Right after the record (no filemark before the position): not an append point.
    ASSERT_TRUE(IsGood(t.filemarks(1)));  // R F R F
    ASSERT_TRUE(IsGood(t.send(locate10(3))));
    EXPECT_TRUE(IsCheck(t.filemarks(1), kAppendOnlyRefusal));
}

TEST(SscWriteModes, AppendPointAtBopBeforeOnlyFilemarks) {
    LoadedDrive u({{"MARKS1L8", 64u << 20}});
    ASSERT_TRUE(IsGood(u.filemarks(2)));
    ASSERT_TRUE(IsGood(select_extension(u, 1)));
    ASSERT_TRUE(IsGood(u.send(rewind())));
    EXPECT_TRUE(IsGood(u.write(pattern(100, 3))));
    EXPECT_EQ(u.object(), 1u);
    ASSERT_TRUE(IsGood(u.send(rewind())));
    EXPECT_EQ(u.read(100).data, pattern(100, 3));
    EXPECT_TRUE(IsStreamCheck(u.read(100), 0x8, 0x00, 0x05, 100));
}

TEST(SscWriteModes, AllowOverwriteCurrentPositionPermitsOneWriteThere) {
    LoadedDrive t;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(IsGood(t.write(pattern(500, i))));
    ASSERT_TRUE(IsGood(select_extension(t, 1)));
    ASSERT_TRUE(IsGood(t.send(locate10(1))));
    // The named position must be the current one: 05/3B/00, and no permission.
    EXPECT_TRUE(IsCheck(t.send(allow_overwrite(1, 0, 2)), sense(0x5, 0x3B, 0x00)));
    EXPECT_TRUE(IsCheck(t.send(allow_overwrite(1, 1, 1)), sense(0x5, 0x3B, 0x00)));
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 7)), kAppendOnlyRefusal));

    ASSERT_TRUE(IsGood(t.send(allow_overwrite(1, 0, 1))));
    EXPECT_TRUE(IsGood(t.write(pattern(100, 7))));  // overwrites object 1; EOD is now 2
    EXPECT_EQ(t.object(), 2u);
    // Used up by that write: the next one at the (new) end of data is an append anyway, but
    // going back needs a new ALLOW OVERWRITE.
    ASSERT_TRUE(IsGood(t.send(locate10(1))));
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 8)), kAppendOnlyRefusal));
    ASSERT_TRUE(IsGood(t.send(rewind())));
    EXPECT_EQ(t.read(500).data, pattern(500, 0));
    EXPECT_EQ(t.read(100).data, pattern(100, 7));
    EXPECT_TRUE(IsStreamCheck(t.read(100), 0x8, 0x00, 0x05, 100));
}

TEST(SscWriteModes, AllowOverwriteEndsWhenThePositionChanges) {
    LoadedDrive t;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(IsGood(t.write(pattern(500, i))));
    ASSERT_TRUE(IsGood(select_extension(t, 1)));
    ASSERT_TRUE(IsGood(t.send(locate10(1))));
    ASSERT_TRUE(IsGood(t.send(allow_overwrite(1, 0, 1))));
    // Away and back again: the permission is gone.
    ASSERT_TRUE(IsGood(t.send(space6(1, kBlocks))));
    ASSERT_TRUE(IsGood(t.send(space6(-1, kBlocks))));
    EXPECT_EQ(t.object(), 1u);
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 7)), kAppendOnlyRefusal));
    // A failed ALLOW OVERWRITE withdraws a permission given before it.
    ASSERT_TRUE(IsGood(t.send(allow_overwrite(1, 0, 1))));
    EXPECT_TRUE(IsCheck(t.send(allow_overwrite(3, 0, 1)), invalid_cdb(2, 3)));
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 7)), kAppendOnlyRefusal));
    // ALLOW OVERWRITE 0 (disabled) withdraws it too.
    ASSERT_TRUE(IsGood(t.send(allow_overwrite(1, 0, 1))));
    ASSERT_TRUE(IsGood(t.send(allow_overwrite(0, 0, 0))));
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 7)), kAppendOnlyRefusal));
    // Entering append-only mode again (from overwrite-allowed) withdraws it.
    ASSERT_TRUE(IsGood(t.send(allow_overwrite(1, 0, 1))));
    ASSERT_TRUE(IsGood(select_extension(t, 0)));
    ASSERT_TRUE(IsGood(select_extension(t, 1)));
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 7)), kAppendOnlyRefusal));
    EXPECT_EQ(t.object(), 1u);
}

TEST(SscWriteModes, AllowOverwriteEndsWithTheMount) {
    DriveRig t({{"APP001L8", 64u << 20}});
    t.load(1);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(IsGood(t.write(pattern(500, i))));
    ASSERT_TRUE(IsGood(select_extension(t, 1)));
    ASSERT_TRUE(IsGood(t.send(rewind())));
    ASSERT_TRUE(IsGood(t.send(allow_overwrite(1, 0, 0))));
    ASSERT_TRUE(IsGood(t.send(load_unload(false))));
    ASSERT_TRUE(IsGood(t.send(load_unload(true))));
    EXPECT_TRUE(IsCheck(t.send(fixtures::test_unit_ready()), sense(0x6, 0x28, 0x00)));
    EXPECT_EQ(t.object(), 0u);
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 7)), kAppendOnlyRefusal));
}

TEST(SscWriteModes, AllowOverwriteCdbFields) {
    LoadedDrive t;
    ASSERT_TRUE(IsGood(t.write(pattern(500, 1))));
    // Outside append-only mode: ILLEGAL COMMAND WHEN NOT IN APPEND-ONLY MODE.
    EXPECT_TRUE(IsCheck(t.send(allow_overwrite(1, 0, 1)), sense(0x5, 0x20, 0x0C)));
    ASSERT_TRUE(IsGood(select_extension(t, 1)));
    // ALLOW OVERWRITE 3..15 reserved: byte 2, bit 3 (the field's top bit).
    EXPECT_TRUE(IsCheck(t.send(allow_overwrite(3, 0, 1)), invalid_cdb(2, 3)));
    EXPECT_TRUE(IsCheck(t.send(allow_overwrite(0xF, 0, 1)), invalid_cdb(2, 3)));
    // Reserved bits and bytes.
    Bytes cdb = allow_overwrite(1, 0, 1);
    cdb[2] |= 0x10;
    EXPECT_TRUE(IsCheck(t.send(cdb), invalid_cdb(2, 4)));
    cdb = allow_overwrite(1, 0, 1);
    cdb[1] = 0x01;
    EXPECT_TRUE(IsCheck(t.send(cdb), invalid_cdb(1, 0)));
    cdb = allow_overwrite(1, 0, 1);
    cdb[13] = 0x80;
    EXPECT_TRUE(IsCheck(t.send(cdb), invalid_cdb(13, 7)));
    // Disabled and format ignore the position fields.
    EXPECT_TRUE(IsGood(t.send(allow_overwrite(0, 3, 99))));
    EXPECT_TRUE(IsGood(t.send(allow_overwrite(2, 3, 99))));
    EXPECT_TRUE(IsGood(t.send(allow_overwrite(1, 0, 1))));
}

TEST(SscWriteModes, AllowOverwriteNeedsAMedium) {
    DriveRig t;
    ASSERT_TRUE(IsGood(select_extension(t, 1)));
    EXPECT_TRUE(IsCheck(t.send(allow_overwrite(1, 0, 0)), sense(0x2, 0x3A, 0x00)));
}

TEST(SscWriteModes, AppendOnlyFormatNeedsAllowOverwriteFormat) {
    LoadedDrive t;
    ASSERT_TRUE(IsGood(t.write(pattern(500, 1))));
    ASSERT_TRUE(IsGood(select_extension(t, 1)));
    ASSERT_TRUE(IsGood(t.send(rewind())));
    EXPECT_TRUE(IsCheck(t.send(format_medium(0)), kAppendOnlyRefusal));
    EXPECT_TRUE(IsCheck(t.send(set_capacity(0x8000)), kAppendOnlyRefusal));
    // "Current position" does not cover a format.
    ASSERT_TRUE(IsGood(t.send(allow_overwrite(1, 0, 0))));
    EXPECT_TRUE(IsCheck(t.send(format_medium(0)), kAppendOnlyRefusal));
    ASSERT_TRUE(IsGood(t.send(allow_overwrite(2, 0, 0))));
    EXPECT_TRUE(IsGood(t.send(format_medium(0))));
    EXPECT_EQ(t.position().logical_object, 0u);
    EXPECT_TRUE(IsStreamCheck(t.read(500), 0x8, 0x00, 0x05, 500));
    // An empty medium may be formatted without it.
    EXPECT_TRUE(IsGood(t.send(set_capacity(0x8000))));
}

TEST(SscWriteModes, OverwriteAllowedModeNeedsNothing) {
    LoadedDrive t;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(IsGood(t.write(pattern(500, i))));
    ASSERT_TRUE(IsGood(t.send(locate10(1))));
    EXPECT_TRUE(IsGood(t.write(pattern(100, 7))));
    EXPECT_EQ(t.object(), 2u);
    EXPECT_FALSE(alert(t, 0x09));
}

// ---- Programmable early warning -------------------------------------------------------------

// 64 MiB cartridge: early warning 2% before the end, at 65,766,687 bytes. PEWS 3 MB puts the
// zone's start at 62,766,687: the 60th 1 MiB record (ending at 62,914,560) enters it.
TEST(SscWriteModes, ProgrammableEarlyWarningOncePerEntryThenEarlyWarning) {
    LoadedDrive t({{"PEW001L8", 64u << 20}});
    ASSERT_TRUE(IsGood(select_extension(t, 0, 3)));
    const Bytes record = pattern(1u << 20, 5);
    for (int i = 0; i < 59; ++i) ASSERT_TRUE(IsGood(t.write(record))) << i;
    // Entering the zone: NO SENSE, EOM, 00/07, the data written.
    EXPECT_TRUE(IsStreamCheck(t.write(record), 0x0, 0x00, 0x07, 0, false, /*eom=*/true));
    EXPECT_EQ(t.object(), 60u);
    EXPECT_FALSE(t.position().bpew);
    // Inside the zone, before early warning: GOOD again.
    for (int i = 0; i < 2; ++i) EXPECT_TRUE(IsGood(t.write(record))) << i;
    // Then early warning as before (record 63); a 64th would eat the filemark reserve.
    EXPECT_TRUE(IsStreamCheck(t.write(record), 0x0, 0x00, 0x02, 0, false, true));
    EXPECT_TRUE(IsStreamCheck(t.write(record), 0xD, 0x00, 0x02, 1u << 20, false, true));
    EXPECT_EQ(t.object(), 63u);

    // Leaving the zone on the BOP side (overwriting from record 10) and entering it again
    // reports it again, this time on a WRITE FILEMARKS.
    ASSERT_TRUE(IsGood(t.send(locate10(10))));
    ASSERT_TRUE(IsGood(t.write(record)));
    for (int i = 11; i < 59; ++i) ASSERT_TRUE(IsGood(t.write(record))) << i;
    ASSERT_TRUE(IsGood(t.write(pattern(900000, 6))));  // ends 703 bytes before the zone
    // Filemarks use 4 KiB each: these two enter it.
    EXPECT_TRUE(IsStreamCheck(t.filemarks(2), 0x0, 0x00, 0x07, 0, false, true));
    EXPECT_TRUE(IsGood(t.filemarks(1)));
}

TEST(SscWriteModes, ProgrammableEarlyWarningBeforeEarlyWarningWhenBothAreCrossed) {
    // One 4 MiB record crosses the zone's start and early warning at once: 00/07 first, and the
    // next write reports early warning.
    LoadedDrive t({{"PEW002L8", 64u << 20}});
    ASSERT_TRUE(IsGood(select_extension(t, 0, 1)));
    const Bytes big = pattern(4u << 20, 1);
    for (int i = 0; i < 15; ++i) ASSERT_TRUE(IsGood(t.write(big))) << i;  // 62,914,560 bytes
    EXPECT_TRUE(IsStreamCheck(t.write(pattern(3u << 20, 2)), 0x0, 0x00, 0x07, 0, false, true));
    EXPECT_TRUE(t.position().bpew);
    EXPECT_TRUE(IsStreamCheck(t.write(pattern(1000, 3)), 0x0, 0x00, 0x02, 0, false, true));
}

TEST(SscWriteModes, ProgrammableEarlyWarningOffByDefault) {
    LoadedDrive t({{"PEW003L8", 64u << 20}});
    const Bytes record = pattern(1u << 20, 5);
    for (int i = 0; i < 62; ++i) ASSERT_TRUE(IsGood(t.write(record))) << i;
    EXPECT_TRUE(IsStreamCheck(t.write(record), 0x0, 0x00, 0x02, 0, false, true));
}
