// MODE SENSE(6/10) and MODE SELECT(6/10) through a logical unit, byte for byte against the
// SPC-4 tables: mode parameter headers, short block descriptors, and the Control (7.5.8),
// Control Extension and Informational Exceptions Control pages.
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

// PC field values.
constexpr uint8_t kCurrent = 0, kChangeable = 1, kDefault = 2, kSaved = 3;

Bytes mode_sense6(uint8_t pc, uint8_t page, uint8_t subpage = 0, uint8_t alloc = 0xFF, bool dbd = false) {
    return {0x1A, uint8_t(dbd ? 0x08 : 0x00), uint8_t(pc << 6 | page), subpage, alloc, 0x00};
}
Bytes mode_sense10(uint8_t pc, uint8_t page, uint8_t subpage = 0, uint16_t alloc = 0x400, bool dbd = false) {
    return {0x5A, uint8_t(dbd ? 0x08 : 0x00), uint8_t(pc << 6 | page), subpage, 0, 0, 0,
            uint8_t(alloc >> 8), uint8_t(alloc), 0x00};
}
Bytes mode_select6(uint8_t length, bool sp = false) {
    return {0x15, uint8_t(0x10 | (sp ? 0x01 : 0x00)), 0, 0, length, 0x00};
}
Bytes mode_select10(uint16_t length, bool sp = false) {
    return {0x55, uint8_t(0x10 | (sp ? 0x01 : 0x00)), 0, 0, 0, 0, 0, uint8_t(length >> 8), uint8_t(length), 0x00};
}
Bytes slice(const Bytes& b, size_t from, size_t n) { return Bytes(b.begin() + from, b.begin() + from + n); }

// The pages as SPC-4 lays them out, PS set (all three are savable).
const Bytes kControl = {0x8A, 0x0A, 0x02, 0x10, 0x00, 0x40, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00};
const Bytes kControlChangeable = {0x8A, 0x0A, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
const Bytes kControlExtension = concat({{0xCA, 0x01, 0x00, 0x1C}, Bytes(0x1C, 0x00)});
const Bytes kInformationalExceptions = {0x9C, 0x0A, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0};
// The tape drive's block descriptor: density 0, 0 blocks, block length 0 (variable).
const Bytes kTapeDescriptor = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

// The control page as MODE SELECT sends it back (PS clear), with byte 2 chosen.
Bytes control_for_select(uint8_t byte2) {
    Bytes p = kControl;
    p[0] = 0x0A;
    p[2] = byte2;
    return p;
}
const Bytes kSelectHeader6 = {0x00, 0x00, 0x00, 0x00};
const Bytes kSelectHeader10 = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

const ExpectedSense kListLengthError{0x05, 0x1A, 0x00};

vtl::DeviceIdentity identity(vtl::PeripheralType type) {
    vtl::DeviceIdentity id;
    id.type = type;
    id.vendor = "VTL";
    id.product = type == vtl::PeripheralType::MediumChanger ? "LIBRARY" : "ULTRIUM-TD9";
    id.revision = "0100";
    id.serial = "TEST0001";
    return id;
}

class ModeTest : public testing::Test {
protected:
    void SetUp() override { host.clear_power_on_attention(); }

    // The control page's current value, read the way a host would.
    Bytes control_page() {
        auto r = host.send(mode_sense6(kCurrent, 0x0A, 0, 0xFF, true), 0xFF);
        EXPECT_EQ(r.status, Status::Good);
        return r.data.size() >= 16 ? slice(r.data, 4, 12) : Bytes{};
    }
    Bytes block_descriptor() {
        auto r = host.send(mode_sense6(kCurrent, 0x0A), 0xFF);
        EXPECT_EQ(r.status, Status::Good);
        return r.data.size() >= 12 ? slice(r.data, 4, 8) : Bytes{};
    }
    // A page only the test has: savable or not, byte 2 changeable.
    void add_vendor_page(uint8_t code, bool savable) {
        vtl::ModePage p;
        p.code = code;
        p.savable = savable;
        p.defaults = {code, 0x02, 0x11, 0x00};
        p.changeable = {0x00, 0x00, 0xFF, 0x00};
        lu.mode_pages().add(std::move(p));
    }

    vtl::VirtualClock clock;
    vtl::LogicalUnit lu{"lib0/drive0", clock,
                        std::make_unique<vtl::TapeDrive>(identity(vtl::PeripheralType::SequentialAccess))};
    vtl::fixtures::Initiator host{lu, clock};
};

// ---- MODE SENSE ----------------------------------------------------------------------------

TEST_F(ModeTest, Sense6ControlPageWithBlockDescriptor) {
    auto r = host.send(mode_sense6(kCurrent, 0x0A), 0xFF);
    ASSERT_EQ(r.status, Status::Good);
    // MODE DATA LENGTH 23, MEDIUM TYPE 0, DEVICE-SPECIFIC 10h (buffered mode 1), BLOCK
    // DESCRIPTOR LENGTH 8.
    const Bytes expected = concat({{0x17, 0x00, 0x10, 0x08}, kTapeDescriptor, kControl});
    EXPECT_EQ(r.data, expected);
    EXPECT_EQ(r.residual, 0xFFu - expected.size());
}

TEST_F(ModeTest, Sense10ControlPageWithBlockDescriptor) {
    auto r = host.send(mode_sense10(kCurrent, 0x0A), 0x400);
    ASSERT_EQ(r.status, Status::Good);
    // MODE DATA LENGTH 26, MEDIUM TYPE 0, DEVICE-SPECIFIC 10h, LONGLBA 0, reserved,
    // BLOCK DESCRIPTOR LENGTH 8.
    const Bytes expected = concat({{0x00, 0x1A, 0x00, 0x10, 0x00, 0x00, 0x00, 0x08}, kTapeDescriptor, kControl});
    EXPECT_EQ(r.data, expected);
}

TEST_F(ModeTest, Sense10WithLlbaaStillReturnsShortDescriptor) {
    auto cdb = mode_sense10(kCurrent, 0x0A);
    cdb[1] |= 0x10;  // LLBAA
    auto r = host.send(cdb, 0x400);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data[4] & 0x01, 0);  // LONGLBA
    EXPECT_EQ(r.data[7], 8);
}

