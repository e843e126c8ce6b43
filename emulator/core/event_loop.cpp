#include "core/event_loop.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <stdexcept>

namespace vtl {

namespace {

using Steady = std::chrono::steady_clock;

// The longest the loop sleeps at once: far deadlines in scaled mode are recomputed on waking,
// so a rounding error never grows with the distance.
constexpr auto kMaxSleep = std::chrono::hours(1);

// The execute() running on this thread: its posted and deferred work.
struct ExecuteScope {
    const EventLoop* loop = nullptr;
    std::deque<Clock::Callback> posted;
    std::deque<Clock::Callback> deferred;
    bool locked = false;  // in the locked part (defer_unlocked is allowed)
};
thread_local ExecuteScope* t_scope = nullptr;
// The loop whose work lock this thread holds (work nested in work does not take it again).
thread_local const EventLoop* t_holds = nullptr;

// The work lock, unless this thread holds it already.
class WorkLock {
public:
    WorkLock(const EventLoop* loop, std::mutex& m) : loop_(loop), m_(m), take_(t_holds != loop) {
        if (!take_) return;
        m_.lock();
        t_holds = loop_;
    }
    ~WorkLock() {
        if (!take_) return;
        t_holds = nullptr;
        m_.unlock();
    }
    WorkLock(const WorkLock&) = delete;
    WorkLock& operator=(const WorkLock&) = delete;

private:
    const EventLoop* loop_;
    std::mutex& m_;
    bool take_;
};

}  // namespace

bool can_defer_unlocked() { return t_scope != nullptr && t_scope->locked; }

void defer_unlocked(std::function<void()> fn) {
    if (!can_defer_unlocked()) throw std::logic_error("defer_unlocked outside EventLoop::execute");
    t_scope->deferred.push_back(std::move(fn));
}

const char* to_string(ClockMode mode) {
    switch (mode) {
        case ClockMode::Real:
            return "real";
        case ClockMode::Scaled:
            return "scaled";
        case ClockMode::Virtual:
            return "virtual";
    }
    return "?";
}

EventLoop::EventLoop() {
    base_steady_ = Steady::now();
    base_ = std::chrono::time_point_cast<Duration>(base_steady_);
}

TimePoint EventLoop::now_locked(SteadyTime steady) const {
    const auto elapsed = std::chrono::duration_cast<Duration>(steady - base_steady_);
    switch (mode_) {
        case ClockMode::Real:
            return base_ + elapsed;
        case ClockMode::Scaled:
            return base_ +
                   Duration(static_cast<Duration::rep>(std::llround(static_cast<double>(elapsed.count()) * scale_)));
        case ClockMode::Virtual:
            return base_;
    }
    return base_;
}

void EventLoop::rebase(TimePoint now, SteadyTime steady) {
    base_ = now;
    base_steady_ = steady;
}

std::optional<EventLoop::SteadyTime> EventLoop::steady_time_of(TimePoint deadline, SteadyTime steady) const {
    if (mode_ == ClockMode::Virtual) return std::nullopt;
    const TimePoint now = now_locked(steady);
    if (deadline <= now) return steady;
    const double ahead_ns = static_cast<double>((deadline - now).count()) / (mode_ == ClockMode::Real ? 1.0 : scale_);
    const auto cap = std::chrono::duration_cast<Duration>(kMaxSleep);
    if (ahead_ns >= static_cast<double>(cap.count())) return steady + cap;
    // Rounded up: waking a little late costs nothing, waking early costs a spin.
    return steady + Duration(static_cast<Duration::rep>(std::ceil(ahead_ns)));
}

TimePoint EventLoop::now() const {
    std::lock_guard lock(mutex_);
    return now_locked(Steady::now());
}

WallTime EventLoop::wall_now() const {
    std::lock_guard lock(mutex_);
    const auto steady = Steady::now();
    const auto offset = now_locked(steady) - std::chrono::time_point_cast<Duration>(steady);
    // The system clock plus the offset now() has gained: follows a step of the system clock
    // (NTP at boot) and never goes backwards for the sampling jitter between the two clocks.
    const WallTime wall = std::chrono::system_clock::now() + std::chrono::duration_cast<WallTime::duration>(offset);
    last_wall_ = std::max(last_wall_, wall);
    return last_wall_;
}

Clock::TimerId EventLoop::schedule_at(TimePoint deadline, Callback cb) {
    std::lock_guard lock(mutex_);
    const TimerId id = timers_.add(deadline, std::move(cb));
    wake_.notify_one();
    return id;
}

bool EventLoop::cancel(TimerId id) {
    std::lock_guard lock(mutex_);
    return timers_.cancel(id);
}

void EventLoop::post(Callback cb) {
    if (t_scope && t_scope->loop == this) {  // runs before execute() returns, on this thread
        t_scope->posted.push_back(std::move(cb));
        return;
    }
    std::lock_guard lock(mutex_);
    ready_.push_back(std::move(cb));
    wake_.notify_one();
}

void EventLoop::execute(Callback cb) {
    if (t_holds == this || t_scope) {
        // Work inside work (or inside another loop's execute: its lock is held, so post).
        if (t_holds == this) {
            cb();
        } else {
            post(std::move(cb));
        }
        return;
    }
    ExecuteScope scope;
    scope.loop = this;
    t_scope = &scope;
    struct Reset {
        ~Reset() { t_scope = nullptr; }
    } reset;
    auto run_posted = [&] {
        WorkLock lock(this, work_mutex_);
        scope.locked = true;
        while (!scope.posted.empty()) {
            auto next = std::move(scope.posted.front());
            scope.posted.pop_front();
            next();
        }
        scope.locked = false;
    };
    scope.posted.push_back(std::move(cb));
    run_posted();
    while (!scope.deferred.empty()) {
        auto next = std::move(scope.deferred.front());
        scope.deferred.pop_front();
        next();
        if (!scope.posted.empty()) run_posted();
    }
}

void EventLoop::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void EventLoop::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!thread_.joinable()) return;
        stopping_ = true;
        wake_.notify_one();
    }
    thread_.join();
}

