// The exact command sequences real changer clients send (../shared/specs/host-behaviour.md):
// the Linux ch driver's probe, mtx 1.3.12 (status with and without barcodes, altres, load,
// unload, transfer, exchange, eepos, inventory) and CERN CTA's rmcd (mount, dismount, the IBM
// ACCESS poll). Each replay parses the answers the way that client does and checks every byte
// it reads.
#include <gtest/gtest.h>

#include <map>

#include "mode_view.h"
#include "smc_support.h"

using namespace vtl;
using namespace vtl::smctest;
using namespace vtl::testsupport;
using fixtures::read_element_status;
using scsi::Status;

namespace {

// Element Address Assignment page fields, by element type code (1 MT, 2 ST, 3 IE, 4 DT).
struct Geometry {
    uint16_t first[5] = {};
    uint16_t count[5] = {};
};

// Reads the page the way ch, mtx and rmcd do: at `page_at` bytes into the data, fields at fixed
// offsets (robot 2-5, storage 6-9, I/E 10-13, drives 14-17).
Geometry geometry_at(const Bytes& data, size_t page_at) {
    Geometry g;
    EXPECT_GE(data.size(), page_at + 18);
    if (data.size() < page_at + 18) return g;
    EXPECT_EQ(data[page_at] & 0x3F, 0x1D);
    const uint8_t types[] = {1, 2, 3, 4};
    for (int i = 0; i < 4; ++i) {
        g.first[types[i]] = scsi::get_be16(&data[page_at + 2 + 4 * i]);
        g.count[types[i]] = scsi::get_be16(&data[page_at + 4 + 4 * i]);
    }
    return g;
}

// What mtx keeps of an element (its ElementStatus arrays).
struct MtxElement {
    uint16_t address = 0;
    bool full = false;
    bool impexp = false;
    bool svalid = false;
    uint16_t source = 0;
    std::string tag;  // primary volume tag, trailing spaces removed
    std::string alternate;
};

// mtx's walk of a READ ELEMENT STATUS report: header, then for each page its type, PVOLTAG,
// AVOLTAG, descriptor length and byte count; descriptors at that stride.
std::map<uint8_t, std::vector<MtxElement>> mtx_parse(const Bytes& data) {
    std::map<uint8_t, std::vector<MtxElement>> out;
    const size_t end = 8 + scsi::get_be24(&data[5]);
    EXPECT_LE(end, data.size());
    for (size_t at = 8; at + 8 <= std::min(end, data.size());) {
        const uint8_t type = data[at] & 0x0F;
        const bool pvoltag = data[at + 1] & 0x80;
        const bool avoltag = data[at + 1] & 0x40;
        const size_t length = scsi::get_be16(&data[at + 2]);
        const size_t bytes = scsi::get_be24(&data[at + 5]);
        EXPECT_GT(length, 0u);
        if (length == 0) break;
        for (size_t d = at + 8; d + length <= at + 8 + bytes && d + length <= data.size(); d += length) {
            MtxElement e;
            e.address = scsi::get_be16(&data[d]);
            e.full = data[d + 2] & 0x01;
            e.impexp = data[d + 2] & 0x02;
            e.svalid = data[d + 9] & 0x80;
            e.source = scsi::get_be16(&data[d + 10]);
            auto text = [&](size_t off) {
                std::string s(data.begin() + d + off, data.begin() + d + off + 32);
                while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
                return s;
            };
            if (pvoltag) e.tag = text(12);
            if (avoltag) e.alternate = text(pvoltag ? 48 : 12);
            out[type].push_back(e);
        }
        at += 8 + bytes;
    }
    return out;
}

class ChangerClients : public ChangerTest {
protected:
    // mtx: one RES per type, VOLTAG per `barcodes`, allocation 8 + 4 x 8 + N x 84; retries
    // without VOLTAG on a sense key above 1, and with the reported length when it was cut.
    std::map<uint8_t, std::vector<MtxElement>> mtx_status(const Geometry& g, bool barcodes, int* resends = nullptr) {
        std::map<uint8_t, std::vector<MtxElement>> all;
        for (uint8_t type : {2, 3, 4, 1}) {
            if (g.count[type] == 0) continue;
            uint32_t alloc = 8 + 4 * 8 + g.count[type] * 84;
            bool voltag = barcodes;
            auto r = host->send(read_element_status(voltag, type, g.first[type], g.count[type], alloc), alloc);
            if (r.status == Status::CheckCondition && fixtures::decode_sense(r.sense)->key > 1) {
                voltag = false;
                r = host->send(read_element_status(voltag, type, g.first[type], g.count[type], alloc), alloc);
            }
            EXPECT_EQ(r.status, Status::Good) << "type " << int(type);
            if (r.data.size() < 8) continue;
            const uint32_t needed = 8 + scsi::get_be24(&r.data[5]);
            if (needed > alloc) {
                if (resends) ++*resends;
                alloc = needed;
                r = host->send(read_element_status(voltag, type, g.first[type], g.count[type], alloc), alloc);
                EXPECT_EQ(r.data.size(), needed);
            }
            EXPECT_EQ(scsi::get_be16(&r.data[0]), g.first[type]);
            EXPECT_EQ(scsi::get_be16(&r.data[2]), g.count[type]);
            for (auto& [t, elements] : mtx_parse(r.data)) {
                EXPECT_EQ(t, type);
                all[t].insert(all[t].end(), elements.begin(), elements.end());
            }
        }
        return all;
    }