TEST_F(ModeTest, SenseWithDbdHasNoBlockDescriptor) {
    auto r6 = host.send(mode_sense6(kCurrent, 0x0A, 0, 0xFF, true), 0xFF);
    ASSERT_EQ(r6.status, Status::Good);
    EXPECT_EQ(r6.data, concat({{0x0F, 0x00, 0x10, 0x00}, kControl}));
    auto r10 = host.send(mode_sense10(kCurrent, 0x0A, 0, 0x400, true), 0x400);
    ASSERT_EQ(r10.status, Status::Good);
    EXPECT_EQ(r10.data, concat({{0x00, 0x12, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00}, kControl}));
}

TEST(ModeChanger, SenseHasNoBlockDescriptorEvenWithoutDbd) {
    vtl::VirtualClock clock;
    vtl::LogicalUnit lu("lib0/changer", clock,
                        std::make_unique<vtl::MediumChanger>(identity(vtl::PeripheralType::MediumChanger)));
    vtl::fixtures::Initiator host(lu, clock);
    host.clear_power_on_attention();
    auto r6 = host.send(mode_sense6(kCurrent, 0x0A), 0xFF);
    ASSERT_EQ(r6.status, Status::Good);
    EXPECT_EQ(r6.data, concat({{0x0F, 0x00, 0x00, 0x00}, kControl}));
    auto r10 = host.send(mode_sense10(kCurrent, 0x0A), 0x400);
    ASSERT_EQ(r10.status, Status::Good);
    EXPECT_EQ(r10.data, concat({{0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, kControl}));
    // And PC=changeable has no descriptor mask to report either.
    auto rc = host.send(mode_sense6(kChangeable, 0x0A), 0xFF);
    ASSERT_EQ(rc.status, Status::Good);
    EXPECT_EQ(rc.data, concat({{0x0F, 0x00, 0x00, 0x00}, kControlChangeable}));
}

TEST_F(ModeTest, ChangeableValues) {
    auto r = host.send(mode_sense6(kChangeable, 0x0A), 0xFF);
    ASSERT_EQ(r.status, Status::Good);
    // Device-specific reports no changeable bits; the descriptor only its BLOCK LENGTH.
    const Bytes expected = concat(
        {{0x17, 0x00, 0x00, 0x08}, {0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF}, kControlChangeable});
    EXPECT_EQ(r.data, expected);

    auto ext = host.send(mode_sense6(kChangeable, 0x0A, 0x01, 0xFF, true), 0xFF);
    ASSERT_EQ(ext.status, Status::Good);
    EXPECT_EQ(ext.data, concat({{0x23, 0x00, 0x00, 0x00}, {0xCA, 0x01, 0x00, 0x1C}, Bytes(0x1C, 0x00)}));

    auto ie = host.send(mode_sense6(kChangeable, 0x1C, 0, 0xFF, true), 0xFF);
    ASSERT_EQ(ie.status, Status::Good);
    const Bytes ie_mask = {0x9C, 0x0A, 0x0C, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    EXPECT_EQ(ie.data, concat({{0x0F, 0x00, 0x00, 0x00}, ie_mask}));
}

TEST_F(ModeTest, DefaultAndSavedValuesStartAsDefaults) {
    for (uint8_t pc : {kDefault, kSaved}) {
        auto r = host.send(mode_sense6(pc, 0x0A, 0, 0xFF, true), 0xFF);
        ASSERT_EQ(r.status, Status::Good) << int(pc);
        EXPECT_EQ(r.data, concat({{0x0F, 0x00, 0x10, 0x00}, kControl})) << int(pc);
    }
}

TEST_F(ModeTest, AllPagesAllSubpagesInOrder) {
    auto r = host.send(mode_sense10(kCurrent, 0x3F, 0xFF, 0x400, true), 0x400);
    ASSERT_EQ(r.status, Status::Good);
    // 0Ah/00h, then 0Ah/01h, then 1Ch/00h: ascending page, then subpage.
    const Bytes pages = concat({kControl, kControlExtension, kInformationalExceptions});
    const uint16_t length = uint16_t(6 + pages.size());
    EXPECT_EQ(r.data, concat({{uint8_t(length >> 8), uint8_t(length), 0x00, 0x10, 0x00, 0x00, 0x00, 0x00}, pages}));
}

TEST_F(ModeTest, AllPagesSubpageZeroOnly) {
    auto r = host.send(mode_sense6(kCurrent, 0x3F, 0x00, 0xFF, true), 0xFF);
    ASSERT_EQ(r.status, Status::Good);
    const Bytes pages = concat({kControl, kInformationalExceptions});
    EXPECT_EQ(r.data, concat({{uint8_t(3 + pages.size()), 0x00, 0x10, 0x00}, pages}));
}

TEST_F(ModeTest, AllSubpagesOfOnePage) {
    auto r = host.send(mode_sense6(kCurrent, 0x0A, 0xFF, 0xFF, true), 0xFF);
    ASSERT_EQ(r.status, Status::Good);
    const Bytes pages = concat({kControl, kControlExtension});
    EXPECT_EQ(r.data, concat({{uint8_t(3 + pages.size()), 0x00, 0x10, 0x00}, pages}));

    auto sub = host.send(mode_sense6(kCurrent, 0x0A, 0x01, 0xFF, true), 0xFF);
    ASSERT_EQ(sub.status, Status::Good);
    EXPECT_EQ(sub.data, concat({{0x23, 0x00, 0x10, 0x00}, kControlExtension}));
}

TEST_F(ModeTest, AllocationLengthCutsButKeepsTheFullLength) {
    auto r = host.send(mode_sense6(kCurrent, 0x0A, 0, 5), 0xFF);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0x17, 0x00, 0x10, 0x08, 0x00}));
    EXPECT_EQ(r.residual, 0xFFu - 5);

    auto zero = host.send(mode_sense10(kCurrent, 0x0A, 0, 0), 0x400);
    ASSERT_EQ(zero.status, Status::Good);
    EXPECT_TRUE(zero.data.empty());
}

