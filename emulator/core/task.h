// A task is the unit of work: CDB, data, I_T nexus and tag in; status, sense, data-in and
// residual out. It is finished exactly once, now or minutes later, by its logical unit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "scsi/sense.h"
#include "scsi/status.h"

namespace vtl {

// SPC-4 protocol identifiers, used in port designators.
enum class Protocol : uint8_t { Fcp = 0x0, Iscsi = 0x5, Sas = 0x6, Unknown = 0xF };

struct TargetPort {
    uint16_t relative_id = 1;
    Protocol protocol = Protocol::Unknown;
    std::string name;  // "naa.5001405...", "iqn....": empty when the transport does not know it
};

// The I_T nexus: which initiator port talks through which target port.
struct Nexus {
    std::string initiator;
    TargetPort target;

    std::string key() const { return initiator + '#' + std::to_string(target.relative_id); }
    bool same(const Nexus& o) const {
        return initiator == o.initiator && target.relative_id == o.target.relative_id;
    }
};

struct Command {
    uint64_t tag = 0;
    Nexus nexus;
    std::vector<uint8_t> cdb;
    std::span<const uint8_t> data_out;  // owned by the transport until the task completes
    uint32_t data_in_length = 0;        // the initiator's expected data-in transfer length
    // The transport's data-in buffer, when a handler may fill it directly (a READ's record goes
    // from the store into the TCMU ring with no copy): valid until the task completes. Empty:
    // data-in travels in Result::data.
    std::span<uint8_t> data_in_buffer;
};

// What a command handler returns: a final outcome, or `pending` when the handler kept the task
// and will hand its outcome to LogicalUnit::complete later.
struct Result {
    scsi::Status status = scsi::Status::Good;
    std::optional<scsi::Sense> sense;
    std::vector<uint8_t> data;
    // Set instead of `data`: data-in is the first this-many bytes of Command::data_in_buffer,
    // already written there by the handler.
    std::optional<uint32_t> in_buffer;
    bool is_pending = false;

    // Data-in cut to the CDB's allocation length (SPC: never an error to truncate).
    static Result good(std::vector<uint8_t> data = {}, size_t allocation_length = SIZE_MAX) {
        if (data.size() > allocation_length) data.resize(allocation_length);
        Result r;
        r.data = std::move(data);
        return r;
    }
    static Result check(scsi::Sense sense) {
        Result r;
        r.status = scsi::Status::CheckCondition;
        r.sense = std::move(sense);
        return r;
    }
    static Result with_status(scsi::Status status) {
        Result r;
        r.status = status;
        return r;
    }
    static Result pending() {
        Result r;
        r.is_pending = true;
        return r;
    }
};

class Task {
public:
    using Completion = std::function<void(Task&)>;

    Task(Command command, Completion on_complete)
        : command_(std::move(command)), on_complete_(std::move(on_complete)) {}

    const Command& command() const { return command_; }
    std::span<const uint8_t> cdb() const { return command_.cdb; }
    const Nexus& nexus() const { return command_.nexus; }
    uint64_t tag() const { return command_.tag; }

    bool done() const { return done_; }
    scsi::Status status() const { return status_; }
    const std::vector<uint8_t>& sense_data() const { return sense_data_; }
    std::span<const uint8_t> data_in() const {
        return in_buffer_ ? std::span<const uint8_t>(command_.data_in_buffer.first(*in_buffer_))
                          : std::span<const uint8_t>(data_in_);
    }
    // data_in() lies in Command::data_in_buffer: the transport has nothing to copy.
    bool data_in_in_buffer() const { return in_buffer_.has_value(); }
    // Bytes of the expected data-in length not transferred (underflow).
    uint32_t residual() const { return residual_; }
    // The device had more data-in than the initiator's buffer holds.
    bool overflow() const { return overflow_; }

    // When the logical unit received it (the trace's and statistics' latency start).
    TimePoint submitted() const { return submitted_; }

    // Device code that keeps a task (a robot motion, a long locate) registers what to do if it
    // is aborted. The logical unit calls it once, then completes the task with TASK ABORTED.
    void on_abort(std::function<void()> fn) { abort_handler_ = std::move(fn); }
    // A task that ABORT TASK, LUN RESET and I_T nexus loss leave alone (a device that ignores
    // task management: fault `hang` with ignore_aborts); it ends only when its keeper completes it.
    void ignore_aborts() { ignore_aborts_ = true; }
    bool ignores_aborts() const { return ignore_aborts_; }

private:
    friend class LogicalUnit;

    Command command_;
    Completion on_complete_;
    std::function<void()> abort_handler_;
    bool done_ = false;
    bool ordered_ = false;  // holds a serial LU while it runs
    bool ignore_aborts_ = false;
    scsi::Status status_ = scsi::Status::Good;
    std::vector<uint8_t> sense_data_;
    std::vector<uint8_t> data_in_;
    std::optional<uint32_t> in_buffer_;
    uint32_t residual_ = 0;
    bool overflow_ = false;
    TimePoint submitted_{};
};

using TaskPtr = std::shared_ptr<Task>;

}  // namespace vtl