    Geometry mtx_mode_sense() {
        auto r = host->send(fixtures::mode_sense6(true, 0, 0x1D, 0, 136), 136);
        EXPECT_EQ(r.status, Status::Good);
        return geometry_at(r.data, 4 + r.data.at(3));
    }

    void mtx_inquiry() {
        auto r = host->send(fixtures::inquiry(false, 0, 96), 96);
        ASSERT_EQ(r.status, Status::Good);
        EXPECT_EQ(r.data[0] & 0x1F, 0x08);  // medium changer
    }
};

TEST_F(ChangerClients, LinuxChProbe) {
    // The midlayer's INQUIRY, then ch_readconfig.
    auto inq = host->send(fixtures::inquiry(false, 0, 36), 36);
    ASSERT_EQ(inq.status, Status::Good);
    EXPECT_EQ(inq.data[0], 0x08);

    // MODE SENSE(6) page 1Dh, allocation 255, DBD=0: the page follows the header and any block
    // descriptors.
    auto ms = host->send(fixtures::mode_sense6(false, 0, 0x1D, 0, 255), 255);
    ASSERT_EQ(ms.status, Status::Good);
    EXPECT_EQ(ms.data[3], 0);  // no block descriptors
    const Geometry g = geometry_at(ms.data, 4 + ms.data[3]);
    EXPECT_EQ(g.first[1], mte());
    EXPECT_EQ(g.count[1], 1);
    EXPECT_EQ(g.first[2], slot(1));
    EXPECT_EQ(g.count[2], 10);
    EXPECT_EQ(g.first[3], ie(1));
    EXPECT_EQ(g.count[3], 2);
    EXPECT_EQ(g.first[4], dte(0));
    EXPECT_EQ(g.count[4], 2);
    // The DBD=1 fallback gets the same page.
    auto ms1 = host->send(fixtures::mode_sense6(true, 0, 0x1D, 0, 255), 255);
    EXPECT_EQ(ms1.data, ms.data);

    // One-element READ ELEMENT STATUS per drive, VOLTAG=1, allocation 255: ch requires the
    // descriptor at byte 16 to be the element it asked for, then reads NOT BUS / ID VALID /
    // LU VALID at descriptor byte 6.
    for (uint16_t i = 0; i < g.count[4]; ++i) {
        const uint16_t elem = g.first[4] + i;
        auto cdb = read_element_status(true, 4, elem, 1, 255);
        auto r = host->send(cdb, 255);
        ASSERT_EQ(r.status, Status::Good);
        ASSERT_GE(r.data.size(), 16u + 12);
        EXPECT_EQ(scsi::get_be16(&r.data[16]), elem);
        const uint8_t byte6 = r.data[16 + 6];
        EXPECT_EQ(byte6 & 0x80, 0);  // on this bus
        EXPECT_EQ(byte6 & 0x30, 0);  // ID and LUN not reported: ch leaves the drive unmapped
        // Without VOLTAG (ch's retry) the same element.
        r = host->send(read_element_status(false, 4, elem, 1, 255), 255);
        EXPECT_EQ(scsi::get_be16(&r.data[16]), elem);
    }

    // INITIALIZE ELEMENT STATUS (init=1), 3600 s timeout.
    const auto start = clock.now();
    auto ies = run(initialize_element_status());
    EXPECT_EQ(ies.status, Status::Good);
    EXPECT_LT(clock.now() - start, std::chrono::seconds(3600));

    // CHIOMOVE: MOVE MEDIUM with the robot's address; errors ch maps to errno.
    EXPECT_EQ(run(move_medium(g.first[1], g.first[2], g.first[4])).status, Status::Good);
    EXPECT_TRUE(IsCheck(run(move_medium(g.first[1], 0x7777, g.first[4] + 1)), sense(0x05, 0x21, 0x01)));  // EBADSLT
    EXPECT_TRUE(IsCheck(run(move_medium(g.first[1], g.first[2] + 1, g.first[4])), sense(0x05, 0x3B, 0x0D)));  // EXFULL
    EXPECT_TRUE(IsCheck(run(move_medium(g.first[1], g.first[2], g.first[4] + 1)), sense(0x05, 0x3B, 0x0E)));  // EBADE
}

TEST_F(ChangerClients, MtxStatusWithBarcodes) {
    ASSERT_EQ(run(move_medium(mte(), slot(2), dte(1))).status, Status::Good);
    operator_insert(1, "IMP001L8");

    mtx_inquiry();
    const Geometry g = mtx_mode_sense();
    auto status = mtx_status(g, true);

    ASSERT_EQ(status[2].size(), 10u);
    EXPECT_EQ(status[2][0].address, slot(1));
    EXPECT_TRUE(status[2][0].full);
    EXPECT_EQ(status[2][0].tag, "A00001L8");
    EXPECT_FALSE(status[2][1].full);  // "Storage Element 2:Empty"
    EXPECT_EQ(status[2][1].tag, "");
    EXPECT_EQ(status[2][2].tag, "A00003L9");
    EXPECT_EQ(status[2][8].tag, "CLN001CU");
    EXPECT_EQ(status[2][9].tag, "W00001LY");

    ASSERT_EQ(status[3].size(), 2u);  // "Storage Element 11 IMPORT/EXPORT:Empty"
    EXPECT_FALSE(status[3][0].full);
    EXPECT_TRUE(status[3][1].full);  // "Storage Element 12 IMPORT/EXPORT:Full :VolumeTag=IMP001L8"
    EXPECT_TRUE(status[3][1].impexp);
    EXPECT_EQ(status[3][1].tag, "IMP001L8");

    ASSERT_EQ(status[4].size(), 2u);
    EXPECT_FALSE(status[4][0].full);  // "Data Transfer Element 0:Empty"
    EXPECT_TRUE(status[4][1].full);   // "Data Transfer Element 1:Full (Storage Element 2 Loaded)"
    EXPECT_TRUE(status[4][1].svalid);
    EXPECT_EQ(status[4][1].source, slot(2));
    EXPECT_EQ(status[4][1].tag, "A00002L8");

    ASSERT_EQ(status[1].size(), 1u);
    EXPECT_EQ(status[1][0].address, mte());  // mtx's transport address for later moves
    EXPECT_FALSE(status[1][0].full);
}

TEST_F(ChangerClients, MtxStatusWithoutBarcodes) {
    const Geometry g = mtx_mode_sense();
    // nobarcode: VOLTAG=0, 16-byte descriptors, no tags.
    auto r = host->send(read_element_status(false, 2, g.first[2], g.count[2], 8 + 32 + 10 * 84), 8 + 32 + 10 * 84);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data[9] & 0x80, 0);
    EXPECT_EQ(scsi::get_be16(&r.data[10]), 16);
    auto status = mtx_status(g, false);
    ASSERT_EQ(status[2].size(), 10u);
    EXPECT_TRUE(status[2][0].full);
    EXPECT_EQ(status[2][0].tag, "");
    EXPECT_FALSE(status[2][3].full);
    EXPECT_EQ(status[4].size(), 2u);
    EXPECT_EQ(status[3].size(), 2u);
    EXPECT_EQ(status[1].size(), 1u);
}