TEST_F(ModeTest, SenseUnsupportedPagesAndSubpages) {
    EXPECT_TRUE(IsCheck(host.send(mode_sense6(kCurrent, 0x19), 0xFF), invalid_cdb(2)));
    EXPECT_TRUE(IsCheck(host.send(mode_sense10(kCurrent, 0x19), 0x400), invalid_cdb(2)));
    EXPECT_TRUE(IsCheck(host.send(mode_sense6(kCurrent, 0x19, 0xFF), 0xFF), invalid_cdb(2)));
    // The page exists, the subpage does not.
    EXPECT_TRUE(IsCheck(host.send(mode_sense6(kCurrent, 0x0A, 0x02), 0xFF), invalid_cdb(3)));
    EXPECT_TRUE(IsCheck(host.send(mode_sense10(kCurrent, 0x1C, 0x01), 0x400), invalid_cdb(3)));
    // 3Fh with subpage 01h-FEh is reserved.
    EXPECT_TRUE(IsCheck(host.send(mode_sense6(kCurrent, 0x3F, 0x05), 0xFF), invalid_cdb(3)));
}

TEST_F(ModeTest, SenseReservedCdbBits) {
    auto six = mode_sense6(kCurrent, 0x0A);
    six[1] |= 0x10;  // LLBAA does not exist in MODE SENSE(6)
    EXPECT_TRUE(IsCheck(host.send(six, 0xFF), invalid_cdb(1, 4)));
    auto ten = mode_sense10(kCurrent, 0x0A);
    ten[5] = 0x21;
    EXPECT_TRUE(IsCheck(host.send(ten, 0x400), invalid_cdb(5, 5)));
    ten = mode_sense10(kCurrent, 0x0A);
    ten[1] |= 0x01;
    EXPECT_TRUE(IsCheck(host.send(ten, 0x400), invalid_cdb(1, 0)));
}

