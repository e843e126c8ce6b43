// The real clock: one thread that runs posted work and timers for a library. Transport
// threads post commands into it; nothing else touches the library's state.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/timer_queue.h"

namespace vtl {

class EventLoop final : public Clock {
public:
    EventLoop() = default;
    ~EventLoop() override { stop(); }
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    TimePoint now() const override;
    WallTime wall_now() const override { return std::chrono::system_clock::now(); }
    TimerId schedule_at(TimePoint deadline, Callback cb) override;
    bool cancel(TimerId id) override;
    void post(Callback cb) override;

    // Starts the loop thread; stop() finishes the work already posted, then joins.
    void start();
    void stop();
    bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

private:
    void run();

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    TimerQueue timers_;
    std::deque<Callback> ready_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace vtl
