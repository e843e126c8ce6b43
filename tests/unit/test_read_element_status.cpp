// READ ELEMENT STATUS (SMC-3): the report's header, pages and descriptors byte for byte,
// element selection by type, start and count, truncation by the allocation length, and the CDB
// errors with their field pointers.
#include <gtest/gtest.h>

#include "smc_support.h"

using namespace vtl;
using namespace vtl::smctest;
using namespace vtl::testsupport;
using fixtures::read_element_status;
using scsi::Status;

namespace {

Bytes ascii(std::string_view s) { return Bytes(s.begin(), s.end()); }

// A 36-byte primary volume tag (SMC-3): identifier space padded to 32, 2 reserved,
// volume sequence number 0. Absent: 36 zeros.
Bytes volume_tag(std::string_view id) {
    if (id.empty()) return Bytes(36, 0);
    Bytes t = ascii(id);
    t.resize(32, ' ');
    t.insert(t.end(), 4, 0);
    return t;
}

constexpr uint8_t kFull = 0x01, kImpExp = 0x02, kExcept = 0x04, kAccess = 0x08, kExEnab = 0x10, kInEnab = 0x20,
                  kOir = 0x80;

class ReadElementStatus : public ChangerTest {};

TEST_F(ReadElementStatus, StoragePageGolden) {
    auto r = host->send(read_element_status(true, 2, slot(1), 3, 1000), 1000);
    ASSERT_EQ(r.status, Status::Good);
    const Bytes expected = concat({
        {0x10, 0x00,                 // FIRST ELEMENT ADDRESS REPORTED
         0x00, 0x03,                 // NUMBER OF ELEMENTS AVAILABLE
         0x00,                       // reserved
         0x00, 0x00, 0xA4},          // BYTE COUNT OF REPORT AVAILABLE: 8 + 3 x 52
        {0x02,                       // storage
         0x80,                       // PVOLTAG
         0x00, 0x34,                 // ELEMENT DESCRIPTOR LENGTH 52
         0x00,
         0x00, 0x00, 0x9C},          // BYTE COUNT OF DESCRIPTOR DATA AVAILABLE: 156
        {0x10, 0x00, 0x09, 0x00,     // slot 1: ACCESS, FULL
         0x00, 0x00, 0x00, 0x00, 0x00,
         0x01,                       // SVALID 0, medium type 1 (data)
         0x00, 0x00},
        volume_tag("A00001L8"),
        {0x00, 0x00, 0x00, 0x00},    // CODE SET, IDENTIFIER TYPE, reserved, IDENTIFIER LENGTH 0
        {0x10, 0x01, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00},
        volume_tag("A00002L8"),
        {0x00, 0x00, 0x00, 0x00},
        {0x10, 0x02, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00},
        volume_tag("A00003L9"),
        {0x00, 0x00, 0x00, 0x00},
    });
    EXPECT_EQ(r.data, expected);
}

TEST_F(ReadElementStatus, WithoutVoltagDescriptorsAreSixteenBytes) {
    auto r = host->send(read_element_status(false, 2, slot(4), 2, 1000), 1000);
    ASSERT_EQ(r.status, Status::Good);
    const Bytes expected = {
        0x10, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x28,              // 8 + 2 x 16
        0x02, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20,              // PVOLTAG 0, length 16
        0x10, 0x03, 0x08, 0x00, 0, 0, 0, 0, 0, 0x00, 0, 0, 0, 0, 0, 0,  // slot 4: empty, ACCESS
        0x10, 0x04, 0x08, 0x00, 0, 0, 0, 0, 0, 0x00, 0, 0, 0, 0, 0, 0,  // slot 5
    };
    EXPECT_EQ(r.data, expected);
}

TEST_F(ReadElementStatus, AllTypesGetOnePageEachInAddressOrder) {
    auto v = decoded_status();
    EXPECT_FALSE(v.truncated);
    EXPECT_FALSE(v.malformed);
    EXPECT_EQ(v.first_address, mte());
    EXPECT_EQ(v.number_of_elements, 15);
    EXPECT_EQ(v.byte_count, 4u * 8 + 15u * 52);
    ASSERT_EQ(v.pages.size(), 4u);
    const uint8_t types[] = {1, 3, 4, 2};  // generic bases: robot 0000h, I/E 0010h, drives 0100h, slots 1000h
    const size_t counts[] = {1, 2, 2, 10};
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(v.pages[i].type, types[i]);
        EXPECT_TRUE(v.pages[i].pvoltag);
        EXPECT_FALSE(v.pages[i].avoltag);
        EXPECT_EQ(v.pages[i].descriptor_length, 52);
        EXPECT_EQ(v.pages[i].descriptors.size(), counts[i]);
        EXPECT_EQ(v.pages[i].byte_count, counts[i] * 52);
    }
    // Robot: empty, no ACCESS bit (reserved for a medium transport element).
    EXPECT_EQ(v.pages[0].descriptors[0].raw,
              concat({{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, volume_tag(""), {0, 0, 0, 0}}));
    // I/E: both directions enabled, accessible, empty.
    EXPECT_EQ(v.pages[1].descriptors[0].raw[2], kInEnab | kExEnab | kAccess);
    // Drives: empty, accessible, bus address not reported.
    for (const auto& d : v.pages[2].descriptors) {
        EXPECT_EQ(d.raw[2], kAccess);
        EXPECT_EQ(d.byte6, 0);
        EXPECT_EQ(d.byte7, 0);
        EXPECT_FALSE(d.id_valid());
        EXPECT_FALSE(d.lu_valid());
    }
    // Descriptors ascend within and across pages.
    uint16_t last = 0;
    bool first = true;
    for (const auto& p : v.pages) {
        for (const auto& d : p.descriptors) {
            if (!first) {
                EXPECT_GT(d.address, last);
            }
            last = d.address;
            first = false;
        }
    }
}

TEST_F(ReadElementStatus, StartAndCountSelect) {
    auto r = host->send(read_element_status(true, 2, slot(4), 3, 4096), 4096);
    auto v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->first_address, slot(4));
    EXPECT_EQ(v->number_of_elements, 3);
    ASSERT_EQ(v->descriptor_count(), 3u);
    EXPECT_EQ(v->pages[0].descriptors[2].address, slot(6));