// Linux's ch driver puts the LUN in MODE SENSE(6) byte 1 bits 7-5 (SCSI-2's field, obsolete):
// LUN 1 of a bridging drive sends 20h there. The bits are ignored, the answer is the same.
TEST_F(ModeTest, SenseSixIgnoresTheObsoleteLunBits) {
    const auto plain = host.send(mode_sense6(kCurrent, 0x0A), 0xFF);
    ASSERT_EQ(plain.status, Status::Good);
    for (uint8_t lun : {0x20, 0x40, 0xE0}) {
        auto six = mode_sense6(kCurrent, 0x0A);
        six[1] |= lun;
        const auto r = host.send(six, 0xFF);
        ASSERT_EQ(r.status, Status::Good) << "byte 1 = " << int(six[1]);
        EXPECT_EQ(r.data, plain.data);
    }
}

TEST_F(ModeTest, SavedValuesOfANonSavablePage) {
    add_vendor_page(0x25, false);
    auto current = host.send(mode_sense6(kCurrent, 0x25, 0, 0xFF, true), 0xFF);
    ASSERT_EQ(current.status, Status::Good);
    EXPECT_EQ(current.data, (Bytes{0x07, 0x00, 0x10, 0x00, 0x25, 0x02, 0x11, 0x00}));  // PS clear
    EXPECT_TRUE(IsCheck(host.send(mode_sense6(kSaved, 0x25), 0xFF), {0x05, 0x39, 0x00}));
    // Among all pages it reports its default value, the others their saved ones.
    auto all = host.send(mode_sense10(kSaved, 0x3F, 0x00, 0x400, true), 0x400);
    ASSERT_EQ(all.status, Status::Good);
    EXPECT_EQ(slice(all.data, 8, all.data.size() - 8),
              concat({kControl, kInformationalExceptions, {0x25, 0x02, 0x11, 0x00}}));
}

// ---- MODE SELECT ---------------------------------------------------------------------------

TEST_F(ModeTest, SelectDSenseSwitchesSenseFormat) {
    // Fixed format before.
    auto before = host.send(mode_sense6(kCurrent, 0x19), 0xFF);
    ASSERT_EQ(before.status, Status::CheckCondition);
    EXPECT_EQ(before.sense.at(0), 0x70);

    const Bytes list = concat({kSelectHeader6, control_for_select(0x06)});  // D_SENSE + GLTSD
    auto r = host.send(mode_select6(uint8_t(list.size())), 0, list);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(control_page().at(2), 0x06);

    auto after = host.send(mode_sense6(kCurrent, 0x19), 0xFF);
    ASSERT_EQ(after.status, Status::CheckCondition);
    EXPECT_EQ(after.sense.at(0), 0x72);
    EXPECT_TRUE(IsCheck(after, invalid_cdb(2)));

    // And back with MODE SELECT(10).
    const Bytes off = concat({kSelectHeader10, control_for_select(0x02)});
    ASSERT_EQ(host.send(mode_select10(uint16_t(off.size())), 0, off).status, Status::Good);
    auto fixed = host.send(mode_sense6(kCurrent, 0x19), 0xFF);
    EXPECT_EQ(fixed.sense.at(0), 0x70);
}

