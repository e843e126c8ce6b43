// CDB sizing by group code (as Linux's scsi_command_size) and the validating field reader.
#include <gtest/gtest.h>

#include "scsi/cdb.h"
#include "sense_view.h"

using vtl::scsi::cdb_length;
using vtl::scsi::CdbReader;
using vtl::scsi::SenseFormat;

TEST(CdbLength, ByGroupCode) {
    auto len = [](uint8_t op) { const uint8_t cdb[1] = {op}; return cdb_length(cdb); };
    EXPECT_EQ(len(0x00), 6u);   // TEST UNIT READY
    EXPECT_EQ(len(0x1F), 6u);
    EXPECT_EQ(len(0x28), 10u);  // group 1
    EXPECT_EQ(len(0x5A), 10u);  // group 2: MODE SENSE(10)
    EXPECT_EQ(len(0x60), 12u);  // group 3, sized 12 by Linux
    EXPECT_EQ(len(0x88), 16u);  // group 4
    EXPECT_EQ(len(0xA3), 12u);  // group 5: MAINTENANCE IN
    EXPECT_EQ(len(0xC5), 10u);  // vendor: our ASYNC MOVE MEDIUM
    EXPECT_EQ(len(0xE7), 10u);  // vendor: INITIALIZE ELEMENT STATUS WITH RANGE
    EXPECT_EQ(len(0xFF), 10u);
}

TEST(CdbLength, VariableLength) {
    std::vector<uint8_t> cdb(32, 0);
    cdb[0] = 0x7F;
    cdb[7] = 0x18;
    EXPECT_EQ(cdb_length(cdb), 32u);
    EXPECT_EQ(cdb_length(std::span(cdb).first(5)), 0u);  // ADDITIONAL CDB LENGTH not there yet
    EXPECT_EQ(cdb_length(std::span<const uint8_t>()), 0u);
}

TEST(CdbReader, FirstReservedViolationWinsWithHighestBit) {
    const uint8_t cdb[6] = {0x12, 0x06, 0x00, 0x00, 0x60, 0x00};
    CdbReader r(cdb);
    r.reserved(1, 0xFE).reserved(4, 0xFF);
    ASSERT_TRUE(r.error());
    auto v = vtl::fixtures::decode_sense(r.error()->encode(SenseFormat::Fixed));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->asc, 0x24);
    auto fp = v->field_pointer();
    ASSERT_TRUE(fp);
    EXPECT_EQ(fp->byte, 1);
    EXPECT_EQ(fp->bit, 2);  // 0x06 & 0xFE = 0x06: highest set bit is 2
    EXPECT_TRUE(fp->in_cdb);
}

TEST(CdbReader, FieldsAreBigEndian) {
    const uint8_t cdb[16] = {0x88, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xAB, 0xCD, 0xEF, 0x01, 0, 0};
    CdbReader r(cdb);
    EXPECT_EQ(r.be64(2), 0x0102030405060708ull);
    EXPECT_EQ(r.be32(10), 0xABCDEF01u);
    EXPECT_EQ(r.be24(10), 0xABCDEFu);
    EXPECT_EQ(r.be16(10), 0xABCDu);
    EXPECT_EQ(r.bits(10, 4, 4), 0xA);
    EXPECT_FALSE(r.error());
}

TEST(ControlByte, NacaAndLinkRefusedVendorBitsIgnored) {
    const uint8_t naca[6] = {0, 0, 0, 0, 0, 0x04};
    const uint8_t link[6] = {0, 0, 0, 0, 0, 0x01};
    const uint8_t vendor[6] = {0, 0, 0, 0, 0, 0xC0};  // mtx's eepos
    auto check = [](const uint8_t (&cdb)[6], int bit) {
        auto s = vtl::scsi::check_control_byte(cdb);
        ASSERT_TRUE(s);
        auto v = vtl::fixtures::decode_sense(s->encode(SenseFormat::Fixed));
        EXPECT_EQ(v->field_pointer()->byte, 5);
        EXPECT_EQ(v->field_pointer()->bit, bit);
    };
    check(naca, 2);
    check(link, 0);
    EXPECT_FALSE(vtl::scsi::check_control_byte(vendor));
}