TEST_F(ChangerClients, MtxResendsWithTheReportedLength) {
    // With alternate tags the descriptors are 88 bytes: more than mtx's 84 per element.
    ASSERT_EQ(host->send(send_volume_tag(0, slot(1), 0x9), 0, volume_tag_parameters("POOL1")).status, Status::Good);
    const Geometry g = mtx_mode_sense();
    int resends = 0;
    auto status = mtx_status(g, true, &resends);
    EXPECT_GT(resends, 0);
    ASSERT_EQ(status[2].size(), 10u);
    EXPECT_EQ(status[2][0].tag, "A00001L8");
    EXPECT_EQ(status[2][0].alternate, "POOL1");
    EXPECT_EQ(status[2][9].tag, "W00001LY");
}

TEST_F(ChangerClients, MtxAltres) {
    for (auto p : {config::Personality::Generic, config::Personality::IbmTs4500}) {
        build(small_config(p));
        const Geometry g = mtx_mode_sense();
        const uint32_t n = g.count[1] + g.count[2] + g.count[3] + g.count[4];
        const uint32_t alloc = 8 + 4 * 8 + n * 84;
        // Element type 0 from address 0, whatever the library's bases.
        auto r = host->send(read_element_status(true, 0, 0, uint16_t(n), alloc), alloc);
        ASSERT_EQ(r.status, Status::Good) << config::to_string(p);
        EXPECT_EQ(scsi::get_be16(&r.data[2]), n);
        auto status = mtx_parse(r.data);
        EXPECT_EQ(status[1].size(), g.count[1]);
        EXPECT_EQ(status[2].size(), g.count[2]);
        EXPECT_EQ(status[3].size(), g.count[3]);
        EXPECT_EQ(status[4].size(), g.count[4]);
        EXPECT_EQ(status[2][0].address, g.first[2]);
        EXPECT_EQ(status[2][0].tag, "A00001L8");
        EXPECT_EQ(status[4][1].address, g.first[4] + 1);
    }
}

