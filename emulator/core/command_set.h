// The table of commands a logical unit supports: one entry per opcode (and service action)
// with its handler, its CDB usage data and timeouts (for REPORT SUPPORTED OPERATION CODES),
// and how it interacts with queueing, reservations and unit attentions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/task.h"

namespace vtl {

class Exec;
using Handler = std::function<Result(Exec&)>;

// Immediate commands run at once even on a serial logical unit (a tape drive answers INQUIRY
// while it rewinds); ordered ones wait for the one in progress.
enum class Queueing { Ordered, Immediate };

// SPC-4 5.14: INQUIRY and REPORT LUNS run with a unit attention pending; REQUEST SENSE returns
// it as its data; every other command is refused with it.
enum class UnitAttentionRule { Report, Ignore, AsSenseData };

struct CommandInfo {
    uint8_t opcode = 0;
    std::optional<uint16_t> service_action;
    std::string name;
    // CDB USAGE DATA: byte 0 the opcode, then a mask of the bits the device looks at. Its size
    // is the CDB length.
    std::vector<uint8_t> usage;
    uint32_t nominal_timeout_s = 0;
    uint32_t recommended_timeout_s = 0;
    Queueing queueing = Queueing::Ordered;
    UnitAttentionRule unit_attention = UnitAttentionRule::Report;
    // Runs while another I_T nexus holds a RESERVE; nullptr means RESERVATION CONFLICT.
    std::function<bool(std::span<const uint8_t> cdb)> allowed_when_reserved;
    Handler handler;
};

// The usual entry: ordered, unit attentions reported, conflicts under another nexus's RESERVE.
// Callers change those fields afterwards where a command differs.
inline CommandInfo make_command(uint8_t opcode, std::string name, std::vector<uint8_t> usage,
                                uint32_t nominal_timeout_s, uint32_t recommended_timeout_s, Handler handler) {
    CommandInfo info;
    info.opcode = opcode;
    info.name = std::move(name);
    info.usage = std::move(usage);
    info.nominal_timeout_s = nominal_timeout_s;
    info.recommended_timeout_s = recommended_timeout_s;
    info.handler = std::move(handler);
    return info;
}

class CommandSet {
public:
    void add(CommandInfo info);

    enum class Lookup { Found, UnknownOpcode, UnknownServiceAction };
    struct Match {
        Lookup result;
        const CommandInfo* info = nullptr;
    };
    Match find(std::span<const uint8_t> cdb) const;
    const CommandInfo* find(uint8_t opcode, std::optional<uint16_t> service_action) const;
    bool uses_service_actions(uint8_t opcode) const;

    // Every entry, ordered by opcode then service action.
    std::vector<const CommandInfo*> all() const;

private:
    using Key = std::pair<uint8_t, int32_t>;  // service action -1 when the opcode has none
    std::map<Key, CommandInfo> commands_;
};

// Where an opcode keeps its service action: byte 1 bits 4-0, or bytes 8-9 of a 7Fh CDB.
std::optional<uint16_t> service_action_of(std::span<const uint8_t> cdb);

}  // namespace vtl
