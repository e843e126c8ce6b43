// Unit attention conditions, queued per I_T nexus (SAM-5 5.14, SPC-4 5.14).
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/task.h"
#include "scsi/status.h"

namespace vtl {

class UnitAttentions {
public:
    // First command from a nexus: it owes a 29/00 (power on, reset), or 29/07 when the
    // nexus was lost and came back. Returns true the first time.
    bool contact(const Nexus& nexus);

    void add(const Nexus& nexus, scsi::Asc code);
    // Every known nexus, optionally except one (the one that caused the change).
    void add_all(scsi::Asc code, const Nexus* except = nullptr);
    std::optional<scsi::Asc> peek(const Nexus& nexus) const;
    std::optional<scsi::Asc> pop(const Nexus& nexus);

    // I_T nexus loss: drop its queue; its next contact reports 29/07.
    void lost(const Nexus& nexus);

private:
    static constexpr size_t kMaxQueued = 16;
    std::unordered_map<std::string, std::deque<scsi::Asc>> queues_;  // by Nexus::key()
    std::unordered_set<std::string> lost_;
};

}  // namespace vtl
