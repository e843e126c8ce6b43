// What the SMC command tests share: small libraries built from a config, a host on the changer,
// CDB builders for the SMC-3 commands (laid out from the SMC-3 CDB tables), and helpers that
// read the element status the way hosts do.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cdb.h"
#include "config/config.h"
#include "scsi/bytes.h"
#include "core/virtual_clock.h"
#include "element_status_view.h"
#include "initiator.h"
#include "library/library.h"
#include "sense_view.h"
#include "support.h"

namespace vtl::smctest {

using Bytes = std::vector<uint8_t>;
using fixtures::Response;

// ---- CDBs (CONTROL 0 unless given) ----------------------------------------------------------

inline void put16(Bytes& c, size_t at, uint16_t v) {
    c[at] = uint8_t(v >> 8);
    c[at + 1] = uint8_t(v);
}
inline void put24(Bytes& c, size_t at, uint32_t v) {
    c[at] = uint8_t(v >> 16);
    put16(c, at + 1, uint16_t(v));
}

// SMC-3: A5h, transport 2-3, source 4-5, destination 6-7, INVERT byte 10 b0, CONTROL 11.
inline Bytes move_medium(uint16_t transport, uint16_t source, uint16_t destination, bool invert = false,
                         uint8_t control = 0) {
    Bytes c(12, 0);
    c[0] = 0xA5;
    put16(c, 2, transport);
    put16(c, 4, source);
    put16(c, 6, destination);
    c[10] = invert ? 1 : 0;
    c[11] = control;
    return c;
}

// SMC-3: A6h, transport 2-3, source 4-5, first destination 6-7, second destination 8-9,
// INV2 byte 10 b1, INV1 b0.
inline Bytes exchange_medium(uint16_t transport, uint16_t source, uint16_t first, uint16_t second, bool inv1 = false,
                             bool inv2 = false, uint8_t control = 0) {
    Bytes c(12, 0);
    c[0] = 0xA6;
    put16(c, 2, transport);
    put16(c, 4, source);
    put16(c, 6, first);
    put16(c, 8, second);
    c[10] = uint8_t((inv2 ? 2 : 0) | (inv1 ? 1 : 0));
    c[11] = control;
    return c;
}

// SMC-3: 2Bh, transport 2-3, destination 4-5, INVERT byte 8 b0.
inline Bytes position_to_element(uint16_t transport, uint16_t destination, bool invert = false) {
    Bytes c(10, 0);
    c[0] = 0x2B;
    put16(c, 2, transport);
    put16(c, 4, destination);
    c[8] = invert ? 1 : 0;
    return c;
}

// SMC-3: 07h, 6 bytes.
inline Bytes initialize_element_status() { return {0x07, 0, 0, 0, 0, 0}; }

// SMC-3 (and vendor E7h with the same layout): FAST byte 1 b1, RANGE b0, ELEMENT ADDRESS
// 2-3, NUMBER OF ELEMENTS 6-7.
inline Bytes initialize_with_range(bool range, uint16_t first, uint16_t count, bool fast = false,
                                   uint8_t opcode = 0x37) {
    Bytes c(10, 0);
    c[0] = opcode;
    c[1] = uint8_t((fast ? 2 : 0) | (range ? 1 : 0));
    put16(c, 2, first);
    put16(c, 6, count);
    return c;
}

// SMC-3: B6h, ELEMENT TYPE CODE byte 1 b3-0, ELEMENT ADDRESS 2-3, SEND ACTION CODE byte 5
// b4-0, PARAMETER LIST LENGTH 8-9.
inline Bytes send_volume_tag(uint8_t type, uint16_t address, uint8_t action, uint16_t length = 40) {
    Bytes c(12, 0);
    c[0] = 0xB6;
    c[1] = type & 0x0F;
    put16(c, 2, address);
    c[5] = action & 0x1F;
    put16(c, 8, length);
    return c;
}

// Send volume tag parameters: 32-byte template (space padded), reserved, min/max sequence.
inline Bytes volume_tag_parameters(std::string_view templ, uint16_t min_seq = 0, uint16_t max_seq = 0,
                                   char pad = ' ') {
    Bytes p(40, 0);
    for (size_t i = 0; i < 32; ++i) p[i] = i < templ.size() ? uint8_t(templ[i]) : uint8_t(pad);
    put16(p, 34, min_seq);
    put16(p, 38, max_seq);
    return p;
}

// SMC-3: B5h, VOLTAG byte 1 b4, ELEMENT TYPE CODE b3-0, ELEMENT ADDRESS 2-3, NUMBER OF
// ELEMENTS 4-5, ALLOCATION LENGTH 7-9.
inline Bytes request_volume_element_address(bool voltag, uint8_t type, uint16_t start, uint16_t count,
                                            uint32_t alloc) {
    Bytes c(12, 0);
    c[0] = 0xB5;
    c[1] = uint8_t((voltag ? 0x10 : 0) | (type & 0x0F));
    put16(c, 2, start);
    put16(c, 4, count);
    put24(c, 7, alloc);
    return c;
}

// SMC-3: 1Bh, ELEMENT ADDRESS 2-3, ACTION CODE byte 4 b4-0 (0 open, 1 close).
inline Bytes open_close_ie(uint16_t address, uint8_t action) {
    Bytes c{0x1B, 0, 0, 0, uint8_t(action & 0x1F), 0};
    put16(c, 2, address);
    return c;
}

// ---- Libraries ------------------------------------------------------------------------------

struct CartridgeSpec {
    std::string barcode;
    uint32_t slot;
    config::MediaType type = config::MediaType::Data;
    int generation = 8;
};

// One robot, 10 slots, 2 I/E slots, 2 IBM LTO-8 drives, and five cartridges: LTO-8 data in slots
// 1 and 2, LTO-9 data in 3 (an LTO-8 drive cannot take it), cleaning in 9, LTO-8 WORM in 10.
inline config::LibraryConfig small_config(config::Personality p = config::Personality::Generic,
                                          uint32_t drives = 2) {
    auto c = config::library_defaults("lib0", p);
    c.robots = 1;
    c.slots = 10;
    c.ie_slots = 2;
    for (uint32_t i = 0; i < drives; ++i) {
        config::DriveConfig d;
        d.name = fmt::format("drive{}", i);
        d.serial = config::default_drive_serial(c.name, d.name);
        c.drives.push_back(d);
    }
    const CartridgeSpec carts[] = {
        {"A00001L8", 1},
        {"A00002L8", 2},
        {"A00003L9", 3, config::MediaType::Data, 9},
        {"CLN001CU", 9, config::MediaType::Cleaning, 0},
        {"W00001LY", 10, config::MediaType::Worm, 8},
    };
    for (const auto& s : carts) {
        c.cartridges.push_back(config::CartridgeConfig{
            .barcode = s.barcode,
            .slot = s.slot,
            .type = s.type,
            .generation = s.generation ? std::optional<int>(s.generation) : std::nullopt});
    }
    return c;
}

// A library in memory with a host logged in to its changer (the power-on attention consumed).
class ChangerTest : public ::testing::Test {
protected:
    void build(config::LibraryConfig c) {
        config = std::move(c);
        lib = std::make_unique<library::Library>(config, clock, library::Library::Options{});
        host = std::make_unique<fixtures::Initiator>(lib->changer(), clock);
        host->clear_power_on_attention();
    }
    void SetUp() override { build(small_config()); }