TEST_F(ChangerClients, MtxLoadUnloadTransferExchangeInventory) {
    mtx_inquiry();
    const Geometry g = mtx_mode_sense();
    auto status = mtx_status(g, true);
    const uint16_t transport = status[1][0].address;

    // mtx load 1 0
    ASSERT_EQ(run(move_medium(transport, status[2][0].address, status[4][0].address)).status, Status::Good);
    status = mtx_status(g, true);
    ASSERT_TRUE(status[4][0].full);
    EXPECT_EQ(status[4][0].tag, "A00001L8");
    ASSERT_TRUE(status[4][0].svalid);
    EXPECT_EQ(status[4][0].source, slot(1));
    clock.advance(std::chrono::minutes(1));  // the drive loads

    // mtx unload (no slot): back to the DTE's source element.
    ASSERT_EQ(run(move_medium(transport, status[4][0].address, status[4][0].source)).status, Status::Good);
    status = mtx_status(g, true);
    EXPECT_FALSE(status[4][0].full);
    EXPECT_EQ(status[2][0].tag, "A00001L8");

    // mtx transfer 2 5
    ASSERT_EQ(run(move_medium(transport, status[2][1].address, status[2][4].address)).status, Status::Good);
    status = mtx_status(g, true);
    EXPECT_FALSE(status[2][1].full);
    EXPECT_EQ(status[2][4].tag, "A00002L8");

    // mtx exchange 1 5 (second destination: the source)
    ASSERT_EQ(run(exchange_medium(transport, status[2][0].address, status[2][4].address, status[2][0].address))
                  .status,
              Status::Good);
    status = mtx_status(g, true);
    EXPECT_EQ(status[2][0].tag, "A00002L8");
    EXPECT_EQ(status[2][4].tag, "A00001L8");

    // mtx eepos 1 load 5 1 / eepos 2 unload 5 1: eepos in CONTROL bits 7-6.
    ASSERT_EQ(run(move_medium(transport, status[2][4].address, status[4][1].address, false, 1 << 6)).status,
              Status::Good);
    clock.advance(std::chrono::minutes(1));
    ASSERT_EQ(run(move_medium(transport, status[4][1].address, status[2][4].address, false, 2 << 6)).status,
              Status::Good);
    status = mtx_status(g, true);
    EXPECT_EQ(status[2][4].tag, "A00001L8");
    EXPECT_FALSE(status[4][1].full);

    // mtx inventory
    EXPECT_EQ(run(initialize_element_status()).status, Status::Good);
    EXPECT_EQ(host->send(fixtures::test_unit_ready()).status, Status::Good);
}

