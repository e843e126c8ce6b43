// Where a tape drive's store I/O runs. Store calls block on file I/O, so the data and motion
// commands never run them on the library's clock thread: the drive hands each store operation
// to its executor and the work posts its outcome back to the clock (see TapeDrive::run_job).
//
// Work runs strictly in submission order, one item at a time: a drive's cartridge is used by
// one thread at a time, and a close queued behind a read runs after it. The thread executor
// runs an item on its worker, or on the transport thread that submitted it from inside
// EventLoop::execute (after that thread released the library's work lock): a READ or WRITE
// then changes thread only when the kernel wakes the transport.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace vtl::ssc {

class IoExecutor {
public:
    using Work = std::function<void()>;
    virtual ~IoExecutor() = default;
    // Runs `work` after everything submitted before it. Only from the library's work (the clock
    // thread, or an EventLoop::execute).
    virtual void submit(Work work) = 0;
    // Returns once everything submitted so far has run (running what it can on the caller).
    virtual void drain() = 0;
};

// Runs the work at once on the caller's thread: deterministic tests on a VirtualClock (the
// work's completion is posted, so it still arrives on a later turn of the clock).
std::unique_ptr<IoExecutor> make_inline_executor();

// One worker thread (named `name`, at most 15 characters kept) per drive: the daemon. The
// destructor finishes the queued work, then joins.
std::unique_ptr<IoExecutor> make_thread_executor(std::string name);

}  // namespace vtl::ssc
