// Deadline-ordered timers, shared by the virtual and the real clock.
#pragma once

#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "core/clock.h"

namespace vtl {

class TimerQueue {
public:
    Clock::TimerId add(TimePoint deadline, Clock::Callback cb) {
        const Clock::TimerId id = next_id_++;
        auto it = timers_.emplace(Key{deadline, id}, std::move(cb)).first;
        index_.emplace(id, it->first);
        return id;
    }
    bool cancel(Clock::TimerId id) {
        auto it = index_.find(id);
        if (it == index_.end()) return false;
        timers_.erase(it->second);
        index_.erase(it);
        return true;
    }
    std::optional<TimePoint> next_deadline() const {
        if (timers_.empty()) return std::nullopt;
        return timers_.begin()->first.deadline;
    }
    // Removes and returns the earliest timer if it is due at `now`.
    std::optional<std::pair<TimePoint, Clock::Callback>> pop_due(TimePoint now) {
        if (timers_.empty() || timers_.begin()->first.deadline > now) return std::nullopt;
        auto node = timers_.extract(timers_.begin());
        index_.erase(node.key().id);
        return std::make_pair(node.key().deadline, std::move(node.mapped()));
    }
    size_t size() const { return timers_.size(); }

private:
    struct Key {
        TimePoint deadline;
        Clock::TimerId id;  // increasing: ties keep scheduling order
        bool operator<(const Key& o) const { return deadline != o.deadline ? deadline < o.deadline : id < o.id; }
    };
    std::map<Key, Clock::Callback> timers_;
    std::unordered_map<Clock::TimerId, Key> index_;
    Clock::TimerId next_id_ = 1;
};

}  // namespace vtl
