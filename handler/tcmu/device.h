// One TCMU device bound to a logical unit. Its own thread walks the ring, turns each command
// entry into a Task and runs LogicalUnit::submit itself through the clock's execute(): under the
// library's work lock for the logical unit's and the device's state, then, with the lock
// released, the drive's store I/O; so a READ or WRITE changes thread only when the kernel wakes
// this one. A command that waits for the clock (a motion time, a fault delay, a robot move)
// completes on the clock thread instead and comes back through a queue and an eventfd. The
// device thread copies data-in into the ring's data area and writes every completion, so only
// it ever touches the ring (no lock on it), and a slow command on one device holds up neither
// another device nor the clock (store I/O runs off the lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include "core/clock.h"
#include "core/logical_unit.h"
#include "core/task.h"
#include "tcmu/ring.h"

namespace vtl::tcmu {

// The kernel side of a device: a pollable fd (readable when the kernel added entries; a 4-byte
// read acknowledges, a 4-byte write makes the kernel look at cmd_tail) and the shared mapping.
// /dev/uioN and its mmap in the daemon; a socket pair and a buffer in tests. Not owned.
struct Channel {
    int fd = -1;
    std::span<uint8_t> map;
};

class Device {
public:
    struct Options {
        // The kernel gives TCMU no initiator identity: every command of this device comes from
        // one I_T nexus with this initiator name, so unit attentions and reservations are per
        // logical unit, not per host.
        std::string initiator = "tcmu";
        // Empties the ring through the kernel (configfs action/reset_ring): an error, or nullopt.
        std::function<std::optional<std::string>()> reset_ring;
        // Runs on the device thread before the first command is taken (attribute checks).
        std::function<void()> on_first_command;
    };

    // Commands go to `lu` through its clock's execute(). Throws RingError if the mapping holds no ring
    // this code can serve.
    Device(LogicalUnit& lu, Channel channel, Options options);
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    const std::string& name() const { return lu_.name(); }

    // Recovers what a previous process left in the ring, then serves it on a new thread.
    void start();
    // Stops taking new commands; those already taken still complete.
    void drain();
    // Asks the logical unit to abort every command taken and not yet completed.
    void abort_in_flight();
    // Commands taken and not yet completed.
    size_t in_flight() const { return in_flight_count_.load(); }
    // The thread ended by itself: the kernel removed the device or its ring broke.
    bool ended() const { return ended_.load(); }
    // Ends the thread. Completions that arrive later are dropped (their entries stay in the ring).
    void stop();

private:
    struct Sink;
    struct InFlight {
        TaskPtr task;
        std::vector<Iov> data_in;       // where data-in goes
        std::vector<uint8_t> gathered;  // data-out copied together when the kernel scattered it
        bool reads_only = false;        // the opcode never carries data-out
    };

    void run();
    void recover();
    void process_ring();
    void take(CommandEntry&& entry);
    void handle_tmr(const TmrEntry& tmr);
    void deliver_completions();
    void post_aborts();
    void notify_kernel();

    LogicalUnit& lu_;
    Clock& clock_;
    Channel channel_;
    Options options_;
    Ring ring_;
    Nexus nexus_;
    std::shared_ptr<spdlog::logger> log_;
    std::shared_ptr<Sink> sink_;
    std::thread thread_;
    std::atomic<bool> draining_{false};
    std::atomic<bool> abort_requested_{false};
    std::atomic<bool> stop_requested_{false};
    std::atomic<bool> ended_{false};
    std::atomic<size_t> in_flight_count_{0};
    // Device thread only.
    std::unordered_map<uint16_t, InFlight> in_flight_;
    // deliver_completions' batch, swapped with the sink's: once grown, neither allocates again.
    std::vector<uint16_t> completed_;
    bool broken_ = false;
    bool kernel_owed_ = false;  // cmd_tail moved and the kernel not told yet
    bool first_command_ = true;
};

}  // namespace vtl::tcmu
