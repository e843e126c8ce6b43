// TEST UNIT READY (SPC-4 6.47) and REQUEST SENSE (SPC-4 6.39): readiness, unit attentions,
// sense data formats (SPC-4 4.5) and CDB validation.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>

#include "core/logical_unit.h"
#include "core/virtual_clock.h"
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

vtl::DeviceIdentity identity() {
    vtl::DeviceIdentity id;
    id.vendor = "VTLEMU";
    id.product = "LTO-9 DRIVE";
    id.revision = "0100";
    id.serial = "DRV0000001";
    id.naa = 0x5000C50012345678ull;
    return id;
}

const Bytes kTur = {0x00, 0, 0, 0, 0, 0};

Bytes request_sense(bool desc, uint8_t allocation_length) {
    return {0x03, uint8_t(desc ? 0x01 : 0x00), 0, 0, allocation_length, 0};
}

// Fixed format sense data (SPC-4 table 49): response code 70h, key, ASC/ASCQ, ADDITIONAL SENSE
// LENGTH 0Ah, no information, no sense-key specific data.
Bytes fixed(uint8_t key, uint8_t asc, uint8_t ascq) {
    return {0x70, 0x00, key, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0};
}

// Descriptor format (SPC-4 table 12): response code 72h and no descriptors.
Bytes descriptor(uint8_t key, uint8_t asc, uint8_t ascq) { return {0x72, key, asc, ascq, 0, 0, 0, 0x00}; }

class Fixture : public ::testing::Test {
protected:
    vtl::VirtualClock clock;
    vtl::LogicalUnit drive{"lib0/drive0", clock, std::make_unique<vtl::TapeDrive>(identity())};
    vtl::LogicalUnit changer{"lib0/changer", clock, std::make_unique<vtl::MediumChanger>(identity())};
    Initiator host{drive, clock};
    Initiator changer_host{changer, clock};
};

class TestUnitReady : public Fixture {};

TEST_F(TestUnitReady, FirstCommandGetsPowerOnUnitAttentionOnce) {
    EXPECT_TRUE(IsCheck(host.send(kTur), sense(0x06, 0x29, 0x00)));
    EXPECT_TRUE(IsCheck(host.send(kTur), sense(0x02, 0x3A, 0x00)));
}

TEST_F(TestUnitReady, EmptyDriveIsNotReadyMediumNotPresent) {
    host.clear_power_on_attention();
    auto r = host.send(kTur);
    EXPECT_EQ(r.status, Status::CheckCondition);
    EXPECT_EQ(r.sense, fixed(0x02, 0x3A, 0x00));
    EXPECT_TRUE(r.data.empty());
}

TEST_F(TestUnitReady, ReadyChangerIsGood) {
    changer_host.clear_power_on_attention();
    auto r = changer_host.send(kTur);
    EXPECT_EQ(r.status, Status::Good);
    EXPECT_TRUE(r.sense.empty());
}

TEST_F(TestUnitReady, ReservedBytes) {
    changer_host.clear_power_on_attention();
    for (size_t byte = 1; byte <= 4; ++byte) {
        for (int bit : {0, 5, 7}) {
            SCOPED_TRACE(testing::Message() << "byte " << byte << " bit " << bit);
            Bytes cdb = kTur;
            cdb[byte] = uint8_t(1u << bit);
            EXPECT_TRUE(IsCheck(changer_host.send(cdb), invalid_cdb(uint16_t(byte), bit)));
        }
    }
}

TEST_F(TestUnitReady, ConflictsWithAnotherNexusReservation) {
    Initiator other(changer, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    changer_host.clear_power_on_attention();
    ASSERT_EQ(other.send({0x16, 0, 0, 0, 0, 0}).status, Status::Good);
    auto r = changer_host.send(kTur);
    EXPECT_EQ(r.status, Status::ReservationConflict);
    EXPECT_TRUE(r.sense.empty());
    EXPECT_EQ(other.send(kTur).status, Status::Good);
}

TEST_F(TestUnitReady, Registration) {
    const vtl::CommandInfo* info = drive.commands().find(0x00, std::nullopt);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->usage, (Bytes{0x00, 0x00, 0x00, 0x00, 0x00, 0x07}));
    EXPECT_EQ(info->queueing, vtl::Queueing::Immediate);
    EXPECT_EQ(info->unit_attention, vtl::UnitAttentionRule::Report);
    EXPECT_FALSE(info->allowed_when_reserved);
}

class RequestSense : public Fixture {};

