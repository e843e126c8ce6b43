// INQUIRY standard data (SPC-4 6.6.2) and VPD pages 00h, 80h, 83h, 86h (SPC-4 7.8), byte for
// byte, plus CDB validation and allocation length handling.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string_view>

#include "core/logical_unit.h"
#include "core/virtual_clock.h"
#include "device/identity.h"
#include "device/medium_changer.h"
#include "device/tape_drive.h"
#include "initiator.h"
#include "sense_view.h"
#include "support.h"

namespace {

using namespace vtl::testsupport;

using Bytes = std::vector<uint8_t>;
using vtl::fixtures::Initiator;
using vtl::fixtures::Response;
using vtl::scsi::Status;

Bytes ascii(std::string_view s) { return Bytes(s.begin(), s.end()); }

vtl::DeviceIdentity drive_identity() {
    vtl::DeviceIdentity id;
    id.vendor = "VTLEMU";
    id.product = "LTO-9 DRIVE";
    id.revision = "0100";
    id.serial = "DRV0000001";
    id.naa = 0x5000C50012345678ull;
    id.version_descriptors = {vtl::version::kSam5, vtl::version::kSpc4, vtl::version::kSsc4};
    return id;
}

vtl::DeviceIdentity changer_identity() {
    vtl::DeviceIdentity id;
    id.removable = false;
    id.vendor = "VTLEMU";
    id.product = "TAPE LIBRARY";
    id.revision = "0200";
    id.serial = "LIB0000001";
    id.naa = 0x5000C500ABCDEF01ull;
    id.version_descriptors = {vtl::version::kSam5, vtl::version::kSpc4, vtl::version::kSmc3};
    return id;
}

Bytes inquiry_cdb(bool evpd, uint8_t page, uint16_t allocation_length) {
    return {0x12, uint8_t(evpd ? 0x01 : 0x00), page, uint8_t(allocation_length >> 8), uint8_t(allocation_length), 0};
}

// SPC-4 table 142, for the drive identity above.
const Bytes kDriveStandard = concat({
    {0x01,         // qualifier 000b, sequential-access device
     0x80,         // RMB
     0x06,         // VERSION: SPC-4
     0x12,         // HISUP, RESPONSE DATA FORMAT 2
     91,           // ADDITIONAL LENGTH
     0x00, 0x00,   // SCCS..PROTECT; ENCSERV..ADDR16 (MULTIP=0, MCHNGR=0)
     0x02},        // CMDQUE
    ascii("VTLEMU  "),
    ascii("LTO-9 DRIVE     "),
    ascii("0100"),
    ascii("                    "),                // vendor specific, 20 bytes
    {0x00, 0x00},                                 // CLOCKING/QAS/IUS, reserved
    {0x00, 0xA0, 0x04, 0x60, 0x05, 0x20,          // SAM-5, SPC-4, SSC-4
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0},               // five unused descriptors
    Bytes(22, 0),                                 // bytes 74-95 reserved
});

class Inquiry : public ::testing::Test {
protected:
    vtl::VirtualClock clock;
    vtl::LogicalUnit lu{"lib0/drive0", clock, std::make_unique<vtl::TapeDrive>(drive_identity())};
    Initiator host{lu, clock};
};

TEST_F(Inquiry, StandardDataGolden) {
    ASSERT_EQ(kDriveStandard.size(), 96u);
    auto r = host.send(inquiry_cdb(false, 0, 96), 200);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, kDriveStandard);
    EXPECT_EQ(r.residual, 200u - 96u);
    EXPECT_FALSE(r.overflow);
}

TEST_F(Inquiry, ChangerStandardData) {
    vtl::LogicalUnit changer("lib0/changer", clock, std::make_unique<vtl::MediumChanger>(changer_identity()));
    Initiator h(changer, clock);
    const Bytes expected = concat({
        {0x08, 0x00, 0x06, 0x12, 91, 0x00, 0x00, 0x02},  // medium changer, not removable, MCHNGR=0
        ascii("VTLEMU  "),
        ascii("TAPE LIBRARY    "),
        ascii("0200"),
        ascii("                    "),
        {0x00, 0x00},
        {0x00, 0xA0, 0x04, 0x60, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},  // SAM-5, SPC-4, SMC-3
        Bytes(22, 0),
    });
    auto r = h.send(inquiry_cdb(false, 0, 255), 255);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, expected);
}