    // All types from the second I/E slot: a new page where the type changes.
    r = host->send(read_element_status(true, 0, ie(2), 3, 4096), 4096);
    v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    ASSERT_EQ(v->pages.size(), 2u);
    EXPECT_EQ(v->pages[0].type, 3);
    EXPECT_EQ(v->pages[0].descriptors.size(), 1u);
    EXPECT_EQ(v->pages[1].type, 4);
    EXPECT_EQ(v->pages[1].descriptors.size(), 2u);
    EXPECT_EQ(v->number_of_elements, 3);

    // More asked than there are: NUMBER OF ELEMENTS AVAILABLE is what there is.
    r = host->send(read_element_status(false, 2, slot(1), 500, 4096), 4096);
    v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->number_of_elements, 10);
    EXPECT_EQ(v->descriptor_count(), 10u);

    // The DTE page alone, from the first drive.
    r = host->send(read_element_status(true, 4, dte(0), 10, 4096), 4096);
    v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    ASSERT_EQ(v->pages.size(), 1u);
    EXPECT_EQ(v->pages[0].type, 4);
    EXPECT_EQ(v->number_of_elements, 2);
}

TEST_F(ReadElementStatus, ZeroElementsRequestedReportsNone) {
    auto r = host->send(read_element_status(true, 2, slot(1), 0, 4096), 4096);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(ReadElementStatus, CdbErrorsPointAtTheField) {
    auto cdb = read_element_status(true, 5, 0, 1, 1000);
    EXPECT_TRUE(IsCheck(host->send(cdb, 1000), invalid_cdb(1, 3)));
    cdb = read_element_status(true, 15, 0, 1, 1000);
    EXPECT_TRUE(IsCheck(host->send(cdb, 1000), invalid_cdb(1, 3)));
    cdb = read_element_status(true, 2, slot(1), 1, 1000);
    cdb[6] |= 0x04;
    EXPECT_TRUE(IsCheck(host->send(cdb, 1000), invalid_cdb(6, 2)));
    cdb = read_element_status(true, 2, slot(1), 1, 1000);
    cdb[10] = 0x01;
    EXPECT_TRUE(IsCheck(host->send(cdb, 1000), invalid_cdb(10, 0)));
    // NACA in CONTROL.
    cdb = read_element_status(true, 2, slot(1), 1, 1000);
    cdb[11] = 0x04;
    EXPECT_TRUE(IsCheck(host->send(cdb, 1000), invalid_cdb(11, 2)));
}

TEST_F(ReadElementStatus, StartMustBeAnElementOfTheType) {
    const auto invalid_address = sense(0x05, 0x21, 0x01);
    EXPECT_TRUE(IsCheck(host->send(read_element_status(true, 2, ie(1), 1, 1000), 1000), invalid_address));
    EXPECT_TRUE(IsCheck(host->send(read_element_status(true, 4, slot(1), 1, 1000), 1000), invalid_address));
    EXPECT_TRUE(IsCheck(host->send(read_element_status(true, 4, dte(0) + 5, 1, 1000), 1000), invalid_address));
    EXPECT_TRUE(IsCheck(host->send(read_element_status(true, 1, 0x0001, 1, 1000), 1000), invalid_address));
    // All types: an address between elements, or past the last.
    EXPECT_TRUE(IsCheck(host->send(read_element_status(true, 0, 0x0050, 1, 1000), 1000), invalid_address));
    EXPECT_TRUE(IsCheck(host->send(read_element_status(true, 0, 0xF000, 1, 1000), 1000), invalid_address));
}

TEST_F(ReadElementStatus, AllTypesMayStartBelowTheFirstElement) {
    build(small_config(config::Personality::IbmTs4500));  // robot at 0001h: no element 0000h
    auto r = host->send(read_element_status(true, 0, 0, 0xFFFF, 0xFFFF), 0xFFFF);
    ASSERT_EQ(r.status, Status::Good);
    auto v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->first_address, 0x0001);
    EXPECT_EQ(v->number_of_elements, 15);
    // IBM 3584 order: robot, drives (0101h), I/E (0301h), slots (0401h).
    ASSERT_EQ(v->pages.size(), 4u);
    EXPECT_EQ(v->pages[1].type, 4);
    EXPECT_EQ(v->pages[2].type, 3);
    EXPECT_EQ(v->pages[3].type, 2);
    // A specific type still needs one of its own addresses.
    EXPECT_TRUE(IsCheck(host->send(read_element_status(true, 1, 0, 1, 1000), 1000), sense(0x05, 0x21, 0x01)));
}

