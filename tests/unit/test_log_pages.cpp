// LOG SENSE and LOG SELECT through a logical unit, byte for byte against SPC-4: the log page
// format, Supported Log Pages (00h), Supported Log Pages and Subpages (00h/FFh), Supported
// Subpages (xxh/FFh) and Temperature (0Dh, 7.3.21).
#include <gtest/gtest.h>

#include <memory>
#include <optional>

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
using vtl::fixtures::Response;
using vtl::scsi::Status;

constexpr uint8_t kThreshold = 0, kCumulative = 1, kDefaultCumulative = 3;

Bytes log_sense(uint8_t page, uint8_t subpage = 0, uint16_t alloc = 0x400, uint16_t pointer = 0,
                uint8_t pc = kCumulative, uint8_t byte1 = 0) {
    return {0x4D, byte1, uint8_t(pc << 6 | page), subpage, 0, uint8_t(pointer >> 8), uint8_t(pointer),
            uint8_t(alloc >> 8), uint8_t(alloc), 0x00};
}
Bytes log_select(bool pcr, uint8_t page = 0, uint8_t subpage = 0, uint16_t length = 0, uint8_t pc = kCumulative,
                 bool sp = false) {
    return {0x4C, uint8_t((pcr ? 0x02 : 0) | (sp ? 0x01 : 0)), uint8_t(pc << 6 | page), subpage, 0, 0, 0,
            uint8_t(length >> 8), uint8_t(length), 0x00};
}

// DS=1 (never saved) and page 0Dh in byte 0, PAGE LENGTH 12; parameter 0000h 35 °C and 0001h 55 °C, each
// control 03h (binary list), length 2, a reserved byte, then the value.
const Bytes kTemperature = {0x8D, 0x00, 0x00, 0x0C,                          // header
                            0x00, 0x00, 0x03, 0x02, 0x00, 0x23,              // 0000h: 35
                            0x00, 0x01, 0x03, 0x02, 0x00, 0x37};             // 0001h: 55


vtl::DeviceIdentity identity() {
    vtl::DeviceIdentity id;
    id.vendor = "VTL";
    id.product = "ULTRIUM-TD9";
    id.revision = "0100";
    id.serial = "TEST0001";
    return id;
}

class LogTest : public testing::Test {
protected:
    void SetUp() override { host.clear_power_on_attention(); }

    // A vendor page (30h) with one resettable counter, and a subpage of it, added by the test.
    void add_counter_pages() {
        vtl::LogPage p;
        p.code = 0x30;
        p.name = "Test counter";
        p.parameters = [this](vtl::LogPc) {
            return std::vector<vtl::LogParameter>{
                {0x0000, vtl::kLogBoundedCounter, {0x00, uint8_t(counter)}},
                {0x0005, vtl::kLogBoundedCounter, {0x00, 0x07}},
            };
        };
        p.reset = [this] {
            ++resets;
            counter = 0;
        };
        lu.log_pages().add(std::move(p));
        vtl::LogPage sub;
        sub.code = 0x30;
        sub.subpage = 0x02;
        sub.name = "Test counter, subpage";
        sub.parameters = [](vtl::LogPc) { return std::vector<vtl::LogParameter>{}; };
        sub.reset = [this] { ++subpage_resets; };
        lu.log_pages().add(std::move(sub));
    }

    vtl::VirtualClock clock;
    vtl::LogicalUnit lu{"lib0/drive0", clock, std::make_unique<vtl::TapeDrive>(identity())};
    vtl::fixtures::Initiator host{lu, clock};
    int counter = 9;
    int resets = 0;
    int subpage_resets = 0;
};

// ---- LOG SENSE -----------------------------------------------------------------------------

TEST_F(LogTest, SupportedPages) {
    auto r = host.send(log_sense(0x00), 0x400);
    ASSERT_EQ(r.status, Status::Good);
    // 00h itself and the temperature page, ascending.
    EXPECT_EQ(r.data, (Bytes{0x80, 0x00, 0x00, 0x02, 0x00, 0x0D}));
    EXPECT_EQ(r.residual, 0x400u - 6);

    add_counter_pages();
    r = host.send(log_sense(0x00), 0x400);
    ASSERT_EQ(r.status, Status::Good);
    // 30h/02h has SPF set; 30h/00h is what lists 30h here.
    EXPECT_EQ(r.data, (Bytes{0x80, 0x00, 0x00, 0x03, 0x00, 0x0D, 0x30}));
}

