// SEND DIAGNOSTIC (SPC-4 6.42): the default self-test passes on both device types (scsi_mandat
// sends 1D 04 00 00 00 00); what is not supported is refused with the exact field pointer.
#include <gtest/gtest.h>

#include <memory>

#include "core/logical_unit.h"
#include "core/virtual_clock.h"
#include "device/medium_changer.h"
#include "device/tape_drive.h"
#include "initiator.h"

namespace {

using Bytes = std::vector<uint8_t>;
using vtl::fixtures::Initiator;
using vtl::scsi::Status;

vtl::DeviceIdentity identity() {
    vtl::DeviceIdentity id;
    id.vendor = "VTLEMU";
    id.product = "LTO-9 DRIVE";
    id.revision = "0100";
    id.serial = "DRV0000001";
    id.naa = 0x5000C50012345678ull;
    return id;
}

// Fixed sense 05/24/00 with a sense-key specific field pointer (SKSV, C/D=1, BPV, bit, byte).
Bytes invalid_field(uint8_t byte, int bit) {
    const uint8_t sks = uint8_t(0xC0 | (bit >= 0 ? 0x08 | bit : 0));
    return {0x70, 0, 0x05, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x24, 0x00, 0, sks, 0, byte};
}

class SendDiagnostic : public ::testing::Test {
protected:
    void SetUp() override {
        drive_host.clear_power_on_attention();
        changer_host.clear_power_on_attention();
    }
    vtl::VirtualClock clock;
    vtl::LogicalUnit drive{"lib0/drive0", clock, std::make_unique<vtl::TapeDrive>(identity())};
    vtl::LogicalUnit changer{"lib0/changer", clock, std::make_unique<vtl::MediumChanger>(identity())};
    Initiator drive_host{drive, clock};
    Initiator changer_host{changer, clock};
};

TEST_F(SendDiagnostic, DefaultSelfTestPassesOnDriveWithoutMediumAndOnChanger) {
    const Bytes cdb = {0x1D, 0x04, 0, 0, 0, 0};
    for (Initiator* host : {&drive_host, &changer_host}) {
        auto r = host->send(cdb);
        EXPECT_EQ(r.status, Status::Good);
        EXPECT_TRUE(r.sense.empty());
        EXPECT_TRUE(r.data.empty());
    }
    // DEVOFFL and UNITOFFL only permit offline actions: still GOOD.
    EXPECT_EQ(drive_host.send(Bytes{0x1D, 0x07, 0, 0, 0, 0}).status, Status::Good);
    // SELFTEST=0 with no parameter list: nothing to do.
    EXPECT_EQ(drive_host.send(Bytes{0x1D, 0x00, 0, 0, 0, 0}).status, Status::Good);
}

TEST_F(SendDiagnostic, BackgroundSelfTestIsRefusedPointingAtTheSelfTestCode) {
    auto r = drive_host.send(Bytes{0x1D, 0x20, 0, 0, 0, 0});  // background short self-test
    EXPECT_EQ(r.status, Status::CheckCondition);
    EXPECT_EQ(r.sense, invalid_field(1, 7));
}

TEST_F(SendDiagnostic, ParameterListIsRefusedPointingAtItsLength) {
    auto r = changer_host.send(Bytes{0x1D, 0x10, 0, 0x00, 0x08, 0});  // PF=1, an 8-byte page
    EXPECT_EQ(r.status, Status::CheckCondition);
    EXPECT_EQ(r.sense, invalid_field(3, -1));
}

TEST_F(SendDiagnostic, ReservedBitsAreRefused) {
    auto r = drive_host.send(Bytes{0x1D, 0x0C, 0, 0, 0, 0});  // bit 3 of byte 1 is reserved
    EXPECT_EQ(r.status, Status::CheckCondition);
    EXPECT_EQ(r.sense, invalid_field(1, 3));
    r = drive_host.send(Bytes{0x1D, 0x04, 0x01, 0, 0, 0});
    EXPECT_EQ(r.sense, invalid_field(2, 0));
}

TEST_F(SendDiagnostic, ReportedBySupportedOperationCodes) {
    // REPORT SUPPORTED OPERATION CODES, one command (reporting options 001b): the usage data.
    auto r = drive_host.send(Bytes{0xA3, 0x0C, 0x01, 0x1D, 0, 0, 0, 0, 0, 64, 0, 0}, 64);
    ASSERT_EQ(r.status, Status::Good);
    ASSERT_GE(r.data.size(), 10u);
    EXPECT_EQ(r.data[1] & 0x07, 0x03);  // SUPPORT: supported as the standard says
    EXPECT_EQ(Bytes(r.data.begin() + 2, r.data.begin() + 10), (Bytes{0x00, 0x06, 0x1D, 0xE7, 0x00, 0xFF, 0xFF, 0x07}));
}

}  // namespace
