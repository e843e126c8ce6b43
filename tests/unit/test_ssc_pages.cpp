// Mode and log pages of the tape drive: the block descriptor and header st reads, the SSC
// pages hosts look for, compression on and off with the counters of log pages 1Bh and 32h,
// and the live log pages (0Ch, 11h, 17h, 2Eh, 31h).
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;

TEST(SscPages, StReadsBlockSizeAndWriteProtectFromModeSensePageZero) {
    LoadedDrive t;
    // st: MODE SENSE(6), page 0, allocation 12: header and one block descriptor.
    auto r = t.send(fixtures::mode_sense6(false, 0, 0x00, 0, 12), 12);
    ASSERT_TRUE(IsGood(r));
    EXPECT_EQ(r.data, (Bytes{0x0B, 0x88, 0x10, 0x08, 0x5E, 0, 0, 0, 0, 0x00, 0x00, 0x00}));
    ASSERT_TRUE(IsGood(t.set_block_length(0x10000)));
    r = t.send(fixtures::mode_sense6(false, 0, 0x00, 0, 12), 12);
    EXPECT_EQ(r.data, (Bytes{0x0B, 0x88, 0x10, 0x08, 0x5E, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
    // A block length beyond the 8 MiB limit is refused, pointing at the BLOCK LENGTH field.
    EXPECT_TRUE(IsCheck(t.set_block_length((8u << 20) + 1), invalid_param(4 + 5)));
    // Without a cartridge: density 0, no write protection, no medium type.
    DriveRig empty;
    r = empty.send(fixtures::mode_sense6(false, 0, 0x00, 0, 12), 12);
    EXPECT_EQ(r.data, (Bytes{0x0B, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x00}));
}

TEST(SscPages, EverySscPageIsThereWithItsLength) {
    LoadedDrive t;
    const auto m = t.mode_sense(0x3F, 0xFF);
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->truncated);
    struct Want {
        uint8_t code, subpage;
        size_t size;
    };
    for (const Want w : {Want{0x01, 0, 12}, Want{0x0A, 0, 12}, Want{0x0F, 0, 16}, Want{0x10, 0, 16},
                         Want{0x10, 0x01, 32}, Want{0x11, 0, 16}, Want{0x1C, 0, 12}, Want{0x1D, 0, 32}}) {
        SCOPED_TRACE(fmt::format("{:02X}h/{:02X}h", w.code, w.subpage));
        const auto* p = m->find(w.code, w.subpage);
        ASSERT_TRUE(p);
        EXPECT_EQ(p->bytes.size(), w.size);
    }
    // Data compression: DCE on by default, DCC, DDE, algorithm 1 both ways.
    EXPECT_EQ(m->find(0x0F)->bytes,
              (Bytes{0x8F, 0x0E, 0xC0, 0x80, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}));
    // Device configuration: LOIS, EEG+SEW, compression selected, active partition 0.
    const auto& dc = m->find(0x10)->bytes;
    EXPECT_EQ(dc[8], 0x40);
    EXPECT_EQ(dc[10], 0x18);
    EXPECT_EQ(dc[14], 0x01);
    // Medium configuration of a rewritable cartridge: WORMM 0.
    EXPECT_EQ(m->find(0x1D)->bytes[2], 0x00);
    // The whole set fits MODE SENSE(6).
    const auto six = t.send(fixtures::mode_sense6(false, 0, 0x3F, 0, 255), 255);
    ASSERT_TRUE(IsGood(six));
    EXPECT_EQ(size_t(six.data[0]) + 1, six.data.size());
}

namespace {

Response select_compression(DriveRig& t, bool on) {
    Bytes list{0, 0, 0, 0, 0x0F, 0x0E, uint8_t(on ? 0xC0 : 0x40), 0x80, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
    return t.send(fixtures::mode_select6(true, false, uint8_t(list.size())), 0, list);
}

}  // namespace

TEST(SscPages, CompressionOnAndOffWithHonestCounters) {
    LoadedDrive t;
    const Bytes zeros(64 * 1024, 0);  // compresses very well
    const Bytes noise = pattern(64 * 1024, 5);
    ASSERT_TRUE(IsGood(t.write(zeros)));
    auto c = t.log_page(0x1B);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->uint_param(0x0100), 1u);           // compression enabled
    EXPECT_EQ(c->uint_param(0x0007), 64u * 1024);   // bytes from host (below a MiB)
    const uint64_t stored = *c->uint_param(0x0009);  // bytes written to the medium
    EXPECT_LT(stored, 64u * 1024 / 10);
    EXPECT_GT(*c->uint_param(0x0001), 1000u);       // write compression ratio x100

    ASSERT_TRUE(IsGood(select_compression(t, false)));
    EXPECT_EQ(t.mode_sense(0x10)->find(0x10)->bytes[14], 0x00) << "page 10h follows DCE";
    ASSERT_TRUE(IsGood(t.write(zeros)));
    c = t.log_page(0x32);  // IBM's page: the same counters, no 0100h
    EXPECT_EQ(c->uint_param(0x0007), 2u * 64 * 1024);
    EXPECT_EQ(c->uint_param(0x0009), stored + 64 * 1024) << "stored as it came";
    EXPECT_FALSE(c->find(0x0100));
    ASSERT_TRUE(IsGood(select_compression(t, true)));
    ASSERT_TRUE(IsGood(t.write(noise)));  // incompressible: stored as it came even with DCE
    c = t.log_page(0x1B);
    EXPECT_EQ(c->uint_param(0x0009), stored + 2 * 64 * 1024);

    // Reading back: bytes to the host and from the medium.
    ASSERT_TRUE(IsGood(t.send(rewind())));
    EXPECT_EQ(t.read(64 * 1024).data, zeros);
    c = t.log_page(0x1B);
    EXPECT_EQ(c->uint_param(0x0003), 64u * 1024);
    EXPECT_EQ(c->uint_param(0x0005), stored);
    // LOG SELECT with PCR resets them.
    ASSERT_TRUE(IsGood(t.send(fixtures::log_select(true, false, 1, 0, 0, 0))));
    c = t.log_page(0x1B);
    EXPECT_EQ(c->uint_param(0x0003), 0u);
    EXPECT_EQ(c->uint_param(0x0007), 0u);
}

TEST(SscPages, LogPagesCarryLiveValues) {
    LoadedDrive t;
    ASSERT_TRUE(IsGood(select_compression(t, false)));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(IsGood(t.write(pattern(1000, i))));
    ASSERT_TRUE(IsGood(t.filemarks(1)));

    const auto supported = t.send(fixtures::log_sense(false, false, 1, 0x00, 0, 0, 0xFF), 0xFF);
    const auto list = fixtures::decode_log_page(supported.data);
    EXPECT_EQ(list->supported_pages, (Bytes{0x00, 0x02, 0x03, 0x0C, 0x0D, 0x11, 0x17, 0x1B, 0x2E, 0x31, 0x32}));

    const auto seq = t.log_page(0x0C);
    EXPECT_EQ(seq->uint_param(0x0000), 3000u);
    EXPECT_EQ(seq->uint_param(0x0001), 3000u);
    EXPECT_EQ(seq->uint_param(0x0100), 0u);
    const auto writes = t.log_page(0x02);
    EXPECT_EQ(writes->uint_param(0x0005), 3000u);
    EXPECT_EQ(writes->uint_param(0x0006), 0u);

    const auto vol = t.log_page(0x17);
    EXPECT_EQ(vol->uint_param(0x0000), 1u);
    EXPECT_EQ(vol->uint_param(0x0001), 1u);  // first mount of this cartridge
    EXPECT_EQ(vol->uint_param(0x0002), 3u);
    const auto* serial = vol->find(0x0040);
    ASSERT_TRUE(serial);
    EXPECT_EQ(std::string(serial->value.begin(), serial->value.begin() + 8), "VTL001L8");
    // Partition records as LTFS parses them: length 7, reserved, partition, 4-byte MB value.
    const auto* caps = vol->find(0x0202);
    ASSERT_TRUE(caps);
    EXPECT_EQ(caps->value, (Bytes{0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 67}));  // 64 MiB = 67 MB

    const auto cap = t.log_page(0x31);
    EXPECT_EQ(cap->uint_param(0x0003), 64u);
    EXPECT_EQ(cap->uint_param(0x0001), (64u * 1024 * 1024 - 3000) >> 20);
    EXPECT_EQ(cap->uint_param(0x0002), 0u);

    const auto status = t.log_page(0x11);
    const auto* vhf = status->find(0x0000);
    ASSERT_TRUE(vhf);
    EXPECT_EQ(vhf->value, (Bytes{0x21, 0x17, 0x00, 0x00}));  // MACC, DINIT; MPRSNT, MSTD, MTHRD, MOUNTED

    // Error counters after a medium error would count it; here, reads are clean.
    ASSERT_TRUE(IsGood(t.send(rewind())));
    ASSERT_TRUE(IsGood(t.read(1000)));
    EXPECT_EQ(t.log_page(0x03)->uint_param(0x0005), 1000u);
}

TEST(SscPages, TapeAlertCleaningFlagsFollowTheDrive) {
    DriveRig t({{"VTL001L8", 64u << 20}, {"CLN001CU"}});
    t.drive().require_cleaning();
    auto ta = t.log_page(0x2E);
    ASSERT_TRUE(ta);
    EXPECT_EQ(ta->parameters.size(), 64u);
    EXPECT_EQ(ta->uint_param(0x14), 1u);
    EXPECT_EQ(t.log_page(0x2E)->uint_param(0x14), 1u) << "a condition stays until it is dealt with";
    EXPECT_EQ(t.log_page(0x0C)->uint_param(0x0100), 1u);
    // The cleaning cartridge runs its cycle and is ejected; the flag clears.
    ASSERT_FALSE(t.move(t.slot(2), t.drive_address()));
    for (int i = 0; i < 10 && t.drive().state() != DriveMechanism::State::Ejected; ++i) {
        t.clock().advance(std::chrono::seconds(1));
    }
    EXPECT_EQ(t.drive().state(), DriveMechanism::State::Ejected);
    EXPECT_EQ(t.log_page(0x2E)->uint_param(0x14), 0u);
}