TEST_F(ModeTest, SelectTellsTheOtherNexusOnly) {
    vtl::fixtures::Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();

    const Bytes list = concat({kSelectHeader6, control_for_select(0x06)});
    ASSERT_EQ(host.send(mode_select6(uint8_t(list.size())), 0, list).status, Status::Good);

    EXPECT_EQ(host.send(mode_sense6(kCurrent, 0x0A), 0xFF).status, Status::Good);
    // The other nexus now reads descriptor sense too: D_SENSE is per logical unit.
    auto ua = other.send(mode_sense6(kCurrent, 0x0A), 0xFF);
    EXPECT_TRUE(IsCheck(ua, {0x06, 0x2A, 0x01}));
    EXPECT_EQ(ua.sense.at(0), 0x72);
    EXPECT_EQ(other.send(mode_sense6(kCurrent, 0x0A), 0xFF).status, Status::Good);

    // Sending the same values again changes nothing, so nobody is told.
    ASSERT_EQ(host.send(mode_select6(uint8_t(list.size())), 0, list).status, Status::Good);
    EXPECT_EQ(other.send(mode_sense6(kCurrent, 0x0A), 0xFF).status, Status::Good);
}

TEST_F(ModeTest, SelectTheSensedDataBackChangesNothing) {
    auto sensed = host.send(mode_sense10(kCurrent, 0x3F, 0xFF), 0x400);
    ASSERT_EQ(sensed.status, Status::Good);
    Bytes list = sensed.data;
    list[0] = list[1] = 0;  // MODE DATA LENGTH is reserved in MODE SELECT
    for (size_t at = 16; at < list.size();) {  // clear PS of every page
        list[at] &= 0x7F;
        at += (list[at] & 0x40) ? 4 + (list[at + 2] << 8 | list[at + 3]) : 2 + list[at + 1];
    }
    vtl::fixtures::Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    ASSERT_EQ(host.send(mode_select10(uint16_t(list.size())), 0, list).status, Status::Good);
    EXPECT_EQ(other.send(mode_sense6(kCurrent, 0x0A), 0xFF).status, Status::Good);  // no 2A/01
    EXPECT_EQ(host.send(mode_sense10(kCurrent, 0x3F, 0xFF), 0x400).data, sensed.data);
}

TEST_F(ModeTest, SavedValuesSurviveLunReset) {
    const Bytes list = concat({kSelectHeader6, control_for_select(0x06)});
    ASSERT_EQ(host.send(mode_select6(uint8_t(list.size()), true), 0, list).status, Status::Good);
    auto saved = host.send(mode_sense6(kSaved, 0x0A, 0, 0xFF, true), 0xFF);
    ASSERT_EQ(saved.status, Status::Good);
    EXPECT_EQ(saved.data.at(4 + 2), 0x06);

    host.lun_reset();
    auto ua = host.send(mode_sense6(kCurrent, 0x0A), 0xFF);
    EXPECT_TRUE(IsCheck(ua, {0x06, 0x29, 0x03}));
    EXPECT_EQ(ua.sense.at(0), 0x72);  // D_SENSE came back from the saved values
    EXPECT_EQ(control_page().at(2), 0x06);
}

TEST_F(ModeTest, CurrentValuesAreLostOnLunReset) {
    const Bytes list = concat({kSelectHeader6, control_for_select(0x06)});
    ASSERT_EQ(host.send(mode_select6(uint8_t(list.size()), false), 0, list).status, Status::Good);
    EXPECT_EQ(control_page().at(2), 0x06);
    auto saved = host.send(mode_sense6(kSaved, 0x0A, 0, 0xFF, true), 0xFF);
    EXPECT_EQ(saved.data.at(4 + 2), 0x02);

    host.lun_reset();
    auto ua = host.send(mode_sense6(kCurrent, 0x0A), 0xFF);
    EXPECT_TRUE(IsCheck(ua, {0x06, 0x29, 0x03}));
    EXPECT_EQ(ua.sense.at(0), 0x70);
    EXPECT_EQ(control_page().at(2), 0x02);
}

TEST_F(ModeTest, SaveWithoutPagesSavesTheCurrentValues) {
    const Bytes list = concat({kSelectHeader6, control_for_select(0x06)});
    ASSERT_EQ(host.send(mode_select6(uint8_t(list.size())), 0, list).status, Status::Good);
    ASSERT_EQ(host.send(mode_select6(0, true)).status, Status::Good);
    host.lun_reset();
    host.clear_power_on_attention();
    EXPECT_EQ(control_page().at(2), 0x06);
}