TEST_F(ReadElementStatus, TypeWithoutElementsReportsNothing) {
    auto c = small_config();
    c.ie_slots = 0;
    build(c);
    auto r = host->send(read_element_status(true, 3, c.addresses.ie, 10, 1000), 1000);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(ReadElementStatus, AllocationLengthKeepsWholeDescriptorsAndFullCounts) {
    const Bytes full = all_status();
    ASSERT_EQ(full.size(), 8u + 4 * 8 + 15 * 52);

    auto r = host->send(read_element_status(true, 0, 0, 0xFFFF, 8), 0xFFFF);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, Bytes(full.begin(), full.begin() + 8));  // header with the full byte count
    EXPECT_EQ(scsi::get_be24(&r.data[5]), full.size() - 8);

    // Room for the robot's page and half of the next page's first descriptor.
    r = host->send(read_element_status(true, 0, 0, 0xFFFF, 8 + 8 + 52 + 8 + 30), 0xFFFF);
    ASSERT_EQ(r.data.size(), 8u + 8 + 52 + 8);
    EXPECT_EQ(r.data, Bytes(full.begin(), full.begin() + 76));
    auto v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    EXPECT_EQ(v->number_of_elements, 15);  // what meets the request, not what fitted

    r = host->send(read_element_status(true, 0, 0, 0xFFFF, 5), 0xFFFF);
    EXPECT_EQ(r.data, Bytes(full.begin(), full.begin() + 5));
    r = host->send(read_element_status(true, 0, 0, 0xFFFF, 0), 0xFFFF);
    EXPECT_EQ(r.status, Status::Good);
    EXPECT_TRUE(r.data.empty());

    // The initiator's buffer smaller than the allocation length: cut there, overflow flagged.
    r = host->send(read_element_status(true, 0, 0, 0xFFFF, 0xFFFF), 100);
    EXPECT_EQ(r.data, Bytes(full.begin(), full.begin() + 100));
    EXPECT_TRUE(r.overflow);
}

TEST_F(ReadElementStatus, ObsoleteLunBitsAndCurdataChangeNothing) {
    const Bytes full = all_status();
    auto cdb = read_element_status(true, 0, 0, 0xFFFF, 0xFFFFFF, true);
    cdb[1] |= 0x20;  // LUN 1, as Linux ch writes it for a changer at LUN 1
    auto r = host->send(cdb, 0xFFFFFF);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, full);
}

