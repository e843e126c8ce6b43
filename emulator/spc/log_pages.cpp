#include "spc/log_pages.h"

namespace vtl {

void LogPages::add(LogPage page) {
    const auto key = std::make_pair(page.code, page.subpage);
    pages_.insert_or_assign(key, std::move(page));
}

const LogPage* LogPages::find(uint8_t code, uint8_t subpage) const {
    auto it = pages_.find({code, subpage});
    return it == pages_.end() ? nullptr : &it->second;
}

std::vector<const LogPage*> LogPages::all() const {
    std::vector<const LogPage*> out;
    for (const auto& [key, page] : pages_) out.push_back(&page);
    return out;
}

}  // namespace vtl