TEST_F(LogTest, SupportedPagesAndSubpages) {
    add_counter_pages();
    auto r = host.send(log_sense(0x00, 0xFF), 0x400);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0xC0, 0xFF, 0x00, 0x0A,  // DS, SPF, 00h/FFh, 5 pairs
                             0x00, 0x00, 0x00, 0xFF, 0x0D, 0x00, 0x30, 0x00, 0x30, 0x02}));
}

TEST_F(LogTest, SupportedSubpagesOfOnePage) {
    add_counter_pages();
    auto r = host.send(log_sense(0x30, 0xFF), 0x400);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0xF0, 0xFF, 0x00, 0x04, 0x30, 0x00, 0x30, 0x02}));
    auto t = host.send(log_sense(0x0D, 0xFF), 0x400);
    ASSERT_EQ(t.status, Status::Good);
    EXPECT_EQ(t.data, (Bytes{0xCD, 0xFF, 0x00, 0x02, 0x0D, 0x00}));
}

TEST_F(LogTest, Temperature) {
    for (uint8_t pc : {kThreshold, kCumulative, kDefaultCumulative}) {
        auto r = host.send(log_sense(0x0D, 0, 0x400, 0, pc), 0x400);
        ASSERT_EQ(r.status, Status::Good) << int(pc);
        EXPECT_EQ(r.data, kTemperature) << int(pc);
    }
}

TEST_F(LogTest, SubpageHeaderHasSpf) {
    add_counter_pages();
    auto r = host.send(log_sense(0x30, 0x02), 0x400);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0xF0, 0x02, 0x00, 0x00}));
}

TEST_F(LogTest, ParameterPointer) {
    auto r = host.send(log_sense(0x0D, 0, 0x400, 0x0001), 0x400);
    ASSERT_EQ(r.status, Status::Good);
    // Only 0001h, and PAGE LENGTH counts what is returned.
    EXPECT_EQ(r.data, (Bytes{0x8D, 0x00, 0x00, 0x06, 0x00, 0x01, 0x03, 0x02, 0x00, 0x37}));

    add_counter_pages();
    // Between codes: the next one up.
    auto c = host.send(log_sense(0x30, 0, 0x400, 0x0003), 0x400);
    ASSERT_EQ(c.status, Status::Good);
    EXPECT_EQ(c.data, (Bytes{0xB0, 0x00, 0x00, 0x06, 0x00, 0x05, 0x02, 0x02, 0x00, 0x07}));
}

TEST_F(LogTest, ParameterPointerPastTheLastCode) {
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x0D, 0, 0x400, 0x0002), 0x400), invalid_cdb(5)));
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x0D, 0, 0x400, 0xFFFF), 0x400), invalid_cdb(5)));
    // The supported pages lists have no parameter codes at all.
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x00, 0, 0x400, 0x0001), 0x400), invalid_cdb(5)));
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x00, 0xFF, 0x400, 0x0001), 0x400), invalid_cdb(5)));
    add_counter_pages();
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x30, 0x02, 0x400, 0x0001), 0x400), invalid_cdb(5)));
}

TEST_F(LogTest, PpcAndSpAreNotSupported) {
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x0D, 0, 0x400, 0, kCumulative, 0x02), 0x400), invalid_cdb(1, 1)));
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x0D, 0, 0x400, 0, kCumulative, 0x01), 0x400), invalid_cdb(1, 0)));
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x0D, 0, 0x400, 0, kCumulative, 0x04), 0x400), invalid_cdb(1, 2)));
    auto cdb = log_sense(0x0D);
    cdb[4] = 0x10;  // reserved
    EXPECT_TRUE(IsCheck(host.send(cdb, 0x400), invalid_cdb(4, 4)));
}

TEST_F(LogTest, UnsupportedPages) {
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x17), 0x400), invalid_cdb(2)));
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x17, 0xFF), 0x400), invalid_cdb(2)));
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x0D, 0x01), 0x400), invalid_cdb(3)));
    EXPECT_TRUE(IsCheck(host.send(log_sense(0x00, 0x01), 0x400), invalid_cdb(3)));
}

