// Media that refuse writes: the write-protect switch (07/27/00, WP in the mode header), a
// generation the drive reads only (07/30/05), software write protection (page 10h SWP), and
// WORM (appends only; overwrites 07/30/0C, TapeAlert 3Ch; WORMM in page 1Dh). Refusals move
// nothing.
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;

namespace {

bool alert(DriveRig& t, uint8_t flag) {
    const auto log = t.log_page(0x2E);
    return log && log->uint_param(flag).value_or(0) == 1;
}

}  // namespace

TEST(SscProtection, WriteProtectedCartridgeRefusesEveryWrite) {
    LoadedDrive t({{"WPROT1L8", 64u << 20, /*write_protected=*/true}});
    const auto m = t.mode_sense(0x3F);
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->write_protected());
    EXPECT_EQ(m->buffered_mode(), 1);
    const ExpectedSense wp = sense(0x7, 0x27, 0x00);
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 1)), wp));
    EXPECT_TRUE(IsCheck(t.filemarks(1), wp));
    EXPECT_TRUE(IsCheck(t.send(erase6()), wp));
    EXPECT_TRUE(IsCheck(t.send(format_medium(0)), wp));
    EXPECT_TRUE(IsCheck(t.send(set_capacity(0x8000)), wp));
    EXPECT_TRUE(alert(t, 0x09));
    EXPECT_FALSE(alert(t, 0x09)) << "an event flag is cleared once reported";
    EXPECT_EQ(t.object(), 0u);
    // Reading and positioning still work; a sync point (WRITE FILEMARKS 0) writes nothing.
    EXPECT_TRUE(IsStreamCheck(t.read(100), 0x8, 0x00, 0x05, 100));
    EXPECT_TRUE(IsGood(t.filemarks(0)));
}

TEST(SscProtection, OlderGenerationIsReadOnly) {
    // LTO-7 drives read LTO-5 media but do not write them.
    LoadedDrive t({{"OLDGN1L5", 64u << 20}}, "ULT3580-TD7");
    const auto m = t.mode_sense(0x00);
    EXPECT_TRUE(m->write_protected());
    ASSERT_EQ(m->block_descriptors.size(), 1u);
    EXPECT_EQ(m->block_descriptors[0].density_code, 0x58);
    EXPECT_EQ(m->medium_type, 0x58);  // IBM: LTO-5 data cartridge
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 1)), sense(0x7, 0x30, 0x05)));
    EXPECT_TRUE(alert(t, 0x11));
    // st's MTSETBLK echoes the density it read: accepted for a medium the drive only reads.
    const Bytes select{0x00, 0x00, 0x10, 0x08, 0x58, 0, 0, 0, 0, 0x00, 0x04, 0x00};
    EXPECT_TRUE(IsGood(t.send(fixtures::mode_select6(true, false, uint8_t(select.size())), 0, select)));
    EXPECT_EQ(t.mode_sense(0x00)->block_descriptors[0].block_length, 1024u);
    // A density this drive cannot even read is refused, pointing at DENSITY CODE.
    Bytes lto8 = select;
    lto8[4] = 0x5E;
    EXPECT_TRUE(IsCheck(t.send(fixtures::mode_select6(true, false, uint8_t(lto8.size())), 0, lto8), invalid_param(4)));
    EXPECT_TRUE(IsStreamCheck(t.read(100), 0x8, 0x00, 0x05, 100));
}

TEST(SscProtection, SoftwareWriteProtectFromDeviceConfigurationPage) {
    LoadedDrive t;
    auto m = t.mode_sense(0x10);
    Bytes page = m->find(0x10)->bytes;
    page[0] &= 0x3F;
    page[10] |= 0x04;  // SWP
    Bytes list{0, 0, 0, 0, 0, 0, 0, 0};
    list.insert(list.end(), page.begin(), page.end());
    ASSERT_TRUE(IsGood(t.send(fixtures::mode_select10(true, false, uint16_t(list.size())), 0, list)));
    EXPECT_TRUE(t.mode_sense(0x10)->write_protected());
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 1)), sense(0x7, 0x27, 0x00)));
    list[8 + 10] &= ~0x04;
    ASSERT_TRUE(IsGood(t.send(fixtures::mode_select10(true, false, uint16_t(list.size())), 0, list)));
    EXPECT_TRUE(IsGood(t.write(pattern(100, 1))));
}