TEST_F(Inquiry, FieldsTruncatedAndAtMostEightVersionDescriptors) {
    auto id = drive_identity();
    id.vendor = "VENDORNAME";                   // 10 characters: cut to 8
    id.product = "A PRODUCT NAME THAT IS LONG";  // cut to 16
    id.revision = "123456";                     // cut to 4
    id.version_descriptors = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    vtl::LogicalUnit unit("lib0/drive1", clock, std::make_unique<vtl::TapeDrive>(id));
    Initiator h(unit, clock);
    auto r = h.send(inquiry_cdb(false, 0, 96), 96);
    ASSERT_EQ(r.data.size(), 96u);
    EXPECT_EQ(Bytes(r.data.begin() + 8, r.data.begin() + 36), ascii("VENDORNAA PRODUCT NAME T1234"));
    const Bytes descriptors = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8};
    EXPECT_EQ(Bytes(r.data.begin() + 58, r.data.begin() + 74), descriptors);
    EXPECT_EQ(Bytes(r.data.begin() + 74, r.data.end()), Bytes(22, 0));
}

TEST_F(Inquiry, AllocationLengthHonoured) {
    for (uint32_t alloc : {0u, 1u, 5u, 35u, 37u, 95u, 255u, 65535u}) {
        SCOPED_TRACE(alloc);
        auto r = host.send(inquiry_cdb(false, 0, uint16_t(alloc)), 65535);
        ASSERT_EQ(r.status, Status::Good);
        const size_t n = std::min<size_t>(alloc, 96);
        EXPECT_EQ(r.data, Bytes(kDriveStandard.begin(), kDriveStandard.begin() + n));
        EXPECT_EQ(r.residual, 65535u - n);
        EXPECT_FALSE(r.overflow);
    }
}

TEST_F(Inquiry, DataInBufferSmallerThanAllocationLength) {
    auto r = host.send(inquiry_cdb(false, 0, 96), 36);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, Bytes(kDriveStandard.begin(), kDriveStandard.begin() + 36));
    EXPECT_EQ(r.residual, 0u);
    EXPECT_TRUE(r.overflow);

    r = host.send(inquiry_cdb(false, 0, 5), 0);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_TRUE(r.data.empty());
    EXPECT_TRUE(r.overflow);
}

TEST_F(Inquiry, RunsWithUnitAttentionPendingAndLeavesIt) {
    auto r = host.send(inquiry_cdb(false, 0, 96), 96);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, kDriveStandard);
    EXPECT_TRUE(IsCheck(host.send({0x00, 0, 0, 0, 0, 0}), sense(0x06, 0x29, 0x00)));
    EXPECT_TRUE(IsCheck(host.send({0x00, 0, 0, 0, 0, 0}), sense(0x02, 0x3A, 0x00)));
}

TEST_F(Inquiry, ReservedBitsOfByte1) {
    host.clear_power_on_attention();
    for (int bit = 2; bit < 8; ++bit) {
        SCOPED_TRACE(bit);
        EXPECT_TRUE(IsCheck(host.send({0x12, uint8_t(1u << bit), 0, 0, 96, 0}, 96), invalid_cdb(1, bit)));
    }
    EXPECT_TRUE(IsCheck(host.send({0x12, 0x02, 0, 0, 96, 0}, 96), invalid_cdb(1, 1)));  // CMDDT
    EXPECT_TRUE(IsCheck(host.send({0x12, 0x03, 0, 0, 96, 0}, 96), invalid_cdb(1, 1)));  // CMDDT with EVPD
    EXPECT_TRUE(IsCheck(host.send({0x12, 0x86, 0, 0, 96, 0}, 96), invalid_cdb(1, 7)));  // highest bit wins
}

TEST_F(Inquiry, PageCodeWithoutEvpd) {
    EXPECT_TRUE(IsCheck(host.send(inquiry_cdb(false, 0x80, 96), 96), invalid_cdb(2, -1)));
    EXPECT_TRUE(IsCheck(host.send(inquiry_cdb(false, 0x01, 96), 96), invalid_cdb(2, -1)));
}

TEST_F(Inquiry, UnknownVpdPage) {
    for (uint8_t page : {0x01, 0x81, 0x87, 0xB0, 0xFF}) {
        SCOPED_TRACE(int(page));
        EXPECT_TRUE(IsCheck(host.send(inquiry_cdb(true, page, 255), 255), invalid_cdb(2, -1)));
    }
}

