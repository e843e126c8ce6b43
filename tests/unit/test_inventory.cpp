// The element model: elements and cartridges from the config, O(1) lookup, moves with SOURCE
// ADDRESS, operator inserts and removals, and the JSON state that persistence snapshots.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "library_fixture.h"
#include "smc/inventory.h"

using namespace vtl;
using namespace vtl::libtest;
using smc::ElementType;
using smc::Inventory;

TEST(Inventory, ElementsFromTheConfigInAscendingAddressOrder) {
    const auto cfg = small_library();
    Inventory inv(cfg);
    EXPECT_EQ(inv.count(ElementType::MediumTransport), 1u);
    EXPECT_EQ(inv.count(ElementType::ImportExport), 2u);
    EXPECT_EQ(inv.count(ElementType::DataTransfer), 3u);
    EXPECT_EQ(inv.count(ElementType::Storage), 12u);
    EXPECT_EQ(inv.count(ElementType::All), 18u);
    EXPECT_EQ(inv.all().size(), 18u);
    for (size_t i = 1; i < inv.all().size(); ++i) EXPECT_LT(inv.all()[i - 1].address, inv.all()[i].address);

    EXPECT_EQ(inv.first_address(ElementType::MediumTransport), 0x0000);
    EXPECT_EQ(inv.first_address(ElementType::ImportExport), 0x0010);
    EXPECT_EQ(inv.first_address(ElementType::DataTransfer), 0x0100);
    EXPECT_EQ(inv.first_address(ElementType::Storage), 0x1000);

    const auto slots = inv.of_type(ElementType::Storage);
    ASSERT_EQ(slots.size(), 12u);
    EXPECT_EQ(slots.front()->address, 0x1000);
    EXPECT_EQ(slots.back()->address, 0x100B);
    EXPECT_EQ(slots[4]->index, 4u);
    EXPECT_EQ(inv.nth(ElementType::DataTransfer, 2)->address, 0x0102);
    EXPECT_EQ(inv.nth(ElementType::DataTransfer, 3), nullptr);
    EXPECT_EQ(inv.nth(ElementType::ImportExport, 1)->type, ElementType::ImportExport);
}

TEST(Inventory, AtIsNullForAddressesWithoutAnElement) {
    const auto cfg = small_library();
    Inventory inv(cfg);
    for (uint32_t a : {0x0001u, 0x000Fu, 0x0012u, 0x00FFu, 0x0103u, 0x0FFFu, 0x100Cu, 0xFFFFu}) {
        EXPECT_EQ(inv.at(static_cast<uint16_t>(a)), nullptr) << a;
    }
    ASSERT_NE(inv.at(0x1000), nullptr);
    EXPECT_EQ(inv.at(0x1000)->type, ElementType::Storage);
    EXPECT_EQ(inv.at(0x0000)->type, ElementType::MediumTransport);
}

TEST(Inventory, IbmBasesNumberElementsThe3584Way) {
    const auto cfg = small_library(config::Personality::IbmTs4500);
    Inventory inv(cfg);
    EXPECT_EQ(inv.first_address(ElementType::MediumTransport), 0x0001);
    EXPECT_EQ(inv.first_address(ElementType::DataTransfer), 0x0101);
    EXPECT_EQ(inv.first_address(ElementType::ImportExport), 0x0301);
    EXPECT_EQ(inv.first_address(ElementType::Storage), 0x0401);
    EXPECT_EQ(inv.all().front().type, ElementType::MediumTransport);
    EXPECT_EQ(inv.all().back().type, ElementType::Storage);
}

