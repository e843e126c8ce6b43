#include "core/command_set.h"

#include <stdexcept>

#include "scsi/bytes.h"

namespace vtl {

std::optional<uint16_t> service_action_of(std::span<const uint8_t> cdb) {
    if (cdb.empty()) return std::nullopt;
    if (cdb[0] == 0x7F) {
        if (cdb.size() < 10) return std::nullopt;
        return scsi::get_be16(&cdb[8]);
    }
    if (cdb.size() < 2) return std::nullopt;
    return static_cast<uint16_t>(cdb[1] & 0x1F);
}

void CommandSet::add(CommandInfo info) {
    if (info.usage.empty() || info.usage[0] != info.opcode) {
        throw std::logic_error("command " + info.name + ": CDB usage data must start with its opcode");
    }
    const Key key{info.opcode, info.service_action ? int32_t(*info.service_action) : -1};
    commands_.insert_or_assign(key, std::move(info));
}

bool CommandSet::uses_service_actions(uint8_t opcode) const {
    auto it = commands_.lower_bound(Key{opcode, 0});
    return it != commands_.end() && it->first.first == opcode;
}

const CommandInfo* CommandSet::find(uint8_t opcode, std::optional<uint16_t> service_action) const {
    auto it = commands_.find(Key{opcode, service_action ? int32_t(*service_action) : -1});
    return it == commands_.end() ? nullptr : &it->second;
}

CommandSet::Match CommandSet::find(std::span<const uint8_t> cdb) const {
    if (cdb.empty()) return {Lookup::UnknownOpcode};
    const uint8_t opcode = cdb[0];
    if (!uses_service_actions(opcode)) {
        const CommandInfo* info = find(opcode, std::nullopt);
        return info ? Match{Lookup::Found, info} : Match{Lookup::UnknownOpcode};
    }
    const CommandInfo* info = find(opcode, service_action_of(cdb));
    return info ? Match{Lookup::Found, info} : Match{Lookup::UnknownServiceAction};
}

std::vector<const CommandInfo*> CommandSet::all() const {
    std::vector<const CommandInfo*> out;
    out.reserve(commands_.size());
    for (const auto& [key, info] : commands_) out.push_back(&info);
    return out;
}

}  // namespace vtl
