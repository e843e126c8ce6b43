#include "core/event_loop.h"

namespace vtl {

TimePoint EventLoop::now() const {
    return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
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
    std::lock_guard lock(mutex_);
    ready_.push_back(std::move(cb));
    wake_.notify_one();
}

void EventLoop::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
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

void EventLoop::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (!ready_.empty()) {
            auto cb = std::move(ready_.front());
            ready_.pop_front();
            lock.unlock();
            cb();
            lock.lock();
            continue;
        }
        if (auto due = timers_.pop_due(now())) {
            lock.unlock();
            due->second();
            lock.lock();
            continue;
        }
        if (stopping_) return;
        if (auto next = timers_.next_deadline()) {
            wake_.wait_until(lock, *next);
        } else {
            wake_.wait(lock);
        }
    }
}

}  // namespace vtl