TEST_F(Inquiry, NacaInControlByteRefused) {
    EXPECT_TRUE(IsCheck(host.send({0x12, 0, 0, 0, 96, 0x04}, 96), invalid_cdb(5, 2)));
}

TEST_F(Inquiry, AllowedWhileAnotherNexusHoldsAReservation) {
    Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    ASSERT_EQ(other.send({0x16, 0, 0, 0, 0, 0}).status, Status::Good);
    auto r = host.send(inquiry_cdb(false, 0, 96), 96);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, kDriveStandard);
    EXPECT_EQ(host.send(inquiry_cdb(true, 0x83, 255), 255).status, Status::Good);
}

TEST_F(Inquiry, Registration) {
    const vtl::CommandInfo* info = lu.commands().find(0x12, std::nullopt);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->usage, (Bytes{0x12, 0x01, 0xFF, 0xFF, 0xFF, 0x07}));
    EXPECT_EQ(info->queueing, vtl::Queueing::Immediate);
    EXPECT_EQ(info->unit_attention, vtl::UnitAttentionRule::Ignore);
    ASSERT_TRUE(info->allowed_when_reserved);
    EXPECT_GT(info->nominal_timeout_s, 0u);
    EXPECT_GE(info->recommended_timeout_s, info->nominal_timeout_s);
}

class Vpd : public Inquiry {};

Bytes vpd(Initiator& h, uint8_t page) {
    auto r = h.send(inquiry_cdb(true, page, 0xFFFF), 0xFFFF);
    EXPECT_EQ(r.status, Status::Good) << "page " << int(page);
    return r.data;
}

TEST_F(Vpd, SupportedPages) {
    EXPECT_EQ(vpd(host, 0x00), (Bytes{0x01, 0x00, 0x00, 0x04, 0x00, 0x80, 0x83, 0x86}));
}

TEST_F(Vpd, SupportedPagesFollowPagesADeviceAdds) {
    lu.vpd_pages().add(0xB0, [](const vtl::Nexus&) { return Bytes{0x00, 0x01}; });
    EXPECT_EQ(vpd(host, 0x00), (Bytes{0x01, 0x00, 0x00, 0x05, 0x00, 0x80, 0x83, 0x86, 0xB0}));
    EXPECT_EQ(vpd(host, 0xB0), (Bytes{0x01, 0xB0, 0x00, 0x02, 0x00, 0x01}));
}

TEST_F(Vpd, UnitSerialNumber) {
    EXPECT_EQ(vpd(host, 0x80), concat({{0x01, 0x80, 0x00, 0x0A}, ascii("DRV0000001")}));
}

TEST_F(Vpd, UnitSerialNumberMissingIsSpaces) {
    auto id = drive_identity();
    id.serial.clear();
    vtl::LogicalUnit unit("lib0/drive1", clock, std::make_unique<vtl::TapeDrive>(id));
    Initiator h(unit, clock);
    EXPECT_EQ(vpd(h, 0x80), concat({{0x01, 0x80, 0x00, 0x08}, ascii("        ")}));
}

// The two logical unit designators every variant of page 83h starts with.
const Bytes kLuDesignators = concat({
    {0x01, 0x03, 0x00, 0x08,  // binary, LU, NAA, 8 bytes
     0x50, 0x00, 0xC5, 0x00, 0x12, 0x34, 0x56, 0x78},
    {0x02, 0x01, 0x00, 0x22},  // ASCII, LU, T10 vendor ID, 34 bytes
    ascii("VTLEMU  "),
    ascii("LTO-9 DRIVE     "),
    ascii("DRV0000001"),
});

TEST_F(Vpd, DeviceIdentificationUnknownProtocol) {
    const Bytes expected = concat({
        {0x01, 0x83, 0x00, 0x3A},
        kLuDesignators,
        {0x01, 0x14, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01},  // PIV=0, target port, relative port 1
    });
    EXPECT_EQ(vpd(host, 0x83), expected);
}

TEST_F(Vpd, DeviceIdentificationIscsiTargetName) {
    host.nexus().target = {2, vtl::Protocol::Iscsi, "iqn.2026-01.vtl:lib0"};
    const Bytes expected = concat({
        {0x01, 0x83, 0x00, 0x5E},
        kLuDesignators,
        {0x51, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02},  // iSCSI, PIV, target port, relative port 2
        {0x53, 0x98, 0x00, 0x20},                          // iSCSI, UTF-8, PIV, target port, SCSI name
        ascii("iqn.2026-01.vtl:lib0,t,0x0002"),
        {0x00, 0x00, 0x00},  // NUL terminator and padding to 32
    });
    EXPECT_EQ(vpd(host, 0x83), expected);
}

