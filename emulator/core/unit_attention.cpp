#include "core/unit_attention.h"

#include <algorithm>

namespace vtl {

bool UnitAttentions::contact(const Nexus& nexus) {
    const std::string key = nexus.key();
    if (queues_.contains(key)) return false;
    const bool was_lost = lost_.erase(key) > 0;
    queues_[key].push_back(was_lost ? scsi::asc::kITNexusLossOccurred : scsi::asc::kPowerOnResetOccurred);
    return true;
}

void UnitAttentions::add(const Nexus& nexus, scsi::Asc code) {
    auto& q = queues_[nexus.key()];
    if (std::find(q.begin(), q.end(), code) != q.end()) return;
    // A reset supersedes whatever was pending: the initiator must rediscover everything.
    if (code.asc == 0x29) q.clear();
    if (q.size() < kMaxQueued) q.push_back(code);
}

void UnitAttentions::add_all(scsi::Asc code, const Nexus* except) {
    const std::string skip = except ? except->key() : std::string();
    for (auto& [key, q] : queues_) {
        if (key == skip) continue;
        if (std::find(q.begin(), q.end(), code) != q.end()) continue;
        if (code.asc == 0x29) q.clear();
        if (q.size() < kMaxQueued) q.push_back(code);
    }
}

std::optional<scsi::Asc> UnitAttentions::peek(const Nexus& nexus) const {
    auto it = queues_.find(nexus.key());
    if (it == queues_.end() || it->second.empty()) return std::nullopt;
    return it->second.front();
}

std::optional<scsi::Asc> UnitAttentions::pop(const Nexus& nexus) {
    auto it = queues_.find(nexus.key());
    if (it == queues_.end() || it->second.empty()) return std::nullopt;
    const scsi::Asc code = it->second.front();
    it->second.pop_front();
    return code;
}

void UnitAttentions::lost(const Nexus& nexus) {
    const std::string key = nexus.key();
    queues_.erase(key);
    lost_.insert(key);
}

}  // namespace vtl
