#include "core/virtual_clock.h"

namespace vtl {

void VirtualClock::run_ready() {
    for (;;) {
        if (!ready_.empty()) {
            auto cb = std::move(ready_.front());
            ready_.pop_front();
            cb();
            continue;
        }
        auto due = timers_.pop_due(now_);
        if (!due) return;
        due->second();
    }
}

void VirtualClock::advance(Duration d) {
    const TimePoint target = now_ + d;
    run_ready();
    while (auto next = timers_.next_deadline()) {
        if (*next > target) break;
        now_ = *next;
        run_ready();
    }
    now_ = target;
    run_ready();
}

bool VirtualClock::step() {
    run_ready();
    auto next = timers_.next_deadline();
    if (!next) return false;
    now_ = std::max(now_, *next);
    run_ready();
    return true;
}

}  // namespace vtl