TEST_F(ModeTest, SelectBlockLength) {
    vtl::fixtures::Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    // Density 0 (keep), block length 512.
    const Bytes list = {0x00, 0x00, 0x10, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00};
    ASSERT_EQ(host.send(mode_select6(uint8_t(list.size())), 0, list).status, Status::Good);
    EXPECT_EQ(block_descriptor(), (Bytes{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00}));
    auto r10 = host.send(mode_sense10(kCurrent, 0x0A), 0x400);
    EXPECT_EQ(slice(r10.data, 8, 8), (Bytes{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00}));
    // A block descriptor is a mode parameter too.
    EXPECT_TRUE(IsCheck(other.send(mode_sense6(kCurrent, 0x0A), 0xFF), {0x06, 0x2A, 0x01}));
}

TEST_F(ModeTest, SelectZeroLengthIsANoOp) {
    vtl::fixtures::Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    EXPECT_EQ(host.send(mode_select6(0)).status, Status::Good);
    EXPECT_EQ(host.send(mode_select10(0)).status, Status::Good);
    EXPECT_EQ(control_page(), kControl);
    EXPECT_EQ(other.send(mode_sense6(kCurrent, 0x0A), 0xFF).status, Status::Good);
}

TEST_F(ModeTest, InformationalExceptionsMrie) {
    Bytes ie = kInformationalExceptions;
    ie[0] = 0x1C;
    ie[2] = 0x08;  // DEXCPT
    ie[3] = 0x04;  // MRIE 4: unconditionally generate recovered error
    ie[7] = 0x64;  // INTERVAL TIMER 100
    Bytes list = concat({kSelectHeader6, ie});
    ASSERT_EQ(host.send(mode_select6(uint8_t(list.size())), 0, list).status, Status::Good);
    auto r = host.send(mode_sense6(kCurrent, 0x1C, 0, 0xFF, true), 0xFF);
    EXPECT_EQ(slice(r.data, 4, 12), (Bytes{0x9C, 0x0A, 0x08, 0x04, 0x00, 0x00, 0x00, 0x64, 0, 0, 0, 0}));

    ie[3] = 0x07;  // reserved method
    list = concat({kSelectHeader6, ie});
    EXPECT_TRUE(IsCheck(host.send(mode_select6(uint8_t(list.size())), 0, list), invalid_param(4 + 3, 3)));
    EXPECT_EQ(host.send(mode_sense6(kCurrent, 0x1C, 0, 0xFF, true), 0xFF).data, r.data);
}

// ---- MODE SELECT errors: each one changes nothing --------------------------------------------

class ModeSelectErrorTest : public ModeTest {
protected:
    void SetUp() override {
        ModeTest::SetUp();
        other.clear_power_on_attention();
    }
    // Nothing moved: the pages and the block descriptor are as they were, and no other nexus
    // was told of a change.
    void expect_unchanged() {
        EXPECT_EQ(control_page(), kControl);
        EXPECT_EQ(block_descriptor(), kTapeDescriptor);
        auto ie = host.send(mode_sense6(kCurrent, 0x1C, 0, 0xFF, true), 0xFF);
        EXPECT_EQ(slice(ie.data, 4, 12), kInformationalExceptions);
        EXPECT_EQ(other.send(mode_sense6(kCurrent, 0x0A), 0xFF).status, Status::Good);
    }
    Response select6(const Bytes& list, bool sp = false) {
        return host.send(mode_select6(uint8_t(list.size()), sp), 0, list);
    }
    Response select10(const Bytes& list, bool sp = false) {
        return host.send(mode_select10(uint16_t(list.size()), sp), 0, list);
    }

    vtl::fixtures::Initiator other{lu, clock, "iqn.2026-01.test:host1"};
    const Bytes dsense_on = control_for_select(0x06);
};

