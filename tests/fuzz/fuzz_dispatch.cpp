// libFuzzer target: arbitrary traffic from three initiators into a tape drive and the medium
// changer of a real library (inventory, robots, moves), with clock movement and task management
// mixed in. It traps when a task is lost or
// completed twice, or when an answer breaks SAM/SPC rules a host relies on.
//
// Input: a sequence of operations, each starting with a selector byte (s % 8):
//   0-3 SEND    [who] [cdb length % 33] [cdb] [data-out length: be16 % 4097] [data-out]
//               [data-in length: be16]
//   4   ADVANCE [unit] [amount: be16]; unit % 4: 0 ms, 1 s, 2 min, 3 step to the next timer
//   5   ABORT   [who] [pick]; pick < 80h aborts the pick-th task of that nexus and LU still
//               outstanding, otherwise the tag `pick` (usually unknown)
//   6   RESET   [who]: LOGICAL UNIT RESET
//   7   LOSS    [who]: I_T nexus loss, on both logical units (as a dropped session is)
// `who`: bits 1-0 the initiator (% 3), bit 2 the logical unit (0 drive, 1 changer). A missing
// byte ends the input. scripts/test writes seeds in this format; keep the two in step.
//
// The library is built once (in memory). After every input all tasks are drained, aborted by a
// LUN reset, and every nexus is dropped, so each input starts with no tasks, no reservation and
// a pending 29/07 on every nexus. Mode values saved with SP=1, the drive's block size and where
// the cartridges are persist.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "config/config.h"
#include "core/logical_unit.h"
#include "core/virtual_clock.h"
#include "library/library.h"

namespace {

using namespace std::chrono_literals;

constexpr int kInitiators = 3;
constexpr size_t kMaxOps = 256;         // keeps one input well inside -timeout
constexpr size_t kMaxDrainSteps = 10'000;  // timers that re-arm forever must not hang the drain

[[noreturn]] void violation() { __builtin_trap(); }
void require(bool ok) {
    if (!ok) violation();
}

// SAM-5 status codes.
bool sam_status(vtl::scsi::Status s) {
    switch (static_cast<uint8_t>(s)) {
        case 0x00: case 0x02: case 0x04: case 0x08: case 0x18: case 0x28: case 0x30: case 0x40:
            return true;
        default:
            return false;
    }
}

// Sense data as SPC-4 lays it out: fixed (70h/71h) is 18 bytes with ADDITIONAL LENGTH 10;
// descriptor (72h/73h) has ADDITIONAL LENGTH = size - 8 and descriptors that tile it exactly.
bool well_formed_sense(const std::vector<uint8_t>& s) {
    if (s.size() < 8) return false;
    const uint8_t code = s[0] & 0x7F;
    if (code == 0x70 || code == 0x71) return s.size() == 18 && s[7] == 10;
    if (code != 0x72 && code != 0x73) return false;
    if (s[7] != s.size() - 8) return false;
    size_t at = 8;
    while (at < s.size()) {
        if (at + 2 > s.size()) return false;
        at += 2 + size_t(s[at + 1]);
    }
    return at == s.size();
}

void check_completion(const vtl::Task& t) {
    const uint32_t expected = t.command().data_in_length;
    require(sam_status(t.status()));
    require(t.data_in().size() <= expected);
    require(t.residual() == expected - t.data_in().size());
    require(!t.overflow() || t.data_in().size() == expected);
    if (t.status() == vtl::scsi::Status::CheckCondition) {
        require(well_formed_sense(t.sense_data()));
    } else {
        require(t.sense_data().empty());  // only CHECK CONDITION carries sense (SAM-5)
    }
}

struct Sent {
    vtl::TaskPtr task;
    std::shared_ptr<int> completions;
    std::shared_ptr<std::vector<uint8_t>> data_out;  // the task's span points here
    int initiator;
    int lu;
};

// A small generic library: 2 drives (LTO-8), 8 slots with 5 cartridges, 2 I/E slots.
vtl::config::LibraryConfig fuzz_library() {
    auto config = vtl::config::library_defaults("fuzz");
    config.slots = 8;
    config.ie_slots = 2;
    for (int i = 0; i < 2; ++i) {
        vtl::config::DriveConfig d;
        d.name = "drive" + std::to_string(i);
        d.serial = vtl::config::default_drive_serial(config.name, d.name);
        config.drives.push_back(d);
    }
    for (uint32_t i = 1; i <= 5; ++i) {
        config.cartridges.push_back({.barcode = "FZ000" + std::to_string(i) + "L8", .slot = i, .generation = 8});
    }
    return config;
}

struct Target {
    vtl::VirtualClock clock;
    vtl::library::Library library{fuzz_library(), clock};
    vtl::LogicalUnit* lus[2] = {library.find("drive0"), &library.changer()};
    vtl::Nexus nexus[kInitiators];

