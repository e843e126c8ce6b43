#include "smc/robots.h"

#include <algorithm>

namespace vtl::smc {

Robots::Robots(Clock& clock, std::vector<uint16_t> addresses)
    : clock_(clock), addresses_(std::move(addresses)), robots_(addresses_.size()) {}

Robots::~Robots() {
    // Timers capture `this`; none may fire once the robots are gone.
    for (auto& r : robots_) {
        if (r && r->timer) clock_.cancel(r->timer);
    }
}

MotionId Robots::enqueue(Motion motion) {
    const MotionId id = next_id_++;
    queue_.emplace_back(id, std::move(motion));
    dispatch();
    return id;
}

MotionId Robots::enqueue_front(Motion motion) {
    const MotionId id = next_id_++;
    queue_.emplace_front(id, std::move(motion));
    dispatch();
    return id;
}

MotionPhase Robots::phase(MotionId id) const {
    for (const auto& [qid, m] : queue_) {
        if (qid == id) return MotionPhase::Queued;
    }
    for (const auto& r : robots_) {
        if (r && r->id == id) return r->phase;
    }
    return MotionPhase::Done;
}

bool Robots::cancel_queued(MotionId id) {
    const auto it = std::find_if(queue_.begin(), queue_.end(), [&](const auto& q) { return q.first == id; });
    if (it == queue_.end()) return false;
    queue_.erase(it);
    return true;
}

std::optional<uint16_t> Robots::robot_of(MotionId id) const {
    for (size_t i = 0; i < robots_.size(); ++i) {
        if (robots_[i] && robots_[i]->id == id) return addresses_[i];
    }
    return std::nullopt;
}

std::optional<MotionSpan> Robots::span(MotionId id) const {
    for (const auto& r : robots_) {
        if (r && r->id == id) return r->span;
    }
    return std::nullopt;
}

size_t Robots::busy() const {
    return static_cast<size_t>(
        std::count_if(robots_.begin(), robots_.end(), [](const auto& r) { return r.has_value(); }));
}

// Each free robot takes the oldest motion it may run (any robot, or the one the host named).
// Motions finishing synchronously re-enter through their callbacks; the flag keeps one loop.
void Robots::dispatch() {
    if (dispatching_) return;
    dispatching_ = true;
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t r = 0; r < robots_.size(); ++r) {
            if (robots_[r]) continue;
            const auto it = std::find_if(queue_.begin(), queue_.end(), [&](const auto& q) {
                const Motion& m = q.second;
                return (!m.transport || *m.transport == addresses_[r]) && (!m.ready || m.ready());
            });
            if (it == queue_.end()) continue;
            auto [id, motion] = std::move(*it);
            queue_.erase(it);
            start(r, id, std::move(motion));
            progress = true;
        }
    }
    dispatching_ = false;
}

void Robots::start(size_t robot, MotionId id, Motion motion) {
    robots_[robot] = Running{id, std::move(motion), MotionPhase::Picking};
    Running& run = *robots_[robot];
    if (run.motion.started) {
        if (auto failed = run.motion.started(addresses_[robot], run.motion.pick_time)) {
            finish(robot, std::move(failed));
            return;
        }
    }
    run.span.started = clock_.now();
    if (fault_hook_) {
        if (auto fault = fault_hook_(addresses_[robot], run.motion)) {
            if (fault->sense) {
                run.span.due = run.span.started + fault->recovery;
                run.timer = clock_.schedule_after(fault->recovery, [this, robot, id, sense = *fault->sense] {
                    if (robots_[robot] && robots_[robot]->id == id) finish(robot, sense);
                });
                return;
            }
            run.motion.pick_time += fault->recovery;
        }
    }
    run.span.due = run.span.started + run.motion.pick_time + run.motion.place_time;
    run.timer = clock_.schedule_after(run.motion.pick_time, [this, robot, id] { phase_done(robot, id); });
}

void Robots::phase_done(size_t robot, MotionId id) {
    if (!robots_[robot] || robots_[robot]->id != id) return;
    Running& run = *robots_[robot];
    run.timer = 0;
    if (run.phase == MotionPhase::Picking) {
        if (run.motion.hold_pick &&
            run.motion.hold_pick(addresses_[robot], [this, robot, id] { phase_done(robot, id); })) {
            return;
        }
        if (run.motion.picked) {
            if (auto failed = run.motion.picked(addresses_[robot])) {
                finish(robot, std::move(failed));
                return;
            }
        }
        run.phase = MotionPhase::Carrying;
        run.timer = clock_.schedule_after(run.motion.place_time, [this, robot, id] { phase_done(robot, id); });
        return;
    }
    std::optional<scsi::Sense> result;
    if (run.motion.placed) result = run.motion.placed(addresses_[robot]);
    finish(robot, std::move(result));
}

void Robots::finish(size_t robot, std::optional<scsi::Sense> result) {
    Running run = std::move(*robots_[robot]);
    robots_[robot].reset();
    if (run.motion.done) run.motion.done(std::move(result));
    dispatch();
}

}  // namespace vtl::smc