TEST_F(Vpd, DeviceIdentificationNaaTargetPortName) {
    host.nexus().target = {1, vtl::Protocol::Fcp, "naa.5001405ABCDEF012"};
    const Bytes fc = concat({
        {0x01, 0x83, 0x00, 0x46},
        kLuDesignators,
        {0x01, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01},  // FCP is protocol 0: PIV tells it apart
        {0x01, 0x93, 0x00, 0x08, 0x50, 0x01, 0x40, 0x5A, 0xBC, 0xDE, 0xF0, 0x12},
    });
    EXPECT_EQ(vpd(host, 0x83), fc);

    host.nexus().target = {3, vtl::Protocol::Sas, "naa.5000c50000000001"};
    const Bytes sas = concat({
        {0x01, 0x83, 0x00, 0x46},
        kLuDesignators,
        {0x61, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03},
        {0x61, 0x93, 0x00, 0x08, 0x50, 0x00, 0xC5, 0x00, 0x00, 0x00, 0x00, 0x01},
    });
    EXPECT_EQ(vpd(host, 0x83), sas);
}

TEST_F(Vpd, DeviceIdentificationMalformedNaaNameIsANameString) {
    host.nexus().target.name = "naa.5001405ABCDEF01";  // 15 digits
    const Bytes expected = concat({
        {0x01, 0x83, 0x00, 0x5E},
        kLuDesignators,
        {0x01, 0x14, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01},
        {0x03, 0x18, 0x00, 0x20},  // UTF-8, no PIV (protocol unknown), target port, SCSI name
        ascii("naa.5001405ABCDEF01,t,0x0001"),
        {0x00, 0x00, 0x00, 0x00},  // length 28 is already a multiple of 4: a whole NUL word
    });
    EXPECT_EQ(vpd(host, 0x83), expected);
}

TEST_F(Vpd, ExtendedInquiryData) {
    Bytes expected = {0x01, 0x86, 0x00, 0x3C};
    expected.resize(64, 0);
    expected[5] = 0x01;  // SIMPSUP
    expected[7] = 0x01;  // LUICLR
    EXPECT_EQ(vpd(host, 0x86), expected);
}

TEST_F(Vpd, ChangerPagesCarryItsDeviceType) {
    vtl::LogicalUnit changer("lib0/changer", clock, std::make_unique<vtl::MediumChanger>(changer_identity()));
    Initiator h(changer, clock);
    EXPECT_EQ(vpd(h, 0x00), (Bytes{0x08, 0x00, 0x00, 0x04, 0x00, 0x80, 0x83, 0x86}));
    EXPECT_EQ(vpd(h, 0x80), concat({{0x08, 0x80, 0x00, 0x0A}, ascii("LIB0000001")}));
    const Bytes designators = vpd(h, 0x83);
    ASSERT_GE(designators.size(), 16u);
    EXPECT_EQ(Bytes(designators.begin(), designators.begin() + 16),
              (Bytes{0x08, 0x83, 0x00, 0x3A, 0x01, 0x03, 0x00, 0x08, 0x50, 0x00, 0xC5, 0x00, 0xAB, 0xCD, 0xEF, 0x01}));
    EXPECT_EQ(vpd(h, 0x86)[0], 0x08);
}

TEST_F(Vpd, AllocationLengthHonoured) {
    const Bytes full = vpd(host, 0x83);
    ASSERT_EQ(full.size(), 62u);
    for (uint32_t alloc : {0u, 1u, 5u, 35u, 37u, 95u, 255u, 65535u}) {
        SCOPED_TRACE(alloc);
        auto r = host.send(inquiry_cdb(true, 0x83, uint16_t(alloc)), 65535);
        ASSERT_EQ(r.status, Status::Good);
        const size_t n = std::min<size_t>(alloc, full.size());
        EXPECT_EQ(r.data, Bytes(full.begin(), full.begin() + n));
        EXPECT_EQ(r.residual, 65535u - n);
    }
    auto r = host.send(inquiry_cdb(true, 0x86, 64), 10);
    EXPECT_EQ(r.data, (Bytes{0x01, 0x86, 0x00, 0x3C, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00}));
    EXPECT_TRUE(r.overflow);
    EXPECT_EQ(r.residual, 0u);
}

}  // namespace