TEST_F(ReadElementStatus, MediumTypesAndEmptyElements) {
    EXPECT_EQ(element(slot(1)).medium_type, 1);  // data
    EXPECT_EQ(element(slot(9)).medium_type, 2);  // cleaning
    EXPECT_EQ(element(slot(10)).medium_type, 4);  // WORM
    EXPECT_EQ(tag_at(slot(9)), "CLN001CU");
    EXPECT_EQ(tag_at(slot(10)), "W00001LY");
    auto empty = element(slot(4));
    EXPECT_FALSE(empty.full);
    EXPECT_EQ(empty.medium_type, 0);
    EXPECT_FALSE(empty.svalid);
    EXPECT_EQ(Bytes(empty.raw.begin() + 12, empty.raw.begin() + 48), Bytes(36, 0));

    // A diagnostic cartridge an operator puts into the I/E station.
    operator_insert(0, "DIAG01L8", config::MediaType::Diagnostic);
    auto d = element(ie(1));
    EXPECT_EQ(d.medium_type, 3);
    EXPECT_EQ(d.primary_tag->identifier, "DIAG01L8");
}

TEST_F(ReadElementStatus, ImportExportFlagsFollowTheStation) {
    EXPECT_EQ(element(ie(1)).raw[2], kInEnab | kExEnab | kAccess);
    // While the operator has the door open the robot cannot reach the station.
    ASSERT_EQ(lib->open_ie_door(), std::nullopt);
    EXPECT_EQ(element(ie(1)).raw[2], kOir | kInEnab | kExEnab);
    smc::Cartridge c{.barcode = "NEW001L8", .type = config::MediaType::Data, .generation = 8};
    ASSERT_EQ(lib->insert_cartridge(0, c), std::nullopt);
    EXPECT_TRUE(IsCheck(host->send(fixtures::test_unit_ready()), sense(0x06, 0x28, 0x01)));
    EXPECT_EQ(element(ie(1)).raw[2], kOir | kInEnab | kExEnab | kImpExp | kFull);
    ASSERT_EQ(lib->close_ie_door(), std::nullopt);
    drain();
    EXPECT_EQ(element(ie(1)).raw[2], kInEnab | kExEnab | kAccess | kImpExp | kFull);

    // Moved in by the robot: IMPEXP clears, the source is the I/E slot.
    ASSERT_EQ(run(move_medium(mte(), ie(1), slot(4))).status, Status::Good);
    auto d = element(slot(4));
    EXPECT_TRUE(d.full);
    EXPECT_TRUE(d.svalid);
    EXPECT_EQ(d.source_address, ie(1));
    EXPECT_EQ(element(ie(1)).raw[2], kInEnab | kExEnab | kAccess);
    // Exported by the robot: IMPEXP 0.
    ASSERT_EQ(run(move_medium(mte(), slot(4), ie(2))).status, Status::Good);
    EXPECT_EQ(element(ie(2)).raw[2], kInEnab | kExEnab | kAccess | kFull);
}

TEST_F(ReadElementStatus, ExceptionsReportTheirCode) {
    lib->set_exception(slot(2), scsi::Asc{0x83, 0x02});
    drain();
    auto d = element(slot(2));
    EXPECT_TRUE(d.except);
    EXPECT_EQ(d.asc, 0x83);
    EXPECT_EQ(d.ascq, 0x02);
    EXPECT_EQ(d.raw[2], kExcept | kAccess | kFull);
    lib->set_exception(slot(2), std::nullopt);
    d = element(slot(2));
    EXPECT_FALSE(d.except);
    EXPECT_EQ(d.asc, 0);
}

TEST_F(ReadElementStatus, SourceAddressAfterAMove) {
    ASSERT_EQ(run(move_medium(mte(), slot(1), slot(5))).status, Status::Good);
    auto d = element(slot(5));
    EXPECT_TRUE(d.full);
    EXPECT_TRUE(d.svalid);
    EXPECT_FALSE(d.invert);
    EXPECT_EQ(d.source_address, slot(1));
    EXPECT_EQ(d.primary_tag->identifier, "A00001L8");
    EXPECT_FALSE(element(slot(1)).full);
}

TEST_F(ReadElementStatus, TheRobotHoldsTheCartridgeInMotion) {
    auto p = host->submit(move_medium(mte(), slot(2), slot(6)));
    bool seen = false;
    for (int i = 0; i < 100 && !p.done(); ++i) {
        auto d = element(mte());
        if (d.full) {
            seen = true;
            EXPECT_EQ(d.primary_tag->identifier, "A00002L8");
            EXPECT_FALSE(element(slot(2)).full);
            EXPECT_FALSE(element(slot(6)).full);
        }
        clock.step();
    }
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().status, Status::Good);
    EXPECT_TRUE(seen);
    EXPECT_FALSE(element(mte()).full);
    EXPECT_TRUE(element(slot(6)).full);
}