TEST(Inventory, ConfiguredCartridgesSitInTheirSlotsWithTypeAndGeneration) {
    const auto cfg = small_library();
    Inventory inv(cfg);
    const auto* s1 = inv.at(slot(cfg, 1));
    ASSERT_TRUE(s1->full());
    EXPECT_FALSE(s1->source.has_value());
    EXPECT_FALSE(s1->impexp);
    EXPECT_EQ(inv.cartridge(*s1->cartridge).barcode, "A00001L8");
    EXPECT_EQ(inv.cartridge(*s1->cartridge).generation, 8);
    EXPECT_EQ(inv.cartridge(*s1->cartridge).type, config::MediaType::Data);

    const auto& cln = inv.cartridge(*inv.at(slot(cfg, 6))->cartridge);
    EXPECT_EQ(cln.type, config::MediaType::Cleaning);
    const auto& m8 = inv.cartridge(*inv.at(slot(cfg, 8))->cartridge);
    EXPECT_TRUE(m8.type_m);
    EXPECT_EQ(m8.generation, 7);
    EXPECT_FALSE(inv.at(slot(cfg, 9))->full());

    EXPECT_EQ(inv.find("A00007L5"), slot(cfg, 7));
    EXPECT_EQ(inv.find("NOPE01L8"), std::nullopt);
}

TEST(Inventory, MoveSetsSourceAndARobotCarriesTheOriginAlong) {
    const auto cfg = small_library();
    Inventory inv(cfg);
    inv.move(slot(cfg, 1), robot(cfg));
    EXPECT_FALSE(inv.at(slot(cfg, 1))->full());
    EXPECT_FALSE(inv.at(slot(cfg, 1))->source);
    EXPECT_EQ(inv.at(robot(cfg))->source, slot(cfg, 1));
    EXPECT_EQ(inv.find("A00001L8"), robot(cfg));

    inv.move(robot(cfg), drive(cfg, 0));
    EXPECT_EQ(inv.at(drive(cfg, 0))->source, slot(cfg, 1)) << "SOURCE ADDRESS is the slot, not the gripper";
    EXPECT_FALSE(inv.at(robot(cfg))->full());

    inv.move(drive(cfg, 0), slot(cfg, 9), true);
    EXPECT_EQ(inv.at(slot(cfg, 9))->source, drive(cfg, 0));
    EXPECT_TRUE(inv.at(slot(cfg, 9))->invert);
    EXPECT_EQ(inv.find("A00001L8"), slot(cfg, 9));
}

TEST(Inventory, OperatorInsertSetsImpexpAndAMoveClearsIt) {
    const auto cfg = small_library();
    Inventory inv(cfg);
    const auto id = inv.insert(ie(cfg, 0), smc::Cartridge{.barcode = "NEW001L9", .generation = 9});
    EXPECT_EQ(inv.cartridge(id).barcode, "NEW001L9");
    EXPECT_TRUE(inv.at(ie(cfg, 0))->impexp);
    EXPECT_FALSE(inv.at(ie(cfg, 0))->source);
    EXPECT_EQ(inv.find("NEW001L9"), ie(cfg, 0));

    inv.move(ie(cfg, 0), slot(cfg, 10));
    EXPECT_FALSE(inv.at(ie(cfg, 0))->impexp);
    EXPECT_FALSE(inv.at(slot(cfg, 10))->impexp);

    inv.move(slot(cfg, 2), ie(cfg, 1));
    EXPECT_FALSE(inv.at(ie(cfg, 1))->impexp) << "placed by the robot: IMPEXP=0";
    inv.remove(ie(cfg, 1));
    EXPECT_FALSE(inv.at(ie(cfg, 1))->full());
    EXPECT_EQ(inv.find("A00002L8"), std::nullopt);
}

TEST(Inventory, MisuseIsALogicError) {
    const auto cfg = small_library();
    Inventory inv(cfg);
    EXPECT_THROW(inv.move(slot(cfg, 9), slot(cfg, 10)), std::logic_error);
    EXPECT_THROW(inv.move(slot(cfg, 1), slot(cfg, 2)), std::logic_error);
    EXPECT_THROW(inv.move(0x7777, slot(cfg, 10)), std::logic_error);
    EXPECT_THROW(inv.insert(slot(cfg, 10), smc::Cartridge{.barcode = "X1"}), std::logic_error);
    EXPECT_THROW(inv.insert(ie(cfg, 0), smc::Cartridge{.barcode = "A00001L8"}), std::logic_error);
    EXPECT_THROW(inv.remove(ie(cfg, 0)), std::logic_error);
}

