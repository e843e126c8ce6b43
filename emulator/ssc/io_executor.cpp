#include "ssc/io_executor.h"

#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

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
        wake_.notify_all();
    }

    void drain() override {
        std::unique_lock lock(mutex_);
        const uint64_t target = submitted_;
        idle_.wait(lock, [&] { return finished_ >= target; });
    }

private:
    void run() {
        const std::string short_name = name_.substr(0, 15);  // the kernel's limit for thread names
        pthread_setname_np(pthread_self(), short_name.c_str());
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything queued has run
            Work work = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            work();
            work = nullptr;  // whatever the work captured is released on this thread too
            lock.lock();
            ++finished_;
            idle_.notify_all();
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
    std::thread thread_;
};

}  // namespace

std::unique_ptr<IoExecutor> make_inline_executor() { return std::make_unique<InlineExecutor>(); }

std::unique_ptr<IoExecutor> make_thread_executor(std::string name) {
    return std::make_unique<ThreadExecutor>(std::move(name));
}

}  // namespace vtl::ssc