// ---- CERN CTA rmcd --------------------------------------------------------------------------

class CtaRmcd : public ChangerTest {
protected:
    struct Element {
        uint16_t address = 0;
        bool full = false;
        bool access = false;
        uint8_t asc = 0, ascq = 0;
        bool svalid = false;
        uint16_t source = 0;
        std::string vid;
    };

    void get_geometry() {
        auto inq = host->send(fixtures::inquiry(false, 0, 36), 36);
        ASSERT_EQ(inq.status, Status::Good);
        ASSERT_EQ(inq.data.size(), 36u);
        EXPECT_EQ(inq.data[0] & 0x1F, 0x08);
        vendor = std::string(inq.data.begin() + 8, inq.data.begin() + 16);
        product = std::string(inq.data.begin() + 16, inq.data.begin() + 32);
        // Allocation 24, the page read at byte 4: no block descriptors may come before it.
        auto ms = host->send(fixtures::mode_sense6(true, 0, 0x1D, 0, 24), 24);
        ASSERT_EQ(ms.status, Status::Good);
        ASSERT_EQ(ms.data.size(), 24u);
        geometry = geometry_at(ms.data, 4);
    }

    // A one-element READ ELEMENT STATUS (allocation 128) for the descriptor length, then the
    // whole range with an allocation computed from it.
    std::vector<Element> read_elements(uint8_t type, uint16_t start, uint16_t count) {
        auto probe = host->send(read_element_status(true, type, start, 1, 128), 128);
        EXPECT_EQ(probe.status, Status::Good);
        if (probe.data.size() < 16) return {};
        const size_t length = scsi::get_be16(&probe.data[10]);
        const uint32_t alloc = 16 + count * length;
        auto r = host->send(read_element_status(true, type, start, count, alloc), alloc);
        EXPECT_EQ(r.status, Status::Good);
        EXPECT_EQ(r.data.size(), alloc);  // the probe's length held for the full report
        return parse(r.data);
    }

    static std::vector<Element> parse(const Bytes& data) {
        std::vector<Element> out;
        if (data.size() < 16) return out;
        const size_t count = scsi::get_be16(&data[2]);
        const size_t length = scsi::get_be16(&data[10]);
        for (size_t i = 0, at = 16; i < count && at + length <= data.size(); ++i, at += length) {
            Element e;
            e.address = scsi::get_be16(&data[at]);
            e.full = data[at + 2] & 0x01;
            e.access = data[at + 2] & 0x08;
            e.asc = data[at + 4];
            e.ascq = data[at + 5];
            e.svalid = data[at + 9] & 0x80;
            e.source = scsi::get_be16(&data[at + 10]);
            if (data[9] & 0x80) {
                e.vid.assign(data.begin() + at + 12, data.begin() + at + 12 + 32);
                e.vid = e.vid.substr(0, e.vid.find_first_of(std::string(" \0", 2)));
            }
            out.push_back(e);
        }
        return out;
    }

