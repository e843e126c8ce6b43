// What the drive says about itself: READ BLOCK LIMITS, REPORT DENSITY SUPPORT (golden bytes
// from the SSC-4 descriptor tables), READ MEDIA SERIAL NUMBER, INQUIRY revision per model, the
// SSC VPD pages and the commands REPORT SUPPORTED OPERATION CODES lists.
#include "inquiry_view.h"
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;

namespace {

// One 52-byte density support descriptor (SSC-4 table "Density support descriptor").
Bytes density(uint8_t code, uint8_t flags, uint32_t bits_per_mm, uint16_t tracks, uint32_t capacity_mb,
              std::string_view name, std::string_view description) {
    Bytes d{code, code, flags, 0x00, 0x34, uint8_t(bits_per_mm >> 16), uint8_t(bits_per_mm >> 8), uint8_t(bits_per_mm),
            0x00, 0x7F, uint8_t(tracks >> 8), uint8_t(tracks), uint8_t(capacity_mb >> 24), uint8_t(capacity_mb >> 16),
            uint8_t(capacity_mb >> 8), uint8_t(capacity_mb)};
    const Bytes org = ascii("LTO-CVE", 8), n = ascii(name, 8), desc = ascii(description, 20);
    d.insert(d.end(), org.begin(), org.end());
    d.insert(d.end(), n.begin(), n.end());
    d.insert(d.end(), desc.begin(), desc.end());
    return d;
}

constexpr uint8_t kWrtok = 0x80, kDeflt = 0x20, kDlv = 0x01;

}  // namespace

TEST(SscIdentification, ReadBlockLimitsTellsTheTruth) {
    DriveRig t;
    const auto r = t.send(read_block_limits(), 6);
    ASSERT_TRUE(IsGood(r));
    // Granularity 0, maximum 8 MiB (800000h), minimum 1.
    EXPECT_EQ(r.data, (Bytes{0x00, 0x80, 0x00, 0x00, 0x00, 0x01}));
    const auto mloi = t.send(read_block_limits(true), 20);
    ASSERT_TRUE(IsGood(mloi));
    EXPECT_EQ(mloi.data.size(), 20u);
    EXPECT_EQ(Bytes(mloi.data.begin() + 12, mloi.data.end()), Bytes(8, 0xFF));
    EXPECT_TRUE(IsCheck(t.send({0x05, 0x02, 0, 0, 0, 0}, 6), invalid_cdb(1, 1)));
}

TEST(SscIdentification, ReportDensitySupportGoldenBytes) {
    DriveRig t;  // ULT3580-TD8: reads and writes LTO-7, M8 and LTO-8
    const auto r = t.send(report_density_support(false, false, 0xFFFF), 0xFFFF);
    ASSERT_TRUE(IsGood(r));
    const Bytes expected = testsupport::concat({
        {0x00, 0x9E, 0x00, 0x00},
        density(0x5C, kWrtok | kDlv, 19107, 3584, 6'000'000, "U-732", "Ultrium 7/32T"),
        density(0x5D, kWrtok | kDlv, 19107, 5376, 9'000'000, "U-732M", "Ultrium M8/32T"),
        density(0x5E, kWrtok | kDeflt | kDlv, 20668, 6656, 12'000'000, "U-832", "Ultrium 8/32T"),
    });
    EXPECT_EQ(r.data, expected);
    // The allocation length cuts; the available length still says how much there is.
    const auto cut = t.send(report_density_support(false, false, 8), 8);
    EXPECT_EQ(cut.data, (Bytes{0x00, 0x9E, 0x00, 0x00, 0x5C, 0x5C, 0x81, 0x00}));
    // MEDIA=1 without a cartridge.
    EXPECT_TRUE(IsCheck(t.send(report_density_support(true, false, 0xFFFF), 0xFFFF), sense(0x2, 0x3A, 0x00)));

    // An LTO-7 drive reads three generations back to LTO-5 and writes LTO-6 and LTO-7.
    DriveRig seven({}, "ULT3580-TD7");
    const auto s = seven.send(report_density_support(false, false, 0xFFFF), 0xFFFF);
    ASSERT_EQ(s.data.size(), 4u + 3 * 52);
    EXPECT_EQ(s.data[4], 0x58);
    EXPECT_EQ(s.data[6], kDlv);  // LTO-5: read only
    EXPECT_EQ(s.data[4 + 52], 0x5A);
    EXPECT_EQ(s.data[6 + 52], kWrtok | kDlv);
    EXPECT_EQ(s.data[4 + 104], 0x5C);
    EXPECT_EQ(s.data[6 + 104], kWrtok | kDeflt | kDlv);
}

