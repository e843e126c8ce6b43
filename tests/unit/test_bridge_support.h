// What the bridge and asynchronous-move tests share: the two vendor CDBs (laid out from
// docs/adi-bridge.md), decoders of their data, and a library of bridging drives.
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "bridge/bridge.h"
#include "library/async_moves.h"
#include "smc_support.h"

namespace vtl::bridgetest {

using Bytes = std::vector<uint8_t>;
using smctest::put16;

inline void put32(Bytes& c, size_t at, uint32_t v) {
    put16(c, at, uint16_t(v >> 16));
    put16(c, at + 2, uint16_t(v));
}
inline uint16_t get16(const Bytes& b, size_t at) { return uint16_t(b.at(at) << 8 | b.at(at + 1)); }
inline uint32_t get32(const Bytes& b, size_t at) { return uint32_t(get16(b, at)) << 16 | get16(b, at + 2); }

// ASYNC MOVE MEDIUM: INVERT byte 1 b0, transport 2-3, source 4-5, destination 6-7, ALLOCATION
// LENGTH 8, CONTROL 9.
inline Bytes async_move(uint16_t transport, uint16_t source, uint16_t destination, uint8_t allocation = 8,
                        uint8_t opcode = 0xC5) {
    Bytes c(10, 0);
    c[0] = opcode;
    put16(c, 2, transport);
    put16(c, 4, source);
    put16(c, 6, destination);
    c[8] = allocation;
    return c;
}

// MOVE QUERY: RELEASE byte 1 b0, MOVE TOKEN 2-5, WAIT TIME 6, ALLOCATION LENGTH 7-8, CONTROL 9.
inline Bytes move_query(uint32_t token, uint8_t wait_s, bool release = false, uint16_t allocation = 36,
                        uint8_t opcode = 0xC6) {
    Bytes c(10, 0);
    c[0] = opcode;
    c[1] = release ? 1 : 0;
    put32(c, 2, token);
    c[6] = wait_s;
    put16(c, 7, allocation);
    return c;
}

struct TokenBlock {
    uint32_t token;
    uint16_t estimate_s;
    bool queued;
};
inline TokenBlock token_block(const Bytes& d) {
    EXPECT_EQ(d.size(), 8u);
    EXPECT_EQ(d.at(6) & 0xFE, 0);
    EXPECT_EQ(d.at(7), 0);
    return {get32(d, 0), get16(d, 4), (d.at(6) & 1) != 0};
}

struct StatusBlock {
    uint16_t length;
    uint8_t state;
    uint16_t progress;
    uint16_t source;
    uint16_t destination;
    uint32_t token;
    uint32_t age_s;
    Bytes sense;
};
inline StatusBlock status_block(const Bytes& d) {
    EXPECT_EQ(d.size(), 36u);
    return {get16(d, 0), d.at(2),      get16(d, 4),  get16(d, 6),
            get16(d, 8), get32(d, 10), get32(d, 14), Bytes(d.begin() + 18, d.begin() + 36)};
}

// A library with `drives` IBM LTO-8 drives, all bridging, `slots` slots and LTO-8 cartridges
// B00001L8.. in slots 1..`cartridges`.
inline config::LibraryConfig bridged_config(uint32_t drives, uint32_t slots = 20, uint32_t cartridges = 8,
                                            config::AbortPolicy policy = config::AbortPolicy::Complete) {
    auto c = config::library_defaults("lib0", config::Personality::SpectraTfinity);
    c.robots = 1;
    c.slots = slots;
    c.ie_slots = 2;
    c.bridge.abort_policy = policy;
    for (uint32_t i = 0; i < drives; ++i) {
        config::DriveConfig d;
        d.name = fmt::format("drive{}", i);
        d.serial = config::default_drive_serial(c.name, d.name);
        d.bridge = true;
        c.drives.push_back(d);
    }
    for (uint32_t i = 1; i <= cartridges; ++i) {
        c.cartridges.push_back(
            config::CartridgeConfig{.barcode = fmt::format("B{:05}L8", i), .slot = i, .generation = 8});
    }
    return c;
}

// A motion fault on the first motion a robot takes: the recovery lengthens its pick phase (and
// it then completes), or fails it with `sense`.
inline smc::MotionFaultHook fault_on_first(Duration recovery, std::optional<scsi::Sense> sense = std::nullopt) {
    auto fired = std::make_shared<bool>(false);
    return [fired, recovery, sense](uint16_t, const smc::Motion&) -> std::optional<smc::MotionFault> {
        if (*fired) return std::nullopt;
        *fired = true;
        return smc::MotionFault{recovery, sense};
    };
}

}  // namespace vtl::bridgetest
