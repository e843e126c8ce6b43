// Sense data layouts, byte for byte, from SPC-4 4.5.2 (descriptor) and 4.5.3 (fixed).
#include <gtest/gtest.h>

#include <cstdint>

#include "scsi/sense.h"
#include "sense_view.h"

using vtl::scsi::Sense;
using vtl::scsi::SenseFormat;
using vtl::scsi::SenseKey;
namespace asc = vtl::scsi::asc;
using Bytes = std::vector<uint8_t>;

TEST(SenseFixed, InvalidFieldInCdbWithBitPointer) {
    // 05/24/00, SKSV=1, C/D=1, BPV=1, bit 4 of CDB byte 1.
    const Bytes expected = {0x70, 0, 0x05, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x24, 0x00, 0, 0xCC, 0x00, 0x01};
    EXPECT_EQ(Sense::invalid_cdb_field(1, 4).encode(SenseFormat::Fixed), expected);
}

TEST(SenseFixed, InvalidFieldInParameterListWholeByte) {
    // C/D=0 (parameter list), BPV=0: field pointer 0x0102.
    const Bytes expected = {0x70, 0, 0x05, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x26, 0x00, 0, 0x80, 0x01, 0x02};
    EXPECT_EQ(Sense::invalid_parameter_field(0x0102).encode(SenseFormat::Fixed), expected);
}

TEST(SenseFixed, FilemarkWithResidual) {
    // What st expects after reading a filemark: VALID, FILEMARK, 00/01, INFORMATION = residual.
    auto s = Sense(SenseKey::NoSense, asc::kFilemarkDetected).filemark().information(0x00012345);
    const Bytes expected = {0xF0, 0, 0x80, 0x00, 0x01, 0x23, 0x45, 0x0A, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0};
    EXPECT_EQ(s.encode(SenseFormat::Fixed), expected);
}

TEST(SenseFixed, EomAndIliBitsAndDeferred) {
    auto s = Sense(SenseKey::VolumeOverflow, asc::kEndOfPartitionMediumDetected).eom().ili().deferred();
    const auto b = s.encode(SenseFormat::Fixed);
    EXPECT_EQ(b[0], 0x71);  // deferred, VALID=0 (no information)
    EXPECT_EQ(b[2], 0x40 | 0x20 | 0x0D);
    EXPECT_EQ(b[12], 0x00);
    EXPECT_EQ(b[13], 0x02);
}

TEST(SenseFixed, InformationTooWideClearsValid) {
    auto b = Sense(SenseKey::MediumError, {0x11, 0x00}).information(0x1'0000'0000ull).encode(SenseFormat::Fixed);
    EXPECT_EQ(b[0], 0x70);
    EXPECT_EQ(Bytes(b.begin() + 3, b.begin() + 7), Bytes(4, 0));
}

TEST(SenseFixed, SignedInformationIsTwosComplementIn32Bits) {
    // A record 400 bytes longer than the READ asked for: INFORMATION -400.
    auto b = Sense::no_sense().ili().information_signed(-400).encode(SenseFormat::Fixed);
    const Bytes expected = {0xF0, 0, 0x20, 0xFF, 0xFF, 0xFE, 0x70, 0x0A, 0, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 0};
    EXPECT_EQ(b, expected);
    // The ends of the 32-bit range are VALID; one past them is not.
    b = Sense::no_sense().information_signed(INT32_MIN).encode(SenseFormat::Fixed);
    EXPECT_EQ(b[0], 0xF0);
    EXPECT_EQ(Bytes(b.begin() + 3, b.begin() + 7), (Bytes{0x80, 0x00, 0x00, 0x00}));
    b = Sense::no_sense().information_signed(INT32_MAX).encode(SenseFormat::Fixed);
    EXPECT_EQ(Bytes(b.begin() + 3, b.begin() + 7), (Bytes{0x7F, 0xFF, 0xFF, 0xFF}));
    b = Sense::no_sense().information_signed(int64_t(INT32_MIN) - 1).encode(SenseFormat::Fixed);
    EXPECT_EQ(b[0], 0x70);
    EXPECT_EQ(Bytes(b.begin() + 3, b.begin() + 7), Bytes(4, 0));
    // A positive signed value is the same as the unsigned one.
    EXPECT_EQ(Sense::no_sense().information_signed(3096).encode(SenseFormat::Fixed),
              Sense::no_sense().information(3096).encode(SenseFormat::Fixed));
}

