#include "tcmu/device.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <utility>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "scsi/cdb.h"

namespace vtl::tcmu {

namespace {

std::shared_ptr<spdlog::logger> logger() {
    auto log = spdlog::get("vtl");
    return log ? log : spdlog::default_logger();
}

// Opcodes that move data only toward the host: their buffer is never gathered as data-out, and
// one left unfilled is zeroed rather than handed back with a previous command's bytes.
bool reads_only(uint8_t opcode) {
    switch (opcode) {
        case 0x03:  // REQUEST SENSE
        case 0x05:  // READ BLOCK LIMITS
        case 0x08:  // READ(6)
        case 0x0F:  // READ REVERSE(6)
        case 0x12:  // INQUIRY
        case 0x14:  // RECOVER BUFFERED DATA
        case 0x1A:  // MODE SENSE(6)
        case 0x1C:  // RECEIVE DIAGNOSTIC RESULTS
        case 0x34:  // READ POSITION
        case 0x3C:  // READ BUFFER
        case 0x44:  // REPORT DENSITY SUPPORT
        case 0x4D:  // LOG SENSE
        case 0x5A:  // MODE SENSE(10)
        case 0x5E:  // PERSISTENT RESERVE IN
        case 0x81:  // READ REVERSE(16)
        case 0x88:  // READ(16)
        case 0x8C:  // READ ATTRIBUTE
        case 0xA0:  // REPORT LUNS
        case 0xA2:  // SECURITY PROTOCOL IN
        case 0xA3:  // MAINTENANCE IN
        case 0xB4:  // READ ELEMENT STATUS ATTACHED
        case 0xB8:  // READ ELEMENT STATUS
            return true;
        default:
            return false;
    }
}

const char* tmr_name(uint8_t type) {
    switch (type) {
        case VTL_TCMU_TMR_ABORT_TASK: return "ABORT TASK";
        case VTL_TCMU_TMR_ABORT_TASK_SET: return "ABORT TASK SET";
        case VTL_TCMU_TMR_CLEAR_ACA: return "CLEAR ACA";
        case VTL_TCMU_TMR_CLEAR_TASK_SET: return "CLEAR TASK SET";
        case VTL_TCMU_TMR_LUN_RESET: return "LOGICAL UNIT RESET";
        case VTL_TCMU_TMR_TARGET_WARM_RESET: return "TARGET WARM RESET";
        case VTL_TCMU_TMR_TARGET_COLD_RESET: return "TARGET COLD RESET";
        case VTL_TCMU_TMR_LUN_RESET_PRO: return "PREEMPT AND ABORT";
    }
    return "unknown TMR";
}

}  // namespace

// Completions to the device thread. Tasks hold it, so a completion that comes after the device
// stopped finds it closed instead of a dead device. Most commands complete on the device thread
// itself (the clock's execute()): those need no wake-up, the thread delivers after each batch.
struct Device::Sink {
    std::mutex mutex;
    std::vector<uint16_t> done;
    bool closed = false;
    int event_fd = -1;
    std::atomic<std::thread::id> owner{};

    Sink() : event_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
        if (event_fd < 0) throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
    }
    ~Sink() { ::close(event_fd); }

    void push(uint16_t cmd_id) {
        {
            std::lock_guard lock(mutex);
            if (closed) return;
            done.push_back(cmd_id);
        }
        if (std::this_thread::get_id() != owner.load(std::memory_order_relaxed)) wake();
    }
    void wake() const {
        const uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(event_fd, &one, sizeof one);
    }
};

Device::Device(LogicalUnit& lu, Channel channel, Options options)
    : lu_(lu),
      clock_(lu.clock()),
      channel_(channel),
      options_(std::move(options)),
      ring_(channel.map),
      nexus_{options_.initiator, TargetPort{}},
      log_(logger()),
      sink_(std::make_shared<Sink>()) {
    const uint16_t flags = ring_.flags();
    if (!(flags & VTL_TCMU_CAP_OOOC)) {
        throw RingError(fmt::format("the kernel does not offer out-of-order completion (mailbox flags {:#x})", flags));
    }
    if (!(flags & VTL_TCMU_CAP_READ_LEN)) {
        log_->warn("[{}] the kernel cannot take a data-in length (mailbox flags {:#x}): short reads reach hosts with "
                   "stale bytes and no residual",
                   name(), flags);
    }
    if (!(flags & VTL_TCMU_CAP_TMR)) {
        log_->warn("[{}] the kernel sends no task management notifications (mailbox flags {:#x}): aborts and resets "
                   "do not reach the device",
                   name(), flags);
    }
}

Device::~Device() { stop(); }