TEST(Inventory, JsonRoundTripsTheWholeState) {
    const auto cfg = small_library();
    Inventory a(cfg);
    a.move(slot(cfg, 1), robot(cfg));
    a.move(robot(cfg), drive(cfg, 1));
    a.move(slot(cfg, 2), slot(cfg, 11), true);
    a.insert(ie(cfg, 1), smc::Cartridge{.barcode = "IMP001L9", .type = config::MediaType::Worm, .generation = 9});
    a.set_exception(slot(cfg, 12), scsi::Asc{0x83, 0x02});
    a.set_exception(slot(cfg, 3), scsi::Asc{0x30, 0x00});
    a.set_alternate_tag(*a.at(slot(cfg, 4))->cartridge, "ALT-4");

    const auto j = a.to_json();
    Inventory b(cfg);
    b.from_json(j);
    EXPECT_EQ(b.to_json(), j);
    EXPECT_EQ(b.find("A00001L8"), drive(cfg, 1));
    EXPECT_EQ(b.at(drive(cfg, 1))->source, slot(cfg, 1));
    EXPECT_TRUE(b.at(slot(cfg, 11))->invert);
    EXPECT_TRUE(b.at(ie(cfg, 1))->impexp);
    EXPECT_EQ(b.cartridge(*b.at(ie(cfg, 1))->cartridge).type, config::MediaType::Worm);
    EXPECT_EQ(b.at(slot(cfg, 12))->exception, (scsi::Asc{0x83, 0x02}));
    EXPECT_FALSE(b.at(slot(cfg, 12))->full());
    EXPECT_EQ(b.cartridge(*b.at(slot(cfg, 4))->cartridge).alternate_tag, "ALT-4");
    EXPECT_TRUE(b.cartridge(*b.at(slot(cfg, 8))->cartridge).type_m);
    EXPECT_FALSE(b.at(slot(cfg, 1))->full());
    EXPECT_EQ(b.find("A00002L8"), slot(cfg, 11));
}

TEST(Inventory, FromJsonRefusesAnotherLayoutAndSaysWhatDiffers) {
    const auto cfg = small_library();
    Inventory a(cfg);
    auto bigger = cfg;
    bigger.slots = 20;
    Inventory b(bigger);
    const auto before = b.to_json();
    try {
        b.from_json(a.to_json());
        FAIL() << "accepted a state with 12 slots for a 20-slot config";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(),
                     "storage slots: the saved state has 12 at 0x1000..0x100B, the config has 20 at 0x1000..0x1013");
    }
    EXPECT_EQ(b.to_json(), before) << "a refused state changes nothing";

    auto moved = cfg;
    moved.addresses.drive = 0x0200;
    Inventory c(moved);
    EXPECT_THROW(c.from_json(a.to_json()), std::runtime_error);
}

TEST(Inventory, FromJsonRefusesDuplicateBarcodesAndBadAddresses) {
    const auto cfg = small_library();
    Inventory a(cfg);
    auto j = a.to_json();
    auto dup = j;
    dup["elements"].push_back({{"at", slot(cfg, 12)}, {"cartridge", {{"barcode", "A00001L8"}, {"type", "data"}, {"gen", 8}}}});
    Inventory b(cfg);
    EXPECT_THROW(b.from_json(dup), std::runtime_error);
    auto bad = j;
    bad["elements"].push_back({{"at", 0x5555}});
    EXPECT_THROW(b.from_json(bad), std::runtime_error);
    auto garbage = j;
    garbage["layout"] = 3;
    EXPECT_THROW(b.from_json(garbage), std::runtime_error);
    EXPECT_EQ(b.to_json(), j);
}
