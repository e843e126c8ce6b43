#include "ssc/io_executor.h"

#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/event_loop.h"

namespace vtl::ssc {

namespace {

class InlineExecutor final : public IoExecutor {
public:
    void submit(Work work) override { work(); }
    void drain() override {}
};

class ThreadExecutor final : public IoExecutor {
public:
    explicit ThreadExecutor(std::string name) : name_(std::move(name)) {
        thread_ = std::thread([this] { run(); });
    }
    ~ThreadExecutor() override {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }

    void submit(Work work) override {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(work));
            ++submitted_;
        }
        // A command a transport thread runs itself (EventLoop::execute): that thread runs the
        // store I/O too once the library's work lock is released, so no thread hand-off.
        if (can_defer_unlocked()) {
            defer_unlocked([this] { run_here(); });
            return;
        }
        wake_.notify_all();
    }

    void drain() override {
        run_here();
        std::unique_lock lock(mutex_);
        const uint64_t target = submitted_;
        idle_.wait(lock, [&] { return finished_ >= target; });
    }

private:
    // Runs the queued work on the calling thread, unless the worker is running an item: it then
    // goes on with the rest. `busy_` keeps one item at a time, in order, on whichever thread.
    void run_here() {
        std::unique_lock lock(mutex_);
        while (!queue_.empty()) {
            if (busy_) {
                wake_.notify_all();
                return;
            }
            run_one(lock);
        }
    }

    void run_one(std::unique_lock<std::mutex>& lock) {
        busy_ = true;
        Work work = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        work();
        work = nullptr;  // whatever the work captured is released on this thread too
        lock.lock();
        busy_ = false;
        ++finished_;
        idle_.notify_all();
        if (stopping_) wake_.notify_all();  // the worker waits for busy_ to end before it exits
    }

    void run() {
        const std::string short_name = name_.substr(0, 15);  // the kernel's limit for thread names
        pthread_setname_np(pthread_self(), short_name.c_str());
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [&] { return !busy_ && (stopping_ || !queue_.empty()); });
            if (queue_.empty()) return;  // stopping, and everything queued has run
            run_one(lock);
        }
    }

    std::string name_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::deque<Work> queue_;
    uint64_t submitted_ = 0;
    uint64_t finished_ = 0;
    bool stopping_ = false;
    bool busy_ = false;  // an item is running (on the worker or on a transport thread)
    std::thread thread_;
};

}  // namespace

std::unique_ptr<IoExecutor> make_inline_executor() { return std::make_unique<InlineExecutor>(); }

std::unique_ptr<IoExecutor> make_thread_executor(std::string name) {
    return std::make_unique<ThreadExecutor>(std::move(name));
}

}  // namespace vtl::ssc