TEST_F(ModeSelectErrorTest, DataOutShorterThanTheListLength) {
    const Bytes list = concat({kSelectHeader6, dsense_on});
    EXPECT_TRUE(IsCheck(host.send(mode_select6(uint8_t(list.size() + 1)), 0, list), kListLengthError));
    const Bytes list10 = concat({kSelectHeader10, dsense_on});
    EXPECT_TRUE(IsCheck(host.send(mode_select10(uint16_t(list10.size() + 1)), 0, list10), kListLengthError));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, ListShorterThanTheHeader) {
    EXPECT_TRUE(IsCheck(select6({0x00, 0x00, 0x00}), kListLengthError));
    EXPECT_TRUE(IsCheck(select10({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}), kListLengthError));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, ModeDataLengthIsReserved) {
    EXPECT_TRUE(IsCheck(select6(concat({{0x0F, 0x00, 0x00, 0x00}, dsense_on})), invalid_param(0)));
    EXPECT_TRUE(IsCheck(select10(concat({{0x00, 0x12, 0, 0, 0, 0, 0, 0}, dsense_on})), invalid_param(0)));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, MediumTypeMustBeZero) {
    EXPECT_TRUE(IsCheck(select6(concat({{0x00, 0x01, 0x00, 0x00}, dsense_on})), invalid_param(1)));
    EXPECT_TRUE(IsCheck(select10(concat({{0x00, 0x00, 0x01, 0, 0, 0, 0, 0}, dsense_on})), invalid_param(2)));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, LongLbaAndReservedHeaderBytes) {
    EXPECT_TRUE(IsCheck(select10(concat({{0, 0, 0, 0, 0x01, 0, 0, 0}, dsense_on})), invalid_param(4, 0)));
    EXPECT_TRUE(IsCheck(select10(concat({{0, 0, 0, 0, 0x40, 0, 0, 0}, dsense_on})), invalid_param(4, 6)));
    EXPECT_TRUE(IsCheck(select10(concat({{0, 0, 0, 0, 0, 0x80, 0, 0}, dsense_on})), invalid_param(5)));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, BlockDescriptorLengthPastTheList) {
    EXPECT_TRUE(IsCheck(select6({0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00}), kListLengthError));
    EXPECT_TRUE(IsCheck(select10({0, 0, 0, 0, 0, 0, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0}), kListLengthError));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, UnknownPage) {
    EXPECT_TRUE(IsCheck(select6(concat({kSelectHeader6, {0x19, 0x02, 0x00, 0x00}})), invalid_param(4)));
    // After a valid page: the pointer is to the second page's code, and the first is not applied.
    EXPECT_TRUE(IsCheck(select6(concat({kSelectHeader6, dsense_on, {0x19, 0x02, 0x00, 0x00}})), invalid_param(16)));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, UnknownSubpage) {
    // 0Ah exists, 0Ah/05h does not: the pointer is to the SUBPAGE CODE.
    EXPECT_TRUE(IsCheck(select10(concat({kSelectHeader10, {0x4A, 0x05, 0x00, 0x02, 0x00, 0x00}})), invalid_param(9)));
    // 19h has no subpages at all: the pointer is to the PAGE CODE.
    EXPECT_TRUE(IsCheck(select10(concat({kSelectHeader10, {0x59, 0x01, 0x00, 0x02, 0x00, 0x00}})), invalid_param(8)));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, WrongPageLength) {
    Bytes page = dsense_on;
    page[1] = 0x0B;
    page.push_back(0x00);
    EXPECT_TRUE(IsCheck(select6(concat({kSelectHeader6, page})), invalid_param(5)));
    // sub_page format: the pointer is to the first byte of the 2-byte PAGE LENGTH.
    Bytes ext = kControlExtension;
    ext[0] &= 0x7F;
    ext[3] = 0x1B;
    ext.pop_back();
    EXPECT_TRUE(IsCheck(select10(concat({kSelectHeader10, ext})), invalid_param(10)));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, PageCutShortByTheListLength) {
    Bytes list = concat({kSelectHeader6, dsense_on});
    list.resize(list.size() - 3);
    EXPECT_TRUE(IsCheck(select6(list), kListLengthError));
    EXPECT_TRUE(IsCheck(select6(concat({kSelectHeader6, {0x0A}})), kListLengthError));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, PsBitIsReserved) {
    Bytes page = dsense_on;
    page[0] |= 0x80;
    EXPECT_TRUE(IsCheck(select6(concat({kSelectHeader6, page})), invalid_param(4, 7)));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, BitsOutsideTheChangeableMask) {
    Bytes page = control_for_select(0x06 | 0x80 | 0x10);  // D_SENSE ok, TST and TMF_ONLY not
    EXPECT_TRUE(IsCheck(select6(concat({kSelectHeader6, page})), invalid_param(4 + 2, 7)));
    page = dsense_on;
    page[5] = 0x00;  // TAS cleared
    EXPECT_TRUE(IsCheck(select6(concat({kSelectHeader6, page})), invalid_param(4 + 5, 6)));
    page = dsense_on;
    page[3] = 0x00;  // QUEUE ALGORITHM MODIFIER changed, and a later byte too: the first is named
    page[8] = 0x00;
    EXPECT_TRUE(IsCheck(select10(concat({kSelectHeader10, page})), invalid_param(8 + 3, 4)));
    Bytes ext = kControlExtension;
    ext[0] &= 0x7F;
    ext[6] = 0x20;  // MAXIMUM SENSE DATA LENGTH is not changeable here
    EXPECT_TRUE(IsCheck(select6(concat({kSelectHeader6, ext})), invalid_param(4 + 6, 5)));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, SaveOfANonSavablePage) {
    add_vendor_page(0x25, false);
    const Bytes list = concat({kSelectHeader6, dsense_on, {0x25, 0x02, 0x33, 0x00}});
    EXPECT_TRUE(IsCheck(select6(list, true), invalid_cdb(1, 0)));
    expect_unchanged();
    // Without SP the same list is fine.
    EXPECT_EQ(select6(list).status, Status::Good);
    EXPECT_EQ(control_page().at(2), 0x06);
}