    // smc_find_cartridge: SEND VOLUME TAG translate (05h) with the VID and '*', then REQUEST
    // VOLUME ELEMENT ADDRESS.
    std::optional<Element> find_cartridge(const std::string& vid) {
        auto svt = host->send(send_volume_tag(0, 0, 0x05), 0, volume_tag_parameters(vid + "*"));
        EXPECT_EQ(svt.status, Status::Good);
        auto r = host->send(request_volume_element_address(true, 0, 0, 1, 128), 128);
        EXPECT_EQ(r.status, Status::Good);
        EXPECT_EQ(r.data.at(4) & 0x1F, 0x05);
        auto found = parse(r.data);
        if (found.empty()) return std::nullopt;
        return found[0];
    }

    void mount(const std::string& vid, uint16_t drive) {
        auto where = find_cartridge(vid);
        ASSERT_TRUE(where) << vid;
        EXPECT_EQ(where->vid.substr(0, vid.size()), vid);
        auto drives = read_elements(4, geometry.first[4], geometry.count[4]);
        ASSERT_FALSE(drives.at(drive).full);
        ASSERT_EQ(run(move_medium(0, where->address, geometry.first[4] + drive)).status, Status::Good);
        auto after = read_elements(4, geometry.first[4] + drive, 1);
        ASSERT_EQ(after.size(), 1u);
        EXPECT_TRUE(after[0].full);
        EXPECT_EQ(after[0].vid.substr(0, vid.size()), vid);
    }

    void dismount(const std::string& vid, uint16_t drive, bool ibm) {
        const uint16_t address = geometry.first[4] + drive;
        auto d = read_elements(4, address, 1).at(0);
        ASSERT_TRUE(d.full);
        EXPECT_EQ(d.vid.substr(0, vid.size()), vid);
        ASSERT_TRUE(d.svalid);
        if (ibm) {
            // The tape server unloads; rmcd polls until the library can reach the cartridge.
            EXPECT_FALSE(d.access);
            lib->drive_at(address)->eject([](std::optional<scsi::Sense>) {});
            int polls = 0;
            while (!d.access && polls < 100) {
                clock.advance(std::chrono::seconds(5));
                d = read_elements(4, address, 1).at(0);
                ++polls;
            }
            EXPECT_TRUE(d.access);
            EXPECT_GT(polls, 1);
        }
        ASSERT_EQ(run(move_medium(0, address, d.source)).status, Status::Good);
        auto back = find_cartridge(vid);
        ASSERT_TRUE(back);
        EXPECT_EQ(back->address, d.source);
        EXPECT_FALSE(read_elements(4, address, 1).at(0).full);
    }

    std::string vendor, product;
    Geometry geometry;
};

TEST_F(CtaRmcd, MountAndDismount) {
    get_geometry();
    EXPECT_EQ(geometry.first[4], dte(0));
    auto slots = read_elements(2, geometry.first[2], geometry.count[2]);
    ASSERT_EQ(slots.size(), 10u);
    EXPECT_EQ(slots[0].vid, "A00001L8");
    mount("A00002", 1);
    clock.advance(std::chrono::minutes(1));  // the drive loads; the tape server works
    dismount("A00002", 1, false);
}

TEST_F(CtaRmcd, MountAndDismountOnAnIbmLibraryWaitsForAccess) {
    build(small_config(config::Personality::IbmTs4500));
    get_geometry();
    EXPECT_EQ(vendor, "IBM     ");
    EXPECT_EQ(geometry.first[1], 0x0001);
    mount("A00001", 0);
    clock.advance(std::chrono::minutes(1));
    // While the drive holds the cartridge threaded the library refuses to pick it.
    auto refused = host->send(move_medium(0, dte(0), slot(1)));
    EXPECT_EQ(refused.status, Status::CheckCondition);
    dismount("A00001", 0, true);
}

}  // namespace