void Device::start() {
    if (thread_.joinable()) return;
    // Before the thread: what the ring holds now is what a previous process left.
    try {
        recover();
    } catch (const RingError& e) {
        log_->error("[{}] ring broken: {}; not serving this device", name(), e.what());
        broken_ = true;
    }
    thread_ = std::thread([this] { run(); });
}

void Device::drain() {
    draining_ = true;
    sink_->wake();
}

void Device::abort_in_flight() {
    abort_requested_ = true;
    sink_->wake();
}

void Device::stop() {
    if (!thread_.joinable()) return;
    stop_requested_ = true;
    sink_->wake();
    thread_.join();
    std::lock_guard lock(sink_->mutex);
    sink_->closed = true;
    if (!in_flight_.empty()) {
        log_->warn("[{}] stopped with {} command(s) in flight: they stay in the ring for the next start", name(),
                   in_flight_.size());
    }
}

void Device::notify_kernel() {
    const uint32_t one = 1;
    if (::write(channel_.fd, &one, sizeof one) < 0 && errno != EAGAIN) {
        log_->debug("[{}] notifying the kernel: {}", name(), std::strerror(errno));
    }
}

void Device::recover() {
    // A killed process may have moved cmd_tail without telling the kernel: let it reap those first.
    notify_kernel();
    const Leftovers left = ring_.inspect();
    if (left.lost > 0) {
        log_->warn("[{}] a previous run left {} command(s) whose ring entries are gone; resetting the ring: the "
                   "kernel answers BUSY to every command on it and hosts retry",
                   name(), left.lost);
        std::optional<std::string> error = options_.reset_ring ? options_.reset_ring() : "no way to reset the ring";
        if (!error) {
            ring_.resync();
            return;
        }
        log_->error("[{}] ring reset failed: {}; the lost commands wait until their hosts abort them, and those "
                    "aborts wait forever (write 1 to the backstore's action/reset_ring by hand)",
                    name(), *error);
    }
    if (left.commands > 0 || left.tmrs > 0) {
        log_->info("[{}] {} command(s) and {} task management notice(s) waiting in the ring from before: running them",
                   name(), left.commands, left.tmrs);
    }
}