TEST(SscIdentification, ReportDensitySupportOfTheMountedMedium) {
    LoadedDrive t;  // a 64 MiB LTO-8 cartridge
    const auto r = t.send(report_density_support(true, false, 0xFFFF), 0xFFFF);
    ASSERT_TRUE(IsGood(r));
    EXPECT_EQ(r.data, testsupport::concat({{0x00, 0x36, 0x00, 0x00},
                                           density(0x5E, kWrtok | kDeflt | kDlv, 20668, 6656, 67, "U-832",
                                                   "Ultrium 8/32T")}));
    // Medium type descriptors: the LTO-8 data cartridge, its density, width and length.
    const auto m = t.send(report_density_support(true, true, 0xFFFF), 0xFFFF);
    ASSERT_TRUE(IsGood(m));
    Bytes expected{0x00, 0x3A, 0x00, 0x00, 0x88, 0x00, 0x00, 0x34, 0x01, 0x5E, 0, 0, 0, 0, 0, 0, 0, 0,
                   0x00, 0x7F, 0x03, 0xC0, 0x00, 0x00};
    for (const auto& part : {ascii("LTO-CVE", 8), ascii("LTO-8", 8), ascii("Ultrium 8 data", 20)}) {
        expected.insert(expected.end(), part.begin(), part.end());
    }
    EXPECT_EQ(m.data, expected);
}

TEST(SscIdentification, MediaSerialNumberIsTheVolumeSerial) {
    LoadedDrive t;
    const auto r = t.send(read_media_serial_number(64), 64);
    ASSERT_TRUE(IsGood(r));
    EXPECT_EQ(r.data, testsupport::concat({{0x00, 0x00, 0x00, 0x08}, ascii("VTL001L8", 8)}));
    DriveRig empty;
    EXPECT_TRUE(IsCheck(empty.send(read_media_serial_number(64), 64), sense(0x2, 0x3A, 0x00)));
}

TEST(SscIdentification, InquiryRevisionAndVpdPagesByModel) {
    for (const auto& [model, vendor, revision] :
         std::vector<std::tuple<std::string, std::string, std::string>>{{"ULT3580-TD8", "IBM     ", "N9M1"},
                                                                        {"ULT3580-HH5", "IBM     ", "H976"},
                                                                        {"Ultrium 9-SCSI", "HP      ", "K3DW"}}) {
        SCOPED_TRACE(model);
        DriveRig t({}, model);
        const auto r = t.send(fixtures::inquiry(), 96);
        ASSERT_TRUE(IsGood(r));
        EXPECT_EQ(std::string(r.data.begin() + 8, r.data.begin() + 16), vendor);
        EXPECT_EQ(std::string(r.data.begin() + 32, r.data.begin() + 36), revision);
        EXPECT_EQ(r.data[0], 0x01);  // sequential-access device
        EXPECT_EQ(r.data[1], 0x80);  // removable
    }
    DriveRig t;
    const auto pages = t.send(fixtures::inquiry(true, 0x00, 0xFF), 0xFF);
    EXPECT_EQ(Bytes(pages.data.begin() + 4, pages.data.end()), (Bytes{0x00, 0x80, 0x83, 0x86, 0xB0, 0xB1, 0xB2}));
    EXPECT_EQ(t.send(fixtures::inquiry(true, 0xB0, 0xFF), 0xFF).data, (Bytes{0x01, 0xB0, 0x00, 0x02, 0x01, 0x00}));
    EXPECT_EQ(t.send(fixtures::inquiry(true, 0xB1, 0xFF), 0xFF).data,
              testsupport::concat({{0x01, 0xB1, 0x00, 0x0A}, ascii("1013000042", 10)}));
    // B2h: flags 01h-06h, 09h, 0Ch, 11h, 14h-16h, 3Ch.
    EXPECT_EQ(t.send(fixtures::inquiry(true, 0xB2, 0xFF), 0xFF).data,
              (Bytes{0x01, 0xB2, 0x00, 0x08, 0xFC, 0x90, 0x9C, 0x00, 0x00, 0x00, 0x00, 0x10}));
    const auto serial = t.send(fixtures::inquiry(true, 0x80, 0xFF), 0xFF);
    EXPECT_EQ(std::string(serial.data.begin() + 4, serial.data.end()), "1013000042");
}

TEST(SscIdentification, SupportedOperationCodesListTheSscCommands) {
    DriveRig t;
    for (auto [opcode, sa] : std::vector<std::pair<uint8_t, int>>{{0x01, -1}, {0x04, -1}, {0x05, -1}, {0x08, -1},
                                                                    {0x0A, -1}, {0x0B, -1}, {0x10, -1}, {0x11, -1},
                                                                    {0x13, -1}, {0x19, -1}, {0x1B, -1}, {0x2B, -1},
                                                                    {0x34, -1}, {0x44, -1}, {0x82, -1}, {0x8C, -1},
                                                                    {0x8D, -1}, {0x91, -1}, {0x92, -1}, {0xAB, 0x01}}) {
        SCOPED_TRACE(fmt::format("{:02X}h", opcode));
        const auto r = t.send(fixtures::rsoc(true, sa < 0 ? 1 : 2, opcode, uint16_t(sa < 0 ? 0 : sa), 0xFFFF), 0xFFFF);
        ASSERT_TRUE(IsGood(r));
        EXPECT_EQ(r.data[1] & 0x07, 0x03) << "supported";
        EXPECT_EQ(r.data[1] & 0x80, 0x80) << "timeouts descriptor follows";
    }
}