    Target() {
        spdlog::set_level(spdlog::level::off);  // a CHECK CONDITION logs a line; millions would drown the run
        for (int i = 0; i < kInitiators; ++i) {
            nexus[i].initiator = "iqn.2026-01.test.fuzz:host" + std::to_string(i);
            nexus[i].target.relative_id = 1;
            nexus[i].target.protocol = vtl::Protocol::Iscsi;
            nexus[i].target.name = "iqn.2026-01.test.fuzz:target";
        }
        baseline();
    }

    // Ends every task and every nexus, so the next input starts from the same state.
    void baseline() {
        for (auto& lu : lus) {
            lu->lun_reset(nexus[0]);
            for (auto& n : nexus) lu->nexus_loss(n);
        }
        clock.run_ready();
    }
};

class Input {
public:
    Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool u8(uint8_t& v) {
        if (at_ >= size_) return false;
        v = data_[at_++];
        return true;
    }
    bool be16(uint16_t& v) {
        uint8_t hi, lo;
        if (!u8(hi) || !u8(lo)) return false;
        v = uint16_t(hi << 8 | lo);
        return true;
    }
    // Up to n bytes; fewer at the end of the input.
    std::vector<uint8_t> bytes(size_t n) {
        n = std::min(n, size_ - at_);
        std::vector<uint8_t> out(data_ + at_, data_ + at_ + n);
        at_ += n;
        return out;
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t at_ = 0;
};

Target& target() {
    static Target t;
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Target& lib = target();
    std::vector<Sent> sent;
    uint64_t next_tag = 1;
    Input in(data, size);

    for (size_t op = 0; op < kMaxOps; ++op) {
        uint8_t selector;
        if (!in.u8(selector)) break;
        switch (selector % 8) {
            case 0: case 1: case 2: case 3: {
                uint8_t who, cdb_length;
                if (!in.u8(who) || !in.u8(cdb_length)) break;
                std::vector<uint8_t> cdb = in.bytes(cdb_length % 33);
                uint16_t out_length, in_length;
                if (!in.be16(out_length)) break;
                auto data_out = std::make_shared<std::vector<uint8_t>>(in.bytes(out_length % 4097));
                if (!in.be16(in_length)) break;

                Sent s;
                s.initiator = (who & 0x03) % kInitiators;
                s.lu = (who >> 2) & 1;
                s.completions = std::make_shared<int>(0);
                s.data_out = data_out;
                vtl::Command cmd;
                cmd.tag = next_tag++;
                cmd.nexus = lib.nexus[s.initiator];
                cmd.cdb = std::move(cdb);
                cmd.data_out = *data_out;
                cmd.data_in_length = in_length;
                s.task = std::make_shared<vtl::Task>(std::move(cmd), [count = s.completions](vtl::Task& t) {
                    require(++*count == 1);  // a second completion is a violation at once
                    check_completion(t);
                });
                sent.push_back(s);
                lib.lus[s.lu]->submit(s.task);
                lib.clock.run_ready();
                break;
            }
            case 4: {
                uint8_t unit;
                uint16_t amount;
                if (!in.u8(unit) || !in.be16(amount)) break;
                switch (unit % 4) {
                    case 0: lib.clock.advance(std::chrono::milliseconds(amount)); break;
                    case 1: lib.clock.advance(std::chrono::seconds(amount)); break;
                    case 2: lib.clock.advance(std::chrono::minutes(amount)); break;
                    default: lib.clock.step(); break;
                }
                break;
            }
            case 5: {
                uint8_t who, pick;
                if (!in.u8(who) || !in.u8(pick)) break;
                const int initiator = (who & 0x03) % kInitiators;
                const int lu = (who >> 2) & 1;
                uint64_t tag = pick;
                if (pick < 0x80) {
                    std::vector<uint64_t> open;
                    for (const auto& s : sent) {
                        if (s.initiator == initiator && s.lu == lu && !s.task->done()) open.push_back(s.task->tag());
                    }
                    if (!open.empty()) tag = open[pick % open.size()];
                }
                lib.lus[lu]->abort_task(lib.nexus[initiator], tag);
                lib.clock.run_ready();
                break;
            }
            case 6: {
                uint8_t who;
                if (!in.u8(who)) break;
                lib.lus[(who >> 2) & 1]->lun_reset(lib.nexus[(who & 0x03) % kInitiators]);
                lib.clock.run_ready();
                break;
            }
            case 7: {
                uint8_t who;
                if (!in.u8(who)) break;
                for (auto& lu : lib.lus) lu->nexus_loss(lib.nexus[(who & 0x03) % kInitiators]);
                lib.clock.run_ready();
                break;
            }
        }
        // Completed exactly when the callback ran, for every task so far.
        for (const auto& s : sent) require((*s.completions == 1) == s.task->done());
    }

    // Let everything in motion finish, then end what never would: after that no task may be
    // left without its one completion.
    for (size_t i = 0; i < kMaxDrainSteps && lib.clock.step(); ++i) {
    }
    lib.baseline();
    for (const auto& s : sent) require(*s.completions == 1 && s.task->done());
    for (auto& lu : lib.lus) require(lu->tasks_in_flight() == 0);
    return 0;
}