TEST_F(ReadElementStatus, DeviceIdentifierSerialOnly) {
    const std::string serial = config.drives[0].serial;
    auto r = host->send(read_element_status(true, 4, dte(0), 1, 1000, false, true), 1000);
    ASSERT_EQ(r.status, Status::Good);
    auto v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    ASSERT_EQ(v->pages.size(), 1u);
    EXPECT_EQ(v->pages[0].descriptor_length, 12 + 36 + 4 + serial.size());
    const auto& d = v->pages[0].descriptors.at(0);
    EXPECT_EQ(d.rest, concat({{0x02, 0x00, 0x00, uint8_t(serial.size())}, ascii(serial)}));

    // Other element types carry the identification header with no identifier.
    r = host->send(read_element_status(true, 2, slot(1), 1, 1000, false, true), 1000);
    v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pages[0].descriptor_length, 52);
    EXPECT_EQ(v->pages[0].descriptors.at(0).rest, (Bytes{0, 0, 0, 0}));
}

TEST_F(ReadElementStatus, DeviceIdentifierVendorProductSerial) {
    build(small_config(config::Personality::IbmTs4500));
    const std::string serial = config.drives[1].serial;
    // VOLTAG=0: IBM's 3584 reports 32h bytes for an LTO DTE with DVCID.
    auto r = host->send(read_element_status(false, 4, dte(1), 1, 1000, false, true), 1000);
    ASSERT_EQ(r.status, Status::Good);
    auto v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pages[0].descriptor_length, 0x32);
    const auto& d = v->pages[0].descriptors.at(0);
    EXPECT_EQ(d.address, dte(1));
    EXPECT_EQ(d.rest, concat({{0x02, 0x01, 0x00, 0x22}, ascii("IBM     ULT3580-TD8     "), ascii(serial)}));
}

TEST_F(ReadElementStatus, AlternateTagsAddAnAlternateTagToEveryDescriptor) {
    const auto id = lib->inventory().at(slot(2))->cartridge;
    ASSERT_TRUE(id);
    lib->set_alternate_tag(*id, "ALT0002");
    auto v = decoded_status();
    for (const auto& p : v.pages) {
        EXPECT_TRUE(p.pvoltag);
        EXPECT_TRUE(p.avoltag);
        EXPECT_EQ(p.descriptor_length, 12 + 36 + 36 + 4);
    }
    auto d = v.find(slot(2));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->primary_tag->identifier, "A00002L8");
    EXPECT_EQ(d->alternate_tag->identifier, "ALT0002");
    EXPECT_EQ(v.find(slot(1))->alternate_tag->identifier, "");
    // Without VOLTAG no tag at all.
    auto r = host->send(read_element_status(false, 2, slot(2), 1, 1000), 1000);
    EXPECT_EQ(fixtures::decode_element_status(r.data)->pages[0].descriptor_length, 16);
}

TEST_F(ReadElementStatus, IbmDriveIsNotAccessibleWhileThreaded) {
    build(small_config(config::Personality::IbmTs4500));
    ASSERT_EQ(run(move_medium(mte(), slot(1), dte(0))).status, Status::Good);
    auto d = element(dte(0));
    EXPECT_TRUE(d.full);
    EXPECT_FALSE(d.access);  // loading
    EXPECT_TRUE(d.svalid);
    EXPECT_EQ(d.source_address, slot(1));
    clock.advance(std::chrono::minutes(2));
    ASSERT_EQ(lib->drive_at(dte(0))->state(), DriveMechanism::State::Loaded);
    EXPECT_FALSE(element(dte(0)).access);
    EXPECT_TRUE(element(dte(1)).access);  // empty

    // The host unloads the drive (mt offline): accessible once the cartridge is in the mouth.
    bool ejected = false;
    lib->drive_at(dte(0))->eject([&](std::optional<scsi::Sense> s) { ejected = !s; });
    EXPECT_FALSE(element(dte(0)).access);
    clock.advance(std::chrono::minutes(2));
    ASSERT_TRUE(ejected);
    EXPECT_TRUE(element(dte(0)).access);
    EXPECT_TRUE(element(dte(0)).full);
}

TEST_F(ReadElementStatus, OtherLibrariesKeepALoadedDriveAccessible) {
    ASSERT_EQ(run(move_medium(mte(), slot(1), dte(0))).status, Status::Good);
    clock.advance(std::chrono::minutes(2));
    ASSERT_EQ(lib->drive_at(dte(0))->state(), DriveMechanism::State::Loaded);
    auto d = element(dte(0));
    EXPECT_TRUE(d.full);
    EXPECT_TRUE(d.access);
}

}  // namespace