TEST(SenseFixed, ProgressIndication) {
    auto b = Sense::not_ready(asc::kOperationInProgress).progress(0x8000).information(7).encode(SenseFormat::Fixed);
    const Bytes expected = {0xF0, 0, 0x02, 0, 0, 0, 7, 0x0A, 0, 0, 0, 0, 0x04, 0x07, 0, 0x80, 0x80, 0x00};
    EXPECT_EQ(b, expected);
}

TEST(SenseDescriptor, HeaderOnly) {
    const Bytes expected = {0x72, 0x06, 0x29, 0x00, 0, 0, 0, 0};
    EXPECT_EQ(Sense::unit_attention(asc::kPowerOnResetOccurred).encode(SenseFormat::Descriptor), expected);
}

TEST(SenseDescriptor, InformationKeySpecificAndStreamCommands) {
    auto s = Sense(SenseKey::NoSense, asc::kFilemarkDetected).filemark().information(0x1122334455667788ull);
    const Bytes expected = {0x72, 0x00, 0x00, 0x01, 0, 0, 0, 16,
                            // information descriptor, VALID
                            0x00, 0x0A, 0x80, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                            // stream commands descriptor, FILEMARK
                            0x04, 0x02, 0x00, 0x80};
    EXPECT_EQ(s.encode(SenseFormat::Descriptor), expected);

    auto fp = Sense::invalid_cdb_field(9, 0).encode(SenseFormat::Descriptor);
    const Bytes expected_fp = {0x72, 0x05, 0x24, 0x00, 0, 0, 0, 8, 0x02, 0x06, 0, 0, 0xC8, 0x00, 0x09, 0x00};
    EXPECT_EQ(fp, expected_fp);
}

TEST(SenseDescriptor, SignedInformationIsSignExtendedTo64Bits) {
    auto s = Sense::no_sense().ili().information_signed(-400);
    const Bytes expected = {0x72, 0x00, 0x00, 0x00, 0,    0,    0,    16,   0x00, 0x0A, 0x80, 0x00,
                            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0x70, 0x04, 0x02, 0x00, 0x20};
    EXPECT_EQ(s.encode(SenseFormat::Descriptor), expected);
    EXPECT_EQ(s.information(), 0xFFFFFFFFFFFFFE70ull);
    // Beyond 32 bits the descriptor still carries it exactly.
    auto wide = Sense::no_sense().information_signed(-(int64_t(1) << 40)).encode(SenseFormat::Descriptor);
    EXPECT_EQ(Bytes(wide.begin() + 12, wide.begin() + 20), (Bytes{0xFF, 0xFF, 0xFF, 0x00, 0, 0, 0, 0}));
    // information() after information_signed() is unsigned again.
    auto u = Sense::no_sense().information_signed(-1).information(0xFFFFFFFFu).encode(SenseFormat::Fixed);
    EXPECT_EQ(u[0], 0xF0);
}

TEST(SenseView, DecodesBothFormatsAlike) {
    auto s = Sense(SenseKey::BlankCheck, asc::kEndOfDataDetected).information(42).eom();
    for (auto format : {SenseFormat::Fixed, SenseFormat::Descriptor}) {
        auto v = vtl::fixtures::decode_sense(s.encode(format));
        ASSERT_TRUE(v);
        EXPECT_EQ(v->key, 0x08);
        EXPECT_EQ(v->asc, 0x00);
        EXPECT_EQ(v->ascq, 0x05);
        EXPECT_EQ(v->information, 42u);
        EXPECT_TRUE(v->eom);
        EXPECT_FALSE(v->filemark);
        EXPECT_EQ(v->descriptor(), format == SenseFormat::Descriptor);
    }
}