    uint16_t mte() const { return config.addresses.transport; }
    uint16_t slot(uint32_t n) const { return static_cast<uint16_t>(config.addresses.slot + n - 1); }
    uint16_t ie(uint32_t n) const { return static_cast<uint16_t>(config.addresses.ie + n - 1); }
    uint16_t dte(uint32_t n) const { return static_cast<uint16_t>(config.addresses.drive + n); }

    // Sends a command and runs the clock until it completes (robot motions take minutes).
    Response run(const Bytes& cdb, uint32_t data_in = 0, Bytes data_out = {}, fixtures::Initiator* who = nullptr) {
        fixtures::Initiator& h = who ? *who : *host;
        auto p = h.submit(cdb, data_in, std::move(data_out));
        for (int i = 0; i < 10'000 && !p.done(); ++i) {
            if (!clock.step()) break;
        }
        if (!p.done()) throw std::runtime_error("command never completed");
        return p.response();
    }

    // Consumes every unit attention queued for `h` (operator actions raise 28/01).
    void drain(fixtures::Initiator* who = nullptr) {
        fixtures::Initiator& h = who ? *who : *host;
        for (int i = 0; i < 32; ++i) {
            auto r = h.send(fixtures::test_unit_ready());
            const auto s = fixtures::decode_sense(r.sense);
            if (r.status != scsi::Status::CheckCondition || !s || s->key != 0x06) return;
        }
    }

    // An operator opens the I/E door, puts a cartridge into I/E slot `index` (0-based) and
    // closes the door; the host's attentions are consumed.
    void operator_insert(uint32_t index, std::string barcode,
                         config::MediaType type = config::MediaType::Data, int generation = 8) {
        ASSERT_EQ(lib->open_ie_door(), std::nullopt);
        smc::Cartridge c{.barcode = std::move(barcode), .type = type, .generation = generation};
        ASSERT_EQ(lib->insert_cartridge(index, c), std::nullopt);
        ASSERT_EQ(lib->close_ie_door(), std::nullopt);
        drain();
    }

    // Every element, with tags, as one READ ELEMENT STATUS of all types returns it.
    Bytes all_status() {
        auto r = host->send(fixtures::read_element_status(true, 0, 0, 0xFFFF, 0xFFFFFF), 0xFFFFFF);
        EXPECT_EQ(r.status, scsi::Status::Good);
        return r.data;
    }
    fixtures::ElementStatusView decoded_status() {
        auto v = fixtures::decode_element_status(all_status());
        if (!v) throw std::runtime_error("element status does not decode");
        return *v;
    }
    fixtures::ElementDescriptor element(uint16_t address) {
        auto r = host->send(fixtures::read_element_status(true, 0, address, 1, 1024), 1024);
        EXPECT_EQ(r.status, scsi::Status::Good);
        auto v = fixtures::decode_element_status(r.data);
        if (!v || v->descriptor_count() != 1) throw std::runtime_error("one-element status does not decode");
        return v->pages.at(0).descriptors.at(0);
    }
    std::string tag_at(uint16_t address) {
        auto d = element(address);
        return d.full && d.primary_tag ? d.primary_tag->identifier : std::string();
    }

    config::LibraryConfig config;
    VirtualClock clock;
    std::unique_ptr<library::Library> lib;
    std::unique_ptr<fixtures::Initiator> host;
};

}  // namespace vtl::smctest
