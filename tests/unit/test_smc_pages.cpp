// The changer's mode pages 1Dh, 1Eh, 1Fh (SMC-3) and TapeAlert log page (2Eh), byte for byte,
// as MODE SENSE / LOG SENSE return them; and the SMC commands as REPORT SUPPORTED OPERATION CODES
// lists them, with their timeouts.
#include <gtest/gtest.h>

#include "log_view.h"
#include "mode_view.h"
#include "smc_support.h"

using namespace vtl;
using namespace vtl::smctest;
using namespace vtl::testsupport;
using scsi::Status;

namespace {

class SmcPages : public ChangerTest {
protected:
    Bytes mode_page(uint8_t page, uint8_t pc = 0) {
        auto r = host->send(fixtures::mode_sense6(true, pc, page, 0, 255), 255);
        EXPECT_EQ(r.status, Status::Good);
        auto v = fixtures::decode_mode_sense6(r.data);
        if (!v || !v->find(page)) return {};
        return v->find(page)->bytes;
    }
};

// The Element Address Assignment page (SMC-3) of the small library: robot 0000h x1, slots
// 1000h x10, I/E 0010h x2, drives 0100h x2.
const Bytes kAssignment = {0x1D, 0x12,        // PS 0, page code, PAGE LENGTH
                           0x00, 0x00, 0x00, 0x01,  // first medium transport, count
                           0x10, 0x00, 0x00, 0x0A,  // first storage, count
                           0x00, 0x10, 0x00, 0x02,  // first import/export, count
                           0x01, 0x00, 0x00, 0x02,  // first data transfer, count
                           0x00, 0x00};             // reserved

TEST_F(SmcPages, ElementAddressAssignmentGolden) {
    // mtx: MODE SENSE(6) DBD=1, allocation 136.
    auto r = host->send(fixtures::mode_sense6(true, 0, 0x1D, 0, 136), 136);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, concat({{23, 0x00, 0x00, 0x00}, kAssignment}));
    // Linux ch: DBD=0 first; a changer has no block descriptors either way.
    r = host->send(fixtures::mode_sense6(false, 0, 0x1D, 0, 255), 255);
    EXPECT_EQ(r.data, concat({{23, 0x00, 0x00, 0x00}, kAssignment}));
    // MODE SENSE(10).
    r = host->send(fixtures::mode_sense10(true, 0, 0x1D, 0, 1024), 1024);
    EXPECT_EQ(r.data, concat({{0x00, 26, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, kAssignment}));
    // Default values are the same; nothing is changeable; nothing can be saved.
    EXPECT_EQ(mode_page(0x1D, 2), kAssignment);
    EXPECT_EQ(mode_page(0x1D, 1), (Bytes{0x1D, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_TRUE(IsCheck(host->send(fixtures::mode_sense6(true, 3, 0x1D, 0, 255), 255), sense(0x05, 0x39, 0x00)));
}

TEST_F(SmcPages, ElementAddressAssignmentFollowsThePersonality) {
    build(small_config(config::Personality::IbmTs3500));
    EXPECT_EQ(mode_page(0x1D), (Bytes{0x1D, 0x12, 0x00, 0x01, 0x00, 0x01, 0x04, 0x01, 0x00, 0x0A, 0x03, 0x01, 0x00,
                                      0x02, 0x01, 0x01, 0x00, 0x02, 0x00, 0x00}));
}

TEST_F(SmcPages, TransportGeometryHasOneDescriptorPerRobot) {
    EXPECT_EQ(mode_page(0x1E), (Bytes{0x1E, 0x02, 0x00, 0x00}));
    auto c = small_config();
    c.robots = 2;
    build(c);
    EXPECT_EQ(mode_page(0x1E), (Bytes{0x1E, 0x04, 0x00, 0x00, 0x00, 0x01}));  // ROTATE 0, members 0 and 1
}

TEST_F(SmcPages, DeviceCapabilitiesGolden) {
    const Bytes expected = {0x1F, 0x12,
                            0x0E,                    // StorDT, StorIE, StorST
                            0x00,
                            0x00,                    // MT-> none: a robot is not a source
                            0x0E, 0x0E, 0x0E,        // ST->, IE->, DT-> : DT, IE, ST
                            0x00, 0x00, 0x00, 0x00,
                            0x00, 0x0E, 0x0E, 0x0E,  // MT<> none; ST<>, IE<>, DT<> : DT, IE, ST
                            0x00, 0x00, 0x00, 0x00};
    EXPECT_EQ(mode_page(0x1F), expected);
    EXPECT_EQ(mode_page(0x1F, 2), expected);
}

TEST_F(SmcPages, AllPagesIncludeTheChangerPagesInOrder) {
    auto r = host->send(fixtures::mode_sense10(true, 0, 0x3F, 0, 4096), 4096);
    ASSERT_EQ(r.status, Status::Good);
    auto v = fixtures::decode_mode_sense10(r.data);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->block_descriptor_length, 0);
    std::vector<uint8_t> codes;
    for (const auto& p : v->pages) codes.push_back(p.code);
    EXPECT_NE(std::find(codes.begin(), codes.end(), 0x1D), codes.end());
    EXPECT_TRUE(std::is_sorted(codes.begin(), codes.end()));
    EXPECT_EQ(v->find(0x1D)->bytes, kAssignment);
    EXPECT_TRUE(v->find(0x1E));
    EXPECT_TRUE(v->find(0x1F));
}

TEST_F(SmcPages, ChangerPagesCannotBeChanged) {
    // Sending a page back unchanged is accepted; changing a byte is not.
    Bytes list = concat({{0, 0, 0, 0}, kAssignment});
    EXPECT_EQ(host->send(fixtures::mode_select6(true, false, uint8_t(list.size())), 0, list).status, Status::Good);
    list[4 + 5] = 0x02;  // one more robot
    EXPECT_TRUE(IsCheck(host->send(fixtures::mode_select6(true, false, uint8_t(list.size())), 0, list),
                        invalid_param(9, 1)));
    EXPECT_EQ(mode_page(0x1D), kAssignment);
}

TEST_F(SmcPages, TapeAlertHasSixtyFourFlags) {
    auto r = host->send(fixtures::log_sense(false, false, 1, 0x2E, 0, 0, 1024), 1024);
    ASSERT_EQ(r.status, Status::Good);
    ASSERT_EQ(r.data.size(), 4u + 64 * 5);
    EXPECT_EQ(r.data[0] & 0x3F, 0x2E);
    EXPECT_EQ(scsi::get_be16(&r.data[2]), 320);
    auto v = fixtures::decode_log_page(r.data);
    ASSERT_TRUE(v);
    ASSERT_EQ(v->parameters.size(), 64u);
    for (uint16_t i = 0; i < 64; ++i) {
        const auto& p = v->parameters[i];
        EXPECT_EQ(p.code, i + 1);
        EXPECT_EQ(p.control, 0x03);  // binary list
        EXPECT_EQ(p.value, Bytes{0x00});
    }
    // Flag 16, library door: set while the door is open, cleared when it closes.
    ASSERT_EQ(lib->open_ie_door(), std::nullopt);
    drain();
    v = fixtures::decode_log_page(host->send(fixtures::log_sense(false, false, 1, 0x2E, 0, 0, 1024), 1024).data);
    ASSERT_TRUE(v);
    for (const auto& p : v->parameters) EXPECT_EQ(p.value, Bytes{uint8_t(p.code == 0x10 ? 1 : 0)}) << p.code;
    ASSERT_EQ(lib->close_ie_door(), std::nullopt);
    drain();
    v = fixtures::decode_log_page(host->send(fixtures::log_sense(false, false, 1, 0x2E, 0, 0, 1024), 1024).data);
    EXPECT_EQ(v->find(0x10)->value, Bytes{0x00});
    // From a parameter pointer on.
    v = fixtures::decode_log_page(host->send(fixtures::log_sense(false, false, 1, 0x2E, 0, 0x3F, 1024), 1024).data);
    ASSERT_TRUE(v);
    ASSERT_EQ(v->parameters.size(), 2u);
    EXPECT_EQ(v->parameters[0].code, 0x3F);

    auto s = fixtures::decode_log_page(host->send(fixtures::log_sense(false, false, 1, 0x00, 0, 0, 1024), 1024).data);
    ASSERT_TRUE(s);
    EXPECT_NE(std::find(s->supported_pages.begin(), s->supported_pages.end(), 0x2E), s->supported_pages.end());
    EXPECT_NE(std::find(s->supported_pages.begin(), s->supported_pages.end(), 0x0D), s->supported_pages.end());
}

// REPORT SUPPORTED OPERATION CODES, one command with timeouts: the usage data and the nominal
// and recommended timeouts (SPC-4).
struct Reported {
    Bytes usage;
    uint32_t nominal = 0;
    uint32_t recommended = 0;
};

TEST_F(SmcPages, OperationCodesWithTheirTimeouts) {
    auto one = [&](uint8_t opcode) -> std::optional<Reported> {
        auto r = host->send(fixtures::rsoc(true, 1, opcode, 0, 1024), 1024);
        if (r.status != Status::Good || r.data.size() < 4 || (r.data[1] & 0x07) != 0x03) return std::nullopt;
        const size_t n = scsi::get_be16(&r.data[2]);
        Reported out;
        out.usage.assign(r.data.begin() + 4, r.data.begin() + 4 + n);
        const uint8_t* t = &r.data[4 + n];
        EXPECT_EQ(scsi::get_be16(t), 0x0A);
        out.nominal = scsi::get_be32(t + 4);
        out.recommended = scsi::get_be32(t + 8);
        return out;
    };
    auto move = one(0xA5);
    ASSERT_TRUE(move);
    EXPECT_EQ(move->usage, (Bytes{0xA5, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01, 0x07}));
    EXPECT_EQ(move->nominal, 120u);
    EXPECT_EQ(move->recommended, 900u);
    auto res = one(0xB8);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->usage, (Bytes{0xB8, 0x1F, 0xFF, 0xFF, 0xFF, 0xFF, 0x03, 0xFF, 0xFF, 0xFF, 0x00, 0x07}));
    auto ies = one(0x07);
    ASSERT_TRUE(ies);
    EXPECT_EQ(ies->recommended, 3600u);
    for (uint8_t op : {0x07, 0x1B, 0x2B, 0x37, 0xA5, 0xA6, 0xB5, 0xB6, 0xB8}) EXPECT_TRUE(one(op)) << int(op);
    EXPECT_FALSE(one(0xE7));  // generic personality
    build(small_config(config::Personality::QuantumI6000));
    auto e7 = one(0xE7);
    ASSERT_TRUE(e7);
    EXPECT_EQ(e7->usage, (Bytes{0xE7, 0x03, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x07}));
}

}  // namespace
