// Libraries built from a config: one logical unit per device, with identities from the
// personality and drive models, answering hosts through the in-process initiator.
#include <gtest/gtest.h>

#include <set>

#include "config/config.h"
#include "core/virtual_clock.h"
#include "device/identity.h"
#include "initiator.h"
#include "library/emulator.h"
#include "library/identities.h"
#include "library/library.h"
#include "sense_view.h"

using namespace vtl;
using config::Personality;
using library::Library;

namespace {

const std::string kData = VTL_TEST_DATA_DIR "/config";

uint32_t oui_of(uint64_t naa) { return static_cast<uint32_t>((naa >> 36) & 0xFFFFFF); }

// True when the LU has no handler for the opcode yet (the SPC files are written concurrently).
bool unsupported(const fixtures::Response& r) {
    const auto s = fixtures::decode_sense(r.sense);
    return r.status == scsi::Status::CheckCondition && s && s->key == 0x5 && s->asc == 0x20 && s->ascq == 0x00;
}

}  // namespace

TEST(Library, DefaultHasAChangerAndFourDrives) {
    VirtualClock clock;
    Library lib(config::default_config().libraries.at(0), clock);
    EXPECT_EQ(lib.name(), "lib0");
    const auto devices = lib.devices();
    ASSERT_EQ(devices.size(), 5u);
    const char* names[] = {"changer", "drive0", "drive1", "drive2", "drive3"};
    for (size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(devices[i].name, names[i]);
        EXPECT_EQ(devices[i].lu.name(), std::string("lib0/") + names[i]);
        EXPECT_EQ(lib.find(names[i]), &devices[i].lu);
    }
    EXPECT_EQ(&lib.changer(), lib.find("changer"));
    EXPECT_EQ(lib.find("drive4"), nullptr);
    EXPECT_EQ(lib.find(""), nullptr);
    EXPECT_EQ(lib.find("lib0/drive0"), nullptr);
}

TEST(Library, IdentitiesOfTheDefault) {
    VirtualClock clock;
    const auto cfg = config::default_config().libraries.at(0);
    Library lib(cfg, clock);

    const auto& changer = lib.find("changer")->device().identity();
    EXPECT_EQ(changer.type, PeripheralType::MediumChanger);
    EXPECT_EQ(changer.vendor, "VTL     ");
    EXPECT_EQ(changer.product, "VLIB-GENERIC    ");
    EXPECT_EQ(changer.revision, "V001");
    EXPECT_EQ(changer.serial, cfg.serial);
    EXPECT_EQ(changer.naa, naa_registered(library::kOuiNeutral, "lib0/changer/" + cfg.serial));
    EXPECT_EQ(changer.version_descriptors, (std::vector<uint16_t>{version::kSam5, version::kSpc4, version::kSmc3}));

    std::set<uint64_t> naas{changer.naa};
    std::set<std::string> serials{changer.serial};
    for (const auto& d : cfg.drives) {
        const auto& id = lib.find(d.name)->device().identity();
        EXPECT_EQ(id.type, PeripheralType::SequentialAccess);
        EXPECT_TRUE(id.removable);
        EXPECT_EQ(id.vendor, "IBM     ");
        EXPECT_EQ(id.product, "ULT3580-TD8     ");
        EXPECT_EQ(id.serial, d.serial);
        EXPECT_EQ(id.naa >> 60, 0x5u);
        EXPECT_EQ(oui_of(id.naa), library::kOuiIbm);
        EXPECT_EQ(id.version_descriptors, (std::vector<uint16_t>{version::kSam5, version::kSpc4, version::kSsc4}));
        naas.insert(id.naa);
        serials.insert(id.serial);
    }
    EXPECT_EQ(naas.size(), 5u);
    EXPECT_EQ(serials.size(), 5u);
}

TEST(Library, PersonalitiesAndDriveModelsGiveTheirVendorsStrings) {
    for (Personality p : config::personalities()) {
        SCOPED_TRACE(std::string(to_string(p)));
        auto cfg = config::library_defaults("lib0", p);
        const auto id = library::changer_identity(cfg);
        EXPECT_EQ(id.vendor.size(), 8u);
        EXPECT_EQ(id.product.size(), 16u);
        EXPECT_EQ(id.revision.size(), 4u);
        EXPECT_NE(library::trimmed(id.vendor), "");
    }
    const auto ibm = library::changer_identity(config::library_defaults("x", Personality::IbmTs4500));
    EXPECT_EQ(ibm.vendor, "IBM     ");
    EXPECT_EQ(oui_of(ibm.naa), library::kOuiIbm);
    const auto hpe = library::changer_identity(config::library_defaults("x", Personality::HpeMsl));
    EXPECT_EQ(hpe.vendor, "HP      ");
    EXPECT_EQ(oui_of(hpe.naa), library::kOuiHpe);

    auto cfg = config::library_defaults("x");
    const auto hp_drive = library::drive_identity(cfg, config::DriveConfig{.name = "d", .model = "Ultrium 8-SCSI", .serial = "S"});
    EXPECT_EQ(hp_drive.vendor, "HP      ");
    EXPECT_EQ(hp_drive.product, "Ultrium 8-SCSI  ");
    EXPECT_EQ(oui_of(hp_drive.naa), library::kOuiHpe);
    const auto hh = library::drive_identity(cfg, config::DriveConfig{.name = "d", .model = "ULT3580-HH9", .serial = "S"});
    EXPECT_EQ(hh.product, "ULT3580-HH9     ");
}