TEST_F(ModeSelectErrorTest, DeviceRejectsTheBlockDescriptorAfterGoodPages) {
    // A 4-byte block descriptor with a valid D_SENSE change after it: the tape drive refuses
    // the descriptor (pointer at BLOCK DESCRIPTOR LENGTH) and the page is not applied.
    const Bytes list = concat({{0x00, 0x00, 0x00, 0x04}, {0x00, 0x00, 0x02, 0x00}, dsense_on});
    EXPECT_TRUE(IsCheck(select6(list), invalid_param(3)));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, BadPageAfterAGoodBlockDescriptor) {
    const Bytes list = concat({{0x00, 0x00, 0x00, 0x08}, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00},
                               {0x19, 0x02, 0x00, 0x00}});
    EXPECT_TRUE(IsCheck(select6(list), invalid_param(12)));
    expect_unchanged();
}

TEST_F(ModeSelectErrorTest, ReservedCdbBits) {
    const Bytes list = concat({kSelectHeader6, dsense_on});
    auto cdb = mode_select6(uint8_t(list.size()));
    cdb[1] |= 0x08;
    EXPECT_TRUE(IsCheck(host.send(cdb, 0, list), invalid_cdb(1, 3)));
    cdb = mode_select6(uint8_t(list.size()));
    cdb[2] = 0x01;
    EXPECT_TRUE(IsCheck(host.send(cdb, 0, list), invalid_cdb(2, 0)));
    auto cdb10 = mode_select10(uint16_t(list.size() + 4));
    cdb10[6] = 0x80;
    EXPECT_TRUE(IsCheck(host.send(cdb10, 0, concat({kSelectHeader10, dsense_on})), invalid_cdb(6, 7)));
    expect_unchanged();
}

// ---- Command table -------------------------------------------------------------------------

TEST_F(ModeTest, CommandsAreRegisteredWithUsageData) {
    const auto* sense6 = lu.commands().find(0x1A, std::nullopt);
    ASSERT_NE(sense6, nullptr);
    EXPECT_EQ(sense6->usage, (Bytes{0x1A, 0x08, 0xFF, 0xFF, 0xFF, 0x07}));
    const auto* sense10 = lu.commands().find(0x5A, std::nullopt);
    ASSERT_NE(sense10, nullptr);
    EXPECT_EQ(sense10->usage.size(), 10u);
    const auto* select6 = lu.commands().find(0x15, std::nullopt);
    ASSERT_NE(select6, nullptr);
    EXPECT_EQ(select6->usage, (Bytes{0x15, 0x11, 0x00, 0x00, 0xFF, 0x07}));
    const auto* select10 = lu.commands().find(0x55, std::nullopt);
    ASSERT_NE(select10, nullptr);
    EXPECT_EQ(select10->usage.size(), 10u);
}

TEST_F(ModeTest, ReservedByAnotherNexusConflicts) {
    vtl::fixtures::Initiator other(lu, clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    lu.reserve(other.nexus());
    EXPECT_EQ(host.send(mode_sense6(kCurrent, 0x0A), 0xFF).status, Status::ReservationConflict);
    const Bytes list = concat({kSelectHeader6, control_for_select(0x06)});
    EXPECT_EQ(host.send(mode_select6(uint8_t(list.size())), 0, list).status, Status::ReservationConflict);
    EXPECT_EQ(other.send(mode_sense6(kCurrent, 0x0A), 0xFF).status, Status::Good);
}

}  // namespace