TEST_F(LogTest, AllocationLengths) {
    struct Case {
        uint16_t alloc;
        Bytes data;
    };
    for (const auto& c : {Case{0, {}}, Case{3, {0x8D, 0x00, 0x00}}, Case{4, {0x8D, 0x00, 0x00, 0x0C}},
                          Case{7, {0x8D, 0x00, 0x00, 0x0C, 0x00, 0x00, 0x03}}}) {
        auto r = host.send(log_sense(0x0D, 0, c.alloc), 0xFF);
        ASSERT_EQ(r.status, Status::Good) << c.alloc;
        EXPECT_EQ(r.data, c.data) << c.alloc;
        EXPECT_EQ(r.residual, 0xFFu - c.data.size()) << c.alloc;
        EXPECT_FALSE(r.overflow) << c.alloc;
    }
}

TEST_F(LogTest, BufferSmallerThanTheAllocationLength) {
    auto r = host.send(log_sense(0x0D, 0, 0x400), 5);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0x8D, 0x00, 0x00, 0x0C, 0x00}));
    EXPECT_EQ(r.residual, 0u);
    EXPECT_TRUE(r.overflow);
}

TEST_F(LogTest, ChangerHasTheSamePages) {
    vtl::VirtualClock c;
    vtl::DeviceIdentity id = identity();
    id.product = "LIBRARY";
    vtl::LogicalUnit changer("lib0/changer", c, std::make_unique<vtl::MediumChanger>(id));
    vtl::fixtures::Initiator h(changer, c);
    h.clear_power_on_attention();
    EXPECT_EQ(h.send(log_sense(0x0D), 0x400).data, kTemperature);
}

TEST_F(LogTest, LogSenseRunsUnderAnotherNexusReservation) {
    vtl::fixtures::Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    lu.reserve(other.nexus());
    EXPECT_EQ(host.send(log_sense(0x0D), 0x400).status, Status::Good);
    EXPECT_EQ(host.send(log_select(true)).status, Status::ReservationConflict);
    EXPECT_EQ(other.send(log_select(true)).status, Status::Good);
}

TEST_F(LogTest, CommandsAreRegisteredWithUsageData) {
    const auto* sense = lu.commands().find(0x4D, std::nullopt);
    ASSERT_NE(sense, nullptr);
    EXPECT_EQ(sense->usage, (Bytes{0x4D, 0x03, 0xFF, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x07}));
    EXPECT_TRUE(sense->allowed_when_reserved);
    const auto* select = lu.commands().find(0x4C, std::nullopt);
    ASSERT_NE(select, nullptr);
    EXPECT_EQ(select->usage, (Bytes{0x4C, 0x03, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x07}));
    EXPECT_FALSE(select->allowed_when_reserved);
}

// ---- LOG SELECT ----------------------------------------------------------------------------

TEST_F(LogTest, ParameterCodeResetOfEveryPage) {
    add_counter_pages();
    vtl::fixtures::Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();

    ASSERT_EQ(host.send(log_select(true)).status, Status::Good);
    EXPECT_EQ(resets, 1);
    EXPECT_EQ(subpage_resets, 1);
    auto r = host.send(log_sense(0x30), 0x400);
    ASSERT_EQ(r.status, Status::Good);  // no unit attention for the nexus that reset
    EXPECT_EQ(r.data.at(9), 0x00);     // the counter

    EXPECT_TRUE(IsCheck(other.send(log_sense(0x30), 0x400), {0x06, 0x2A, 0x02}));
    EXPECT_EQ(other.send(log_sense(0x30), 0x400).status, Status::Good);
}

TEST_F(LogTest, ParameterCodeResetOfOnePage) {
    add_counter_pages();
    ASSERT_EQ(host.send(log_select(true, 0x30, 0x00)).status, Status::Good);
    EXPECT_EQ(resets, 1);
    EXPECT_EQ(subpage_resets, 0);
    ASSERT_EQ(host.send(log_select(true, 0x30, 0x02)).status, Status::Good);
    EXPECT_EQ(resets, 1);
    EXPECT_EQ(subpage_resets, 1);
    ASSERT_EQ(host.send(log_select(true, 0x30, 0xFF)).status, Status::Good);
    EXPECT_EQ(resets, 2);
    EXPECT_EQ(subpage_resets, 2);
}

TEST_F(LogTest, ResetOfAPageWithNothingToResetTellsNobody) {
    add_counter_pages();
    vtl::fixtures::Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    ASSERT_EQ(host.send(log_select(true, 0x0D)).status, Status::Good);
    EXPECT_EQ(resets, 0);
    EXPECT_EQ(other.send(log_sense(0x0D), 0x400).status, Status::Good);
}