TEST(Library, SameDeviceNamesInTwoLibrariesGetDifferentDesignators) {
    const auto a = library::drive_identity(config::library_defaults("lib0"), config::DriveConfig{.name = "drive0", .serial = "S"});
    const auto b = library::drive_identity(config::library_defaults("lib1"), config::DriveConfig{.name = "drive0", .serial = "S"});
    EXPECT_NE(a.naa, b.naa);
}

TEST(Library, EveryDeviceAnswersInquiry) {
    VirtualClock clock;
    Library lib(config::default_config().libraries.at(0), clock);
    for (const auto& dev : lib.devices()) {
        SCOPED_TRACE(dev.name);
        fixtures::Initiator host(dev.lu, clock);
        const auto r = host.send({0x12, 0x00, 0x00, 0x00, 96, 0x00}, 96);
        ASSERT_TRUE(r.done);
        if (unsupported(r)) GTEST_SKIP() << "INQUIRY is not registered yet";
        ASSERT_EQ(r.status, scsi::Status::Good);
        ASSERT_GE(r.data.size(), 36u);
        const auto& id = dev.lu.device().identity();
        EXPECT_EQ(r.data[0] & 0x1F, static_cast<uint8_t>(id.type));
        EXPECT_EQ(std::string(r.data.begin() + 8, r.data.begin() + 36), id.vendor + id.product + id.revision);

        // VPD 80h: the serial from the config.
        const auto vpd = host.send({0x12, 0x01, 0x80, 0x00, 0xFF, 0x00}, 0xFF);
        ASSERT_EQ(vpd.status, scsi::Status::Good);
        ASSERT_GE(vpd.data.size(), 4u);
        EXPECT_EQ(std::string(vpd.data.begin() + 4, vpd.data.end()), id.serial);
    }
}

TEST(Library, EmptyDriveIsNotReady) {
    VirtualClock clock;
    Library lib(config::default_config().libraries.at(0), clock);
    fixtures::Initiator host(*lib.find("drive0"), clock);
    host.clear_power_on_attention();
    const auto r = host.send({0x00, 0, 0, 0, 0, 0});
    if (unsupported(r)) GTEST_SKIP() << "TEST UNIT READY is not registered yet";
    ASSERT_EQ(r.status, scsi::Status::CheckCondition);
    const auto sense = fixtures::decode_sense(r.sense);
    ASSERT_TRUE(sense);
    EXPECT_EQ(sense->key, 0x2);
    EXPECT_EQ(sense->asc, 0x3A);
    EXPECT_EQ(sense->ascq, 0x00);
}

TEST(LibraryEmulator, ResolvesLibraryDevicePaths) {
    VirtualClock clock;
    library::Emulator emulator(config::load_config(kData + "/full.toml"), clock);
    ASSERT_EQ(emulator.libraries().size(), 2u);
    ASSERT_NE(emulator.library("hp1"), nullptr);
    EXPECT_EQ(emulator.library("hp1")->devices().size(), 3u);
    EXPECT_EQ(emulator.library("nope"), nullptr);

    LogicalUnit* d0 = emulator.find("tape-a/d0");
    ASSERT_NE(d0, nullptr);
    EXPECT_EQ(d0->name(), "tape-a/d0");
    EXPECT_EQ(d0->device().identity().product, "ULT3580-TD9     ");
    EXPECT_EQ(d0->device().identity().serial, "1013000001");
    ASSERT_NE(emulator.find("tape-a/robot"), nullptr);
    EXPECT_EQ(emulator.find("tape-a/robot")->device().identity().product, "3584L25         ");
    ASSERT_NE(emulator.find("hp1/changer"), nullptr);
    EXPECT_EQ(emulator.find("hp1/drive1")->device().identity().vendor, "HP      ");

    for (const char* bad : {"", "tape-a", "tape-a/", "/d0", "nope/d0", "tape-a/d0/x", "tape-a/changer", "vtl/tape-a/d0"}) {
        EXPECT_EQ(emulator.find(bad), nullptr) << bad;
    }
}
