// Vital product data pages of one logical unit. Each page is a function that builds its
// payload (after the 4-byte page header) for the nexus asking, because some designators name
// the target port the command came through.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "core/task.h"

namespace vtl {

class VpdPages {
public:
    using Builder = std::function<std::vector<uint8_t>(const Nexus&)>;
    void add(uint8_t code, Builder build) { pages_.insert_or_assign(code, std::move(build)); }
    const Builder* find(uint8_t code) const {
        auto it = pages_.find(code);
        return it == pages_.end() ? nullptr : &it->second;
    }
    std::vector<uint8_t> codes() const {
        std::vector<uint8_t> out;
        for (const auto& [code, _] : pages_) out.push_back(code);
        return out;
    }

private:
    std::map<uint8_t, Builder> pages_;
};

}  // namespace vtl