TEST(SscProtection, WormAppendsButNeverOverwrites) {
    LoadedDrive t({{"WORM01LY", 64u << 20}});
    const auto m = t.mode_sense(0x1D);
    ASSERT_TRUE(m->find(0x1D));
    EXPECT_EQ(m->find(0x1D)->bytes[2] & 0x01, 0x01);  // WORMM
    EXPECT_EQ(m->find(0x1D)->bytes[5], 0x02);         // WORM MODE FILEMARK RESTRICTIONS
    EXPECT_EQ(m->medium_type, 0x8C);                  // IBM: LTO-8 WORM cartridge

    // r r FM r FM FM EOD
    ASSERT_TRUE(IsGood(t.write(pattern(100, 1))));
    ASSERT_TRUE(IsGood(t.write(pattern(100, 2))));
    ASSERT_TRUE(IsGood(t.filemarks(1)));
    ASSERT_TRUE(IsGood(t.write(pattern(100, 3))));
    ASSERT_TRUE(IsGood(t.filemarks(2)));
    EXPECT_EQ(t.object(), 6u);

    // Overwriting a record: refused, nothing moves, TapeAlert 3Ch.
    ASSERT_TRUE(IsGood(t.send(locate10(1))));
    const ExpectedSense worm = sense(0x7, 0x30, 0x0C);
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 9)), worm));
    EXPECT_TRUE(IsCheck(t.filemarks(1), worm));
    EXPECT_TRUE(IsCheck(t.send(erase6()), worm));
    EXPECT_EQ(t.object(), 1u);
    EXPECT_TRUE(alert(t, 0x3C));
    // The first filemark of the trailing run (object 4) may not be overwritten; the one after
    // it may (LTO WORM MODE FILEMARK RESTRICTIONS 2).
    ASSERT_TRUE(IsGood(t.send(locate10(4))));
    EXPECT_TRUE(IsCheck(t.write(pattern(100, 9)), worm));
    ASSERT_TRUE(IsGood(t.send(locate10(5))));
    EXPECT_TRUE(IsGood(t.write(pattern(100, 10))));
    EXPECT_EQ(t.object(), 6u);
    // Appending at end of data is always allowed.
    EXPECT_TRUE(IsGood(t.write(pattern(100, 11))));
    // Everything written is still there.
    ASSERT_TRUE(IsGood(t.send(rewind())));
    EXPECT_EQ(t.read(100).data, pattern(100, 1));
    EXPECT_EQ(t.read(100).data, pattern(100, 2));
    // FORMAT MEDIUM of a WORM cartridge with data is an overwrite too.
    ASSERT_TRUE(IsGood(t.send(rewind())));
    EXPECT_TRUE(IsCheck(t.send(format_medium(0)), worm));
    // A READ ATTRIBUTE of MEDIUM TYPE says WORM (80h).
    const auto attr = t.send(read_attribute(0, 0, 0x0408, 64), 64);
    ASSERT_TRUE(IsGood(attr));
    // Attributes from 0408h on: MEDIUM TYPE (read-only, binary, 1 byte) and MEDIUM TYPE
    // INFORMATION.
    EXPECT_EQ(attr.data, (Bytes{0x00, 0x00, 0x00, 0x0D, 0x04, 0x08, 0x80, 0x00, 0x01, 0x80, 0x04, 0x09, 0x80, 0x00,
                                0x02, 0x00, 0x00}));
}