void Device::run() {
    sink_->owner = std::this_thread::get_id();
    if (!broken_ && !draining_) process_ring();
    deliver_completions();

    while (!stop_requested_) {
        pollfd fds[2] = {{sink_->event_fd, POLLIN, 0}, {channel_.fd, POLLIN, 0}};
        const bool watch_ring = !draining_ && !broken_;
        if (::poll(fds, watch_ring ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            log_->error("[{}] poll: {}", name(), std::strerror(errno));
            break;
        }
        if (fds[0].revents & POLLIN) {
            uint64_t count;
            [[maybe_unused]] auto n = ::read(sink_->event_fd, &count, sizeof count);
        }
        if (abort_requested_.exchange(false)) post_aborts();
        deliver_completions();
        if (!watch_ring || fds[1].revents == 0) continue;
        if (fds[1].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            log_->info("[{}] the kernel removed the device", name());
            break;
        }
        uint32_t events;
        if (::read(channel_.fd, &events, sizeof events) < 0 && errno != EAGAIN && errno != EINTR) {
            log_->info("[{}] the kernel removed the device ({})", name(), std::strerror(errno));
            break;
        }
        process_ring();
        deliver_completions();
    }
    deliver_completions();
    ended_ = true;
}

void Device::process_ring() {
    try {
        ring_.poll([this](CommandEntry&& c) { take(std::move(c)); }, [this](TmrEntry&& t) { handle_tmr(t); });
        // Told with the completions that usually follow at once: one write to the kernel.
        if (ring_.reclaim()) kernel_owed_ = true;
    } catch (const RingError& e) {
        log_->error("[{}] ring broken: {}; taking no more commands from it", name(), e.what());
        broken_ = true;
    }
}

void Device::take(CommandEntry&& entry) {
    if (first_command_) {
        first_command_ = false;
        if (options_.on_first_command) options_.on_first_command();
    }
    const uint16_t id = entry.cmd_id;
    Command command;
    command.tag = id;
    command.nexus = nexus_;
    command.cdb = std::move(entry.cdb);
    // The ring pads the CDB to 8 bytes; the logical unit wants it as long as its opcode says.
    if (const size_t length = scsi::cdb_length(command.cdb); length > 0 && length < command.cdb.size()) {
        command.cdb.resize(length);
    }
    const uint8_t opcode = command.cdb.empty() ? 0 : command.cdb[0];

    auto [it, inserted] = in_flight_.try_emplace(id);
    InFlight& rec = it->second;
    rec.reads_only = reads_only(opcode);
    rec.data_in = entry.bidi_iovs.empty() ? entry.iovs : entry.bidi_iovs;
    // Data-out stays in the mapping (valid until the completion) unless the kernel scattered it.
    if (!rec.reads_only && !entry.iovs.empty()) {
        if (auto span = ring_.contiguous(entry.iovs)) {
            command.data_out = *span;
        } else {
            rec.gathered.resize(Ring::total_length(entry.iovs));
            ring_.gather(entry.iovs, rec.gathered);
            command.data_out = rec.gathered;
        }
    }
    // A READ's record goes from the store straight into the ring (Result::in_buffer).
    if (rec.reads_only) {
        if (auto span = ring_.contiguous(rec.data_in)) command.data_in_buffer = *span;
    }
    command.data_in_length = static_cast<uint32_t>(
        std::min<uint64_t>(Ring::total_length(rec.data_in), std::numeric_limits<uint32_t>::max()));
    log_->trace("[{}] tag={:#x} taken: opcode {:02X}h, buffer {} bytes in {} iov(s)", name(), id, opcode,
                command.data_in_length, rec.data_in.size());

    rec.task = std::make_shared<Task>(std::move(command), [sink = sink_, id](Task&) { sink->push(id); });
    ++in_flight_count_;
    // Run here, store I/O included (EventLoop::execute); it completes on this thread unless it
    // waits for the clock (a motion time, a fault delay) or a queued drive operation.
    clock_.execute([lu = &lu_, task = rec.task] { lu->submit(task); });
}

void Device::handle_tmr(const TmrEntry& tmr) {
    std::vector<uint16_t> held;
    for (uint16_t id : tmr.cmd_ids) {
        if (in_flight_.contains(id)) {
            held.push_back(id);
        } else {
            log_->debug("[{}] tag={:#x} named by {} but already completed", name(), id, tmr_name(tmr.type));
        }
    }
    log_->info("[{}] {} for tag(s) [{:#x}]", name(), tmr_name(tmr.type), fmt::join(tmr.cmd_ids, ", "));
    switch (tmr.type) {
        case VTL_TCMU_TMR_LUN_RESET:
        case VTL_TCMU_TMR_TARGET_WARM_RESET:
        case VTL_TCMU_TMR_TARGET_COLD_RESET:
            // The logical unit aborts every task (all of them are on this ring) and resets its state.
            clock_.execute([lu = &lu_, nexus = nexus_] { lu->lun_reset(nexus); });
            break;
        default:
            // Aborted tasks complete at once with TASK ABORTED; LIO waits for those completions.
            for (uint16_t id : held) clock_.execute([lu = &lu_, nexus = nexus_, id] { lu->abort_task(nexus, id); });
            break;
    }
}

void Device::post_aborts() {
    if (in_flight_.empty()) return;
    log_->warn("[{}] aborting {} command(s) still in flight", name(), in_flight_.size());
    for (const auto& [id, rec] : in_flight_) {
        clock_.execute([lu = &lu_, nexus = nexus_, id = id] { lu->abort_task(nexus, id); });
    }
}

void Device::deliver_completions() {
    std::vector<uint16_t>& done = completed_;
    done.clear();
    {
        std::lock_guard lock(sink_->mutex);
        done.swap(sink_->done);
    }
    if (done.empty()) {
        if (std::exchange(kernel_owed_, false)) notify_kernel();
        return;
    }
    kernel_owed_ = false;
    for (uint16_t id : done) {
        auto it = in_flight_.find(id);
        if (it == in_flight_.end()) {
            log_->error("[{}] tag={:#x} completed but not in flight", name(), id);
            continue;
        }
        InFlight& rec = it->second;
        const Task& task = *rec.task;
        const uint64_t capacity = Ring::total_length(rec.data_in);
        const size_t copied =
            task.data_in_in_buffer() ? task.data_in().size() : ring_.scatter(rec.data_in, task.data_in());
        if (copied == 0 && capacity > 0 && rec.reads_only && task.status() == scsi::Status::Good) {
            // The kernel ignores a data-in length of 0 and hands the host the whole buffer.
            for (const Iov& iov : rec.data_in) std::fill_n(ring_.bytes(iov).data(), iov.length, uint8_t{0});
        }
        Response response;
        response.status = static_cast<uint8_t>(task.status());
        response.sense = task.sense_data();
        response.read_len = static_cast<uint32_t>(copied);
        try {
            if (!ring_.complete(id, response)) log_->error("[{}] tag={:#x} not held by the ring", name(), id);
        } catch (const RingError& e) {
            log_->error("[{}] tag={:#x} cannot be completed, ring broken: {}", name(), id, e.what());
            broken_ = true;
        }
        log_->trace("[{}] tag={:#x} completed: status {:02X}h, data-in {} of {} bytes, sense {} bytes", name(), id,
                    response.status, copied, capacity, response.sense.size());
        in_flight_.erase(it);
        --in_flight_count_;
    }
    notify_kernel();
}

}  // namespace vtl::tcmu