TEST_F(RequestSense, ReturnsAndClearsUnitAttentionThenNotReady) {
    auto r = host.send(request_sense(false, 252), 252);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_TRUE(r.sense.empty());
    EXPECT_EQ(r.data, fixed(0x06, 0x29, 0x00));
    EXPECT_EQ(r.residual, 252u - 18u);

    r = host.send(request_sense(false, 252), 252);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, fixed(0x02, 0x3A, 0x00));

    // The unit attention was consumed: TEST UNIT READY sees only the missing medium.
    EXPECT_TRUE(IsCheck(host.send(kTur), sense(0x02, 0x3A, 0x00)));
}

TEST_F(RequestSense, DescriptorFormatWhenDescIsSet) {
    auto r = host.send(request_sense(true, 252), 252);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, descriptor(0x06, 0x29, 0x00));
    r = host.send(request_sense(true, 252), 252);
    EXPECT_EQ(r.data, descriptor(0x02, 0x3A, 0x00));
    EXPECT_EQ(r.residual, 252u - 8u);
}

TEST_F(RequestSense, NoSenseWhenReady) {
    changer_host.clear_power_on_attention();
    auto r = changer_host.send(request_sense(false, 18), 18);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, fixed(0x00, 0x00, 0x00));
    r = changer_host.send(request_sense(true, 18), 18);
    EXPECT_EQ(r.data, descriptor(0x00, 0x00, 0x00));
}

TEST_F(RequestSense, ReportsResetUnitAttentionQueuedForAnotherNexus) {
    Initiator other(changer, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    changer_host.clear_power_on_attention();
    changer_host.lun_reset();
    auto r = other.send(request_sense(false, 18), 18);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, fixed(0x06, 0x29, 0x03));
    EXPECT_EQ(other.send(kTur).status, Status::Good);
}

TEST_F(RequestSense, AllocationLengthHonoured) {
    changer_host.clear_power_on_attention();
    const Bytes full = fixed(0x00, 0x00, 0x00);
    for (uint8_t alloc : {0, 1, 5, 17, 18, 35, 37, 95, 255}) {
        SCOPED_TRACE(int(alloc));
        auto r = changer_host.send(request_sense(false, alloc), 65535);
        ASSERT_EQ(r.status, Status::Good);
        const size_t n = std::min<size_t>(alloc, full.size());
        EXPECT_EQ(r.data, Bytes(full.begin(), full.begin() + n));
        EXPECT_EQ(r.residual, 65535u - n);
    }
    auto r = changer_host.send(request_sense(false, 18), 4);
    EXPECT_EQ(r.data, (Bytes{0x70, 0x00, 0x00, 0x00}));
    EXPECT_TRUE(r.overflow);
}

TEST_F(RequestSense, TruncatedUnitAttentionIsStillConsumed) {
    auto r = host.send(request_sense(false, 5), 5);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0x70, 0x00, 0x06, 0x00, 0x00}));
    EXPECT_TRUE(IsCheck(host.send(kTur), sense(0x02, 0x3A, 0x00)));
}

TEST_F(RequestSense, ReservedBitsAndRejectionKeepsUnitAttention) {
    for (int bit = 1; bit < 8; ++bit) {
        SCOPED_TRACE(bit);
        EXPECT_TRUE(IsCheck(host.send({0x03, uint8_t(1u << bit), 0, 0, 18, 0}, 18), invalid_cdb(1, bit)));
    }
    EXPECT_TRUE(IsCheck(host.send({0x03, 0, 0x01, 0, 18, 0}, 18), invalid_cdb(2, 0)));
    EXPECT_TRUE(IsCheck(host.send({0x03, 0, 0, 0x40, 18, 0}, 18), invalid_cdb(3, 6)));
    EXPECT_TRUE(IsCheck(host.send({0x03, 0, 0, 0, 18, 0x01}, 18), invalid_cdb(5, 0)));  // LINK
    // None of those consumed the power-on unit attention.
    EXPECT_TRUE(IsCheck(host.send(kTur), sense(0x06, 0x29, 0x00)));
}

TEST_F(RequestSense, AllowedWhileAnotherNexusHoldsAReservation) {
    Initiator other(drive, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    ASSERT_EQ(other.send({0x16, 0, 0, 0, 0, 0}).status, Status::Good);
    auto r = host.send(request_sense(false, 18), 18);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, fixed(0x06, 0x29, 0x00));
}

TEST_F(RequestSense, Registration) {
    const vtl::CommandInfo* info = drive.commands().find(0x03, std::nullopt);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->usage, (Bytes{0x03, 0x01, 0x00, 0x00, 0xFF, 0x07}));
    EXPECT_EQ(info->queueing, vtl::Queueing::Immediate);
    EXPECT_EQ(info->unit_attention, vtl::UnitAttentionRule::AsSenseData);
    ASSERT_TRUE(info->allowed_when_reserved);
}

}  // namespace