TEST_F(LogTest, SelectWithoutPcrOrListIsANoOp) {
    add_counter_pages();
    vtl::fixtures::Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    EXPECT_EQ(host.send(log_select(false)).status, Status::Good);
    EXPECT_EQ(host.send(log_select(false, 0x30)).status, Status::Good);
    EXPECT_EQ(resets, 0);
    EXPECT_EQ(host.send(log_sense(0x30), 0x400).data.at(9), 9);
    EXPECT_EQ(other.send(log_sense(0x30), 0x400).status, Status::Good);
}

TEST_F(LogTest, SelectCdbErrors) {
    add_counter_pages();
    // SP=1: log parameters are never saved.
    EXPECT_TRUE(IsCheck(host.send(log_select(false, 0, 0, 0, kCumulative, true)), invalid_cdb(1, 0)));
    EXPECT_TRUE(IsCheck(host.send(log_select(true, 0, 0, 0, kCumulative, true)), invalid_cdb(1, 0)));
    // PCR=1 takes no parameter list.
    EXPECT_TRUE(IsCheck(host.send(log_select(true, 0, 0, 4), 0, {0x30, 0x00, 0x00, 0x00}), invalid_cdb(1, 1)));
    // With a list, the pages are named in the list.
    EXPECT_TRUE(IsCheck(host.send(log_select(false, 0x30, 0, 4), 0, {0x30, 0x00, 0x00, 0x00}), invalid_cdb(2)));
    EXPECT_TRUE(IsCheck(host.send(log_select(false, 0x00, 2, 4), 0, {0x30, 0x00, 0x00, 0x00}), invalid_cdb(3)));
    // Unknown pages for a reset.
    EXPECT_TRUE(IsCheck(host.send(log_select(true, 0x17)), invalid_cdb(2)));
    EXPECT_TRUE(IsCheck(host.send(log_select(true, 0x17, 0xFF)), invalid_cdb(2)));
    EXPECT_TRUE(IsCheck(host.send(log_select(true, 0x30, 0x05)), invalid_cdb(3)));
    auto cdb = log_select(true);
    cdb[5] = 0x02;
    EXPECT_TRUE(IsCheck(host.send(cdb), invalid_cdb(5, 1)));
    EXPECT_EQ(resets, 0);
    EXPECT_EQ(subpage_resets, 0);
}

TEST_F(LogTest, SelectParameterListErrors) {
    add_counter_pages();
    // Less data-out than the list length.
    EXPECT_TRUE(IsCheck(host.send(log_select(false, 0, 0, 8), 0, {0x30, 0x00, 0x00, 0x00}), {0x05, 0x1A, 0x00}));
    // A header cut short.
    EXPECT_TRUE(IsCheck(host.send(log_select(false, 0, 0, 2), 0, {0x30, 0x00}), {0x05, 0x1A, 0x00}));
    // An unknown page.
    EXPECT_TRUE(IsCheck(host.send(log_select(false, 0, 0, 4), 0, {0x17, 0x00, 0x00, 0x00}), invalid_param(0)));
    // An unknown subpage of a known page, in the second header.
    EXPECT_TRUE(IsCheck(host.send(log_select(false, 0, 0, 8), 0, {0x30, 0x00, 0x00, 0x00, 0x70, 0x05, 0x00, 0x00}),
                        invalid_param(5)));
    // A parameter: nothing here can be set.
    const Bytes param = {0x30, 0x00, 0x00, 0x06, 0x00, 0x00, 0x02, 0x02, 0x00, 0x05};
    EXPECT_TRUE(IsCheck(host.send(log_select(false, 0, 0, uint16_t(param.size())), 0, param), invalid_param(4)));
    // A PAGE LENGTH running past the list.
    const Bytes longer = {0x30, 0x00, 0x00, 0x08, 0x00, 0x00, 0x02, 0x02, 0x00, 0x05};
    EXPECT_TRUE(IsCheck(host.send(log_select(false, 0, 0, uint16_t(longer.size())), 0, longer), invalid_param(2)));
    EXPECT_EQ(host.send(log_sense(0x30), 0x400).data.at(9), 9);
    // Headers alone name pages and set nothing.
    EXPECT_EQ(host.send(log_select(false, 0, 0, 8), 0, {0x30, 0x00, 0x00, 0x00, 0x70, 0x02, 0x00, 0x00}).status,
              Status::Good);
    EXPECT_EQ(resets, 0);
}

}  // namespace