void EventLoop::set_real() {
    std::lock_guard lock(mutex_);
    const auto steady = Steady::now();
    rebase(now_locked(steady), steady);
    mode_ = ClockMode::Real;
    scale_ = 1.0;
    wake_.notify_all();
}

void EventLoop::set_scaled(double factor) {
    if (!(factor > 0) || !std::isfinite(factor)) throw std::invalid_argument("clock scale must be a positive number");
    std::lock_guard lock(mutex_);
    const auto steady = Steady::now();
    rebase(now_locked(steady), steady);
    mode_ = ClockMode::Scaled;
    scale_ = factor;
    wake_.notify_all();
}

void EventLoop::set_virtual() {
    std::lock_guard lock(mutex_);
    const auto steady = Steady::now();
    rebase(now_locked(steady), steady);
    mode_ = ClockMode::Virtual;
    scale_ = 0.0;
    wake_.notify_all();
}

ClockState EventLoop::state() const {
    std::lock_guard lock(mutex_);
    return ClockState{.mode = mode_, .scale = scale_, .now = now_locked(Steady::now())};
}

void EventLoop::advance(Duration d) {
    if (d < Duration::zero()) d = Duration::zero();
    std::promise<void> done;
    bool here = false;
    {
        std::lock_guard lock(mutex_);
        // Work runs on one thread at a time: the loop's while it runs, else the caller's.
        here = !running_ || on_loop_thread();
        if (!here) {
            ready_.push_back([this, d, &done] {
                advance_here(d);
                done.set_value();
            });
            wake_.notify_one();
        }
    }
    if (here) {
        advance_here(d);
    } else {
        done.get_future().wait();
    }
}

void EventLoop::advance_here(Duration d) {
    std::unique_lock lock(mutex_);
    const TimePoint target = now_locked(Steady::now()) + d;
    run_due(lock);
    // Step from deadline to deadline so each timer sees its own deadline as now(), and timers
    // they schedule within the jump fire within it too.
    for (;;) {
        const auto next = timers_.next_deadline();
        if (!next || *next > target) break;
        const auto steady = Steady::now();
        if (*next > now_locked(steady)) rebase(*next, steady);
        run_due(lock);
    }
    const auto steady = Steady::now();
    if (target > now_locked(steady)) rebase(target, steady);
    run_due(lock);
    wake_.notify_all();  // the loop thread's next deadline moved
}

void EventLoop::run_due(std::unique_lock<std::mutex>& lock) {
    for (;;) {
        if (!ready_.empty()) {
            auto cb = std::move(ready_.front());
            ready_.pop_front();
            lock.unlock();
            {
                WorkLock work(this, work_mutex_);
                cb();
            }
            lock.lock();
            continue;
        }
        if (auto due = timers_.pop_due(now_locked(Steady::now()))) {
            lock.unlock();
            {
                WorkLock work(this, work_mutex_);
                due->second();
            }
            lock.lock();
            continue;
        }
        return;
    }
}

void EventLoop::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        run_due(lock);
        if (stopping_) {
            running_ = false;
            return;
        }
        const auto next = timers_.next_deadline();
        const auto until = next ? steady_time_of(*next, Steady::now()) : std::nullopt;
        if (until) {
            wake_.wait_until(lock, *until);
        } else {
            wake_.wait(lock);
        }
    }
}

}  // namespace vtl
