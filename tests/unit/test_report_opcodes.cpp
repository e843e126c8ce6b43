// REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) and REPORT SUPPORTED TASK MANAGEMENT
// FUNCTIONS (SPC-4 6.36). A device with only the commands under test keeps the all_commands
// answer exact while other command files grow.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>

#include "core/logical_unit.h"
#include "core/virtual_clock.h"
#include "device/tape_drive.h"
#include "initiator.h"
#include "scsi/bytes.h"
#include "sense_view.h"
#include "support.h"
#include "spc/spc.h"

namespace {

using namespace vtl::testsupport;

using Bytes = std::vector<uint8_t>;
using vtl::fixtures::Initiator;
using vtl::fixtures::Response;
using vtl::scsi::Status;

// Only the SPC parts this suite tests, so the command list is known exactly.
class BareDevice final : public vtl::Device {
public:
    BareDevice() {
        identity_.vendor = "VTLEMU";
        identity_.product = "BARE";
        identity_.revision = "0001";
    }
    const vtl::DeviceIdentity& identity() const override { return identity_; }
    void attach(vtl::LogicalUnit& lu) override {
        vtl::register_inquiry(lu);
        vtl::register_sense_commands(lu);
        vtl::register_report_opcodes(lu);
        vtl::register_reservations(lu);
    }

private:
    vtl::DeviceIdentity identity_;
};

// CDB: service action 0Ch, RCTD, REPORTING OPTIONS, opcode, service action, allocation length.
Bytes rsoc(uint8_t options, bool rctd = false, uint8_t opcode = 0, uint16_t sa = 0, uint32_t alloc = 0xFFFF) {
    return {0xA3, 0x0C, uint8_t((rctd ? 0x80 : 0) | options), opcode, uint8_t(sa >> 8), uint8_t(sa),
            uint8_t(alloc >> 24), uint8_t(alloc >> 16), uint8_t(alloc >> 8), uint8_t(alloc), 0, 0};
}

Bytes rstmf(bool repd, uint32_t alloc = 0xFFFF) {
    return {0xA3, 0x0D, uint8_t(repd ? 0x80 : 0), 0, 0, 0,
            uint8_t(alloc >> 24), uint8_t(alloc >> 16), uint8_t(alloc >> 8), uint8_t(alloc), 0, 0};
}

// Command descriptor (SPC-4 table 310): opcode, reserved, SERVICE ACTION, reserved,
// CTDP/SERVACTV, CDB LENGTH.
Bytes command(uint8_t opcode, uint8_t cdb_length, bool ctdp = false) {
    return {opcode, 0, 0, 0, 0, uint8_t(ctdp ? 0x02 : 0x00), 0, cdb_length};
}
Bytes command_sa(uint8_t opcode, uint16_t sa, uint8_t cdb_length, bool ctdp = false) {
    return {opcode, 0, uint8_t(sa >> 8), uint8_t(sa), 0, uint8_t(ctdp ? 0x03 : 0x01), 0, cdb_length};
}
// Command timeouts descriptor (SPC-4 table 314): DESCRIPTOR LENGTH 0Ah, reserved, COMMAND
// SPECIFIC, NOMINAL and RECOMMENDED timeouts, in seconds.
Bytes timeouts(uint32_t nominal, uint32_t recommended) {
    Bytes b = {0x00, 0x0A, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    vtl::scsi::put_be32(&b[4], nominal);
    vtl::scsi::put_be32(&b[8], recommended);
    return b;
}

const Bytes kAllCommands = concat({
    {0x00, 0x00, 0x00, 0x50},  // COMMAND DATA LENGTH: 10 descriptors of 8 bytes
    command(0x00, 6),          // TEST UNIT READY
    command(0x03, 6),          // REQUEST SENSE
    command(0x12, 6),          // INQUIRY
    command(0x16, 6),          // RESERVE(6)
    command(0x17, 6),          // RELEASE(6)
    command(0x1E, 6),          // PREVENT ALLOW MEDIUM REMOVAL
    command(0x56, 10),         // RESERVE(10)
    command(0x57, 10),         // RELEASE(10)
    command_sa(0xA3, 0x0C, 12),  // REPORT SUPPORTED OPERATION CODES
    command_sa(0xA3, 0x0D, 12),  // REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS
});

const Bytes kInquiryUsage = {0x12, 0x01, 0xFF, 0xFF, 0xFF, 0x07};
const Bytes kRsocUsage = {0xA3, 0x1F, 0x87, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x07};
const Bytes kRstmfUsage = {0xA3, 0x1F, 0x80, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x07};
const Bytes kNotSupported = {0x00, 0x01, 0x00, 0x00};  // SUPPORT 001b, CDB SIZE 0

class ReportOpcodes : public ::testing::Test {
protected:
    void SetUp() override { host.clear_power_on_attention(); }
    vtl::VirtualClock clock;
    vtl::LogicalUnit lu{"lib0/bare", clock, std::make_unique<BareDevice>()};
    Initiator host{lu, clock};

    Bytes good(const Bytes& cdb) {
        auto r = host.send(cdb, 0xFFFF);
        EXPECT_EQ(r.status, Status::Good);
        return r.data;
    }
    uint32_t nominal(uint8_t op, std::optional<uint16_t> sa = std::nullopt) {
        return lu.commands().find(op, sa)->nominal_timeout_s;
    }
    uint32_t recommended(uint8_t op, std::optional<uint16_t> sa = std::nullopt) {
        return lu.commands().find(op, sa)->recommended_timeout_s;
    }
};

TEST_F(ReportOpcodes, AllCommands) { EXPECT_EQ(good(rsoc(0)), kAllCommands); }

TEST_F(ReportOpcodes, AllCommandsIgnoresRequestedOpcodeAndServiceAction) {
    EXPECT_EQ(good(rsoc(0, false, 0x12, 0x0005)), kAllCommands);
}

TEST_F(ReportOpcodes, AllCommandsWithTimeouts) {
    const Bytes data = good(rsoc(0, true));
    ASSERT_EQ(data.size(), 4u + 10u * 20u);
    EXPECT_EQ(Bytes(data.begin(), data.begin() + 4), (Bytes{0x00, 0x00, 0x00, 0xC8}));
    // Third descriptor: INQUIRY, CTDP set, then its timeouts descriptor.
    const Bytes inquiry = concat({command(0x12, 6, true), timeouts(nominal(0x12), recommended(0x12))});
    EXPECT_EQ(Bytes(data.begin() + 4 + 2 * 20, data.begin() + 4 + 3 * 20), inquiry);
    const Bytes last = concat({command_sa(0xA3, 0x0D, 12, true), timeouts(nominal(0xA3, 0x0D), recommended(0xA3, 0x0D))});
    EXPECT_EQ(Bytes(data.end() - 20, data.end()), last);
    EXPECT_GT(nominal(0x12), 0u);
}

TEST_F(ReportOpcodes, AllCommandsOnTapeDriveListsEveryRegisteredCommand) {
    vtl::DeviceIdentity id;
    id.vendor = "VTLEMU";
    vtl::LogicalUnit drive("lib0/drive0", clock, std::make_unique<vtl::TapeDrive>(id));
    Initiator h(drive, clock);
    h.clear_power_on_attention();
    auto r = h.send(rsoc(0), 0xFFFF);
    ASSERT_EQ(r.status, Status::Good);
    const auto all = drive.commands().all();
    ASSERT_EQ(r.data.size(), 4 + 8 * all.size());
    EXPECT_EQ(vtl::scsi::get_be32(r.data.data()), 8 * all.size());
    for (size_t i = 0; i < all.size(); ++i) {
        const uint8_t* d = r.data.data() + 4 + 8 * i;
        EXPECT_EQ(d[0], all[i]->opcode);
        EXPECT_EQ(vtl::scsi::get_be16(d + 6), all[i]->usage.size());
    }
}

TEST_F(ReportOpcodes, OneCommandByOpcode) {
    EXPECT_EQ(good(rsoc(1, false, 0x12)), concat({{0x00, 0x03, 0x00, 0x06}, kInquiryUsage}));
    // The REQUESTED SERVICE ACTION field is ignored for 001b.
    EXPECT_EQ(good(rsoc(1, false, 0x12, 0x1234)), concat({{0x00, 0x03, 0x00, 0x06}, kInquiryUsage}));
    EXPECT_EQ(good(rsoc(1, false, 0x56)),
              (Bytes{0x00, 0x03, 0x00, 0x0A, 0x56, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x07}));
}

TEST_F(ReportOpcodes, OneCommandWithTimeouts) {
    EXPECT_EQ(good(rsoc(1, true, 0x12)),
              concat({{0x00, 0x83, 0x00, 0x06}, kInquiryUsage, timeouts(nominal(0x12), recommended(0x12))}));
}

TEST_F(ReportOpcodes, OneCommandNotSupported) {
    EXPECT_EQ(good(rsoc(1, false, 0xE0)), kNotSupported);
    EXPECT_EQ(good(rsoc(1, true, 0x08)), kNotSupported);  // no CTDP, no timeouts descriptor
    EXPECT_EQ(good(rsoc(2, false, 0xA3, 0x05)), kNotSupported);
    EXPECT_EQ(good(rsoc(2, true, 0x9E, 0x10)), kNotSupported);  // an opcode we do not have at all
    EXPECT_EQ(good(rsoc(3, false, 0xA3, 0x0E)), kNotSupported);
    EXPECT_EQ(good(rsoc(3, false, 0x28)), kNotSupported);
}

TEST_F(ReportOpcodes, OneCommandByOpcodeThatHasServiceActionsIsInvalid) {
    EXPECT_TRUE(IsCheck(host.send(rsoc(1, false, 0xA3, 0x0C), 0xFFFF), invalid_cdb(2, 2)));
}

TEST_F(ReportOpcodes, OneCommandByOpcodeAndServiceAction) {
    EXPECT_EQ(good(rsoc(2, false, 0xA3, 0x0C)), concat({{0x00, 0x03, 0x00, 0x0C}, kRsocUsage}));
    EXPECT_EQ(good(rsoc(2, true, 0xA3, 0x0D)),
              concat({{0x00, 0x83, 0x00, 0x0C}, kRstmfUsage, timeouts(nominal(0xA3, 0x0D), recommended(0xA3, 0x0D))}));
}

TEST_F(ReportOpcodes, OneCommandServiceActionForOpcodeWithoutThemIsInvalid) {
    EXPECT_TRUE(IsCheck(host.send(rsoc(2, false, 0x12, 0), 0xFFFF), invalid_cdb(2, 2)));
}

TEST_F(ReportOpcodes, OneCommandServiceActionWhenTheOpcodeHasThem) {
    EXPECT_EQ(good(rsoc(3, false, 0x12, 0x0C)), concat({{0x00, 0x03, 0x00, 0x06}, kInquiryUsage}));
    EXPECT_EQ(good(rsoc(3, false, 0xA3, 0x0D)), concat({{0x00, 0x03, 0x00, 0x0C}, kRstmfUsage}));
}

TEST_F(ReportOpcodes, ReportingOptionsOutOfRange) {
    for (uint8_t options = 4; options < 8; ++options) {
        SCOPED_TRACE(int(options));
        EXPECT_TRUE(IsCheck(host.send(rsoc(options), 0xFFFF), invalid_cdb(2, 2)));
    }
}

TEST_F(ReportOpcodes, ReservedBits) {
    Bytes cdb = rsoc(0);
    cdb[1] = 0x2C;  // bit 5 above the service action
    EXPECT_TRUE(IsCheck(host.send(cdb, 0xFFFF), invalid_cdb(1, 5)));
    for (int bit = 3; bit <= 6; ++bit) {
        SCOPED_TRACE(bit);
        cdb = rsoc(0);
        cdb[2] |= uint8_t(1u << bit);
        EXPECT_TRUE(IsCheck(host.send(cdb, 0xFFFF), invalid_cdb(2, bit)));
    }
    cdb = rsoc(0);
    cdb[10] = 0x10;
    EXPECT_TRUE(IsCheck(host.send(cdb, 0xFFFF), invalid_cdb(10, 4)));
}

TEST_F(ReportOpcodes, AllocationLengthHonoured) {
    for (uint32_t alloc : {0u, 1u, 5u, 35u, 37u, 95u, 255u, 65535u}) {
        SCOPED_TRACE(alloc);
        auto r = host.send(rsoc(0, false, 0, 0, alloc), 65535);
        ASSERT_EQ(r.status, Status::Good);
        const size_t n = std::min<size_t>(alloc, kAllCommands.size());
        EXPECT_EQ(r.data, Bytes(kAllCommands.begin(), kAllCommands.begin() + n));
        EXPECT_EQ(r.residual, 65535u - n);
    }
    // A 32-bit allocation length larger than the buffer: the buffer bounds the transfer.
    auto r = host.send(rsoc(0, false, 0, 0, 0x00FFFFFF), 20);
    EXPECT_EQ(r.data, Bytes(kAllCommands.begin(), kAllCommands.begin() + 20));
    EXPECT_TRUE(r.overflow);
    EXPECT_EQ(r.residual, 0u);
}

TEST_F(ReportOpcodes, AllowedWhileAnotherNexusHoldsAReservation) {
    Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    ASSERT_EQ(other.send({0x16, 0, 0, 0, 0, 0}).status, Status::Good);
    EXPECT_EQ(good(rsoc(0)), kAllCommands);
    EXPECT_EQ(good(rstmf(false)), (Bytes{0x88, 0x01, 0x00, 0x00}));
}

TEST_F(ReportOpcodes, UnitAttentionReportedFirst) {
    Initiator fresh(lu, clock, "iqn.2026-01.test:host2");
    auto r = fresh.send(rsoc(0), 0xFFFF);
    ASSERT_EQ(r.status, Status::CheckCondition);
    auto v = vtl::fixtures::decode_sense(r.sense);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->key, 0x06);
    EXPECT_EQ(v->asc, 0x29);
}

TEST_F(ReportOpcodes, Registration) {
    for (uint16_t sa : {0x0C, 0x0D}) {
        const vtl::CommandInfo* info = lu.commands().find(0xA3, sa);
        ASSERT_NE(info, nullptr);
        EXPECT_EQ(info->queueing, vtl::Queueing::Immediate);
        EXPECT_EQ(info->unit_attention, vtl::UnitAttentionRule::Report);
        ASSERT_TRUE(info->allowed_when_reserved);
    }
    EXPECT_EQ(lu.commands().find(0xA3, 0x0C)->usage, kRsocUsage);
    EXPECT_EQ(lu.commands().find(0xA3, 0x0D)->usage, kRstmfUsage);
}

class ReportTmf : public ReportOpcodes {};

TEST_F(ReportTmf, Basic) {
    // ATS (byte 0 bit 7), LURS (byte 0 bit 3), ITNRS (byte 1 bit 0).
    EXPECT_EQ(good(rstmf(false)), (Bytes{0x88, 0x01, 0x00, 0x00}));
}

TEST_F(ReportTmf, Extended) {
    // REPD: ADDITIONAL DATA LENGTH 0Ch; TMFTMOV=0, so no timeout selectors or timeouts.
    EXPECT_EQ(good(rstmf(true)), (Bytes{0x88, 0x01, 0x00, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(ReportTmf, AllocationLength) {
    auto r = host.send(rstmf(false, 2), 100);
    EXPECT_EQ(r.data, (Bytes{0x88, 0x01}));
    EXPECT_EQ(r.residual, 98u);
    r = host.send(rstmf(true, 0), 100);
    EXPECT_EQ(r.status, Status::Good);
    EXPECT_TRUE(r.data.empty());
    r = host.send(rstmf(true, 16), 5);
    EXPECT_EQ(r.data, (Bytes{0x88, 0x01, 0x00, 0x0C, 0x00}));
    EXPECT_TRUE(r.overflow);
}

TEST_F(ReportTmf, ReservedBits) {
    Bytes cdb = rstmf(false);
    cdb[1] = 0x8D;
    EXPECT_TRUE(IsCheck(host.send(cdb, 100), invalid_cdb(1, 7)));
    cdb = rstmf(true);
    cdb[2] |= 0x01;
    EXPECT_TRUE(IsCheck(host.send(cdb, 100), invalid_cdb(2, 0)));
    for (size_t byte : {3, 4, 5, 10}) {
        SCOPED_TRACE(byte);
        cdb = rstmf(false);
        cdb[byte] = 0x42;
        EXPECT_TRUE(IsCheck(host.send(cdb, 100), invalid_cdb(uint16_t(byte), 6)));
    }
}

TEST_F(ReportTmf, UnknownMaintenanceInServiceAction) {
    Bytes cdb = rstmf(false);
    cdb[1] = 0x0E;
    EXPECT_TRUE(IsCheck(host.send(cdb, 100), invalid_cdb(1, 4)));
}

}  // namespace
