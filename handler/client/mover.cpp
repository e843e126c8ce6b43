#include "mover.h"

#include <fmt/format.h>

#include <thread>

namespace vtl::client {

namespace {

constexpr uint8_t kKeyNotReady = 0x02;
constexpr uint8_t kKeyIllegalRequest = 0x05;
constexpr uint8_t kKeyUnitAttention = 0x06;
constexpr uint8_t kKeyAbortedCommand = 0x0B;
constexpr size_t kElementAllocation = 1024;
constexpr auto kBusyPause = std::chrono::seconds(1);
constexpr auto kPollPause = std::chrono::seconds(1);

const ScsiResponse* response(const ScsiOutcome& o) { return std::get_if<ScsiResponse>(&o); }

std::optional<SenseData> sense_of(const ScsiResponse& r) {
    if (r.status != kStatusCheckCondition) return std::nullopt;
    return parse_sense(r.sense);
}

}  // namespace

std::string to_string(StepKind k) {
    switch (k) {
        case StepKind::Sent:
            return "sent";
        case StepKind::Accepted:
            return "accepted";
        case StepKind::InProgress:
            return "in_progress";
        case StepKind::Retry:
            return "retry";
        case StepKind::Completed:
            return "completed";
        case StepKind::Failed:
            return "failed";
        case StepKind::TransportFailure:
            return "transport_error";
    }
    return "unknown";
}

Timebase Timebase::steady() {
    return Timebase{[] { return std::chrono::steady_clock::now().time_since_epoch(); },
                    [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }};
}

ScsiOutcome Mover::run(const ScsiRequest& r) { return transport_.execute(r); }

void Mover::emit(Step s) {
    s.elapsed_s = elapsed();
    if (sink_) sink_(s);
}

double Mover::elapsed() const { return std::chrono::duration<double>(time_.now() - started_).count(); }

bool Mover::retryable(const ScsiOutcome& out, std::string& why) const {
    const ScsiResponse* r = response(out);
    if (!r) return false;
    if (r->status == kStatusBusy || r->status == kStatusTaskSetFull) {
        why = r->status == kStatusBusy ? "BUSY" : "TASK SET FULL";
        return true;
    }
    if (auto s = sense_of(*r); s && s->key == kKeyUnitAttention) {
        // A unit attention means the command was not executed: sending it again is safe.
        why = "unit attention: the command was not executed";
        return true;
    }
    return false;
}

MoveOutcome Mover::sync_move(const MoveOptions& o) {
    started_ = time_.now();
    const ScsiRequest req{move_medium_cdb(o.transport, o.source, o.destination), 0, o.sync_timeout};
    for (int attempt = 0;; ++attempt) {
        emit(Step{.kind = StepKind::Sent, .command = "MOVE MEDIUM"});
        ScsiOutcome out = run(req);
        if (auto* err = std::get_if<TransportError>(&out)) {
            // The move may have started, may still run, may have ended: nobody can tell the host.
            emit(Step{.kind = StepKind::TransportFailure,
                      .command = "MOVE MEDIUM",
                      .error = *err,
                      .note = "the outcome of the move is unknown; READ ELEMENT STATUS shows where the cartridge is"});
            return MoveOutcome::TransportFailure;
        }
        const ScsiResponse& r = std::get<ScsiResponse>(out);
        std::string why;
        if (attempt < o.retries && retryable(out, why)) {
            emit(Step{.kind = StepKind::Retry,
                      .command = "MOVE MEDIUM",
                      .sense = sense_of(r),
                      .scsi_status = r.status,
                      .note = why});
            if (r.status != kStatusCheckCondition) time_.sleep(kBusyPause);
            continue;
        }
        if (r.status == kStatusGood) {
            emit(Step{.kind = StepKind::Completed, .command = "MOVE MEDIUM"});
            return MoveOutcome::Success;
        }
        Step s{.kind = StepKind::Failed, .command = "MOVE MEDIUM", .sense = sense_of(r), .scsi_status = r.status};
        if (s.sense && s.sense->is(kKeyAbortedCommand, 0x08, 0x01))
            s.note =
                "a bridge gave up on the move; it may still complete: READ ELEMENT STATUS shows where the "
                "cartridge is";
        emit(s);
        return MoveOutcome::DeviceFailure;
    }
}

MoveOutcome Mover::async_move(const MoveOptions& o) {
    started_ = time_.now();
    const ScsiRequest req{async_move_cdb(o.move_opcode, o.transport, o.source, o.destination), kTokenBlockSize,
                          o.sync_timeout};
    for (int attempt = 0;; ++attempt) {
        emit(Step{.kind = StepKind::Sent, .command = "ASYNC MOVE MEDIUM"});
        ScsiOutcome out = run(req);
        if (auto* err = std::get_if<TransportError>(&out)) {
            emit(Step{.kind = StepKind::TransportFailure,
                      .command = "ASYNC MOVE MEDIUM",
                      .error = *err,
                      .note = "no token came back; the move may have been accepted: READ ELEMENT STATUS shows "
                              "where the cartridge is"});
            return MoveOutcome::TransportFailure;
        }
        const ScsiResponse& r = std::get<ScsiResponse>(out);
        std::string why;
        if (attempt < o.retries && retryable(out, why)) {
            emit(Step{.kind = StepKind::Retry,
                      .command = "ASYNC MOVE MEDIUM",
                      .sense = sense_of(r),
                      .scsi_status = r.status,
                      .note = why});
            if (r.status != kStatusCheckCondition) time_.sleep(kBusyPause);
            continue;
        }
        if (r.status != kStatusGood) {
            // Refused at once (05/3B/0E, 05/3B/0D, ...): no token was made, nothing moved.
            Step s{.kind = StepKind::Failed,
                   .command = "ASYNC MOVE MEDIUM",
                   .sense = sense_of(r),
                   .scsi_status = r.status};
            if (s.sense && s.sense->is(kKeyIllegalRequest, 0x20, 0x00))
                s.note = fmt::format("the device does not know opcode {:02X}h (see --move-opcode)", o.move_opcode);
            emit(s);
            return MoveOutcome::DeviceFailure;
        }
        auto block = parse_token_block(r.data);
        if (!block) {
            emit(Step{.kind = StepKind::TransportFailure,
                      .command = "ASYNC MOVE MEDIUM",
                      .error = TransportError{TransportError::Kind::Protocol,
                                              fmt::format("GOOD with {} bytes of token block, expected 8 with a "
                                                          "token other than 0",
                                                          r.data.size())}});
            return MoveOutcome::TransportFailure;
        }
        emit(Step{
            .kind = StepKind::Accepted, .command = "ASYNC MOVE MEDIUM", .token = block->token, .token_block = block});
        return query_until_final(o, block->token);
    }
}

MoveOutcome Mover::query_until_final(const MoveOptions& o, uint32_t token) {
    if (started_.count() == 0) started_ = time_.now();
    const ScsiRequest req{move_query_cdb(o.query_opcode, token, o.wait_s, o.release), kStatusBlockSize,
                          std::chrono::seconds(o.wait_s) + o.query_margin};
    int retries = 0;
    for (int n = 1;; ++n) {
        emit(Step{.kind = StepKind::Sent, .command = "MOVE QUERY", .query = n, .token = token});
        ScsiOutcome out = run(req);
        Step s{.command = "MOVE QUERY", .query = n, .token = token};
        if (auto* err = std::get_if<TransportError>(&out)) {
            // A query changes nothing: after a timeout it is simply asked again.
            if (err->kind == TransportError::Kind::Timeout && retries++ < o.retries) {
                s.kind = StepKind::Retry;
                s.error = *err;
                s.note = "the query got no answer; asking again (the move is not affected)";
                emit(s);
                continue;
            }
            s.kind = StepKind::TransportFailure;
            s.error = *err;
            s.note = fmt::format("the move (token {}) runs on; query it again later", token);
            emit(s);
            return MoveOutcome::TransportFailure;
        }
        const ScsiResponse& r = std::get<ScsiResponse>(out);
        s.scsi_status = r.status;
        s.sense = sense_of(r);
        std::string why;
        if (retryable(out, why) ||
            (s.sense && s.sense->is(kKeyAbortedCommand, 0x08, 0x01) && s.sense->information != token)) {
            if (why.empty())
                why = fmt::format("a bridge timed the query out: WAIT TIME {} s is longer than its timer", o.wait_s);
            if (retries++ < o.retries) {
                s.kind = StepKind::Retry;
                s.note = why;
                emit(s);
                if (r.status != kStatusCheckCondition) time_.sleep(kBusyPause);
                continue;
            }
        }
        if (r.status == kStatusGood) {
            auto block = parse_status_block(r.data);
            if (!block && retries++ < o.retries) {
                // Linux's tcm_loop reports a command cancelled by a LUN reset as GOOD without data.
                s.kind = StepKind::Retry;
                s.note =
                    fmt::format("GOOD without a status block ({} bytes; a query cancelled by a reset?): asking again",
                                r.data.size());
                emit(s);
                continue;
            }
            if (!block) {
                s.kind = StepKind::TransportFailure;
                s.error = TransportError{TransportError::Kind::Protocol,
                                         fmt::format("GOOD with {} bytes of status block, expected 36", r.data.size())};
                emit(s);
                return MoveOutcome::TransportFailure;
            }
            s.status = block;
            if (block->state == static_cast<uint8_t>(MoveState::DoneOk)) {
                s.kind = StepKind::Completed;
                emit(s);
                return MoveOutcome::Success;
            }
            if (block->state == static_cast<uint8_t>(MoveState::Queued) ||
                block->state == static_cast<uint8_t>(MoveState::Moving)) {
                // Not what the protocol answers for a running move, but harmless to take as such.
                retries = 0;
                s.kind = StepKind::InProgress;
                s.progress = block->progress;
                emit(s);
                continue;
            }
            s.kind = StepKind::Failed;
            s.sense = block->sense;
            emit(s);
            return MoveOutcome::DeviceFailure;
        }
        retries = 0;
        if (s.sense && s.sense->is(kKeyNotReady, 0x04, 0x07)) {
            s.kind = StepKind::InProgress;
            s.progress = s.sense->progress();
            if (s.sense->information && *s.sense->information != token)
                s.note = fmt::format("INFORMATION {} is not the token", *s.sense->information);
            emit(s);
            if (o.wait_s == 0) time_.sleep(kPollPause);  // WAIT TIME 0 answers at once: do not spin
            continue;
        }
        s.kind = StepKind::Failed;
        if (s.sense && s.sense->is(kKeyIllegalRequest, 0x24, 0x00))
            s.note = "the device does not know this token (released, expired, or never made)";
        else if (s.sense && s.sense->is(kKeyIllegalRequest, 0x20, 0x00))
            s.note = fmt::format("the device does not know opcode {:02X}h (see --query-opcode)", o.query_opcode);
        else if (s.sense && s.sense->information == token)
            s.note = "the move failed; the sense is the move's own";
        emit(s);
        return MoveOutcome::DeviceFailure;
    }
}

std::optional<ElementDescriptor> Mover::element(uint16_t address, std::string& error) {
    ScsiOutcome out = run(ScsiRequest{read_element_status_cdb(address, 1, kElementAllocation), kElementAllocation,
                                      std::chrono::seconds(60)});
    std::string why;
    for (int attempt = 0; attempt < 3 && retryable(out, why); ++attempt)
        out = run(ScsiRequest{read_element_status_cdb(address, 1, kElementAllocation), kElementAllocation,
                              std::chrono::seconds(60)});
    if (auto* err = std::get_if<TransportError>(&out)) {
        error = err->message;
        return std::nullopt;
    }
    const ScsiResponse& r = std::get<ScsiResponse>(out);
    if (r.status != kStatusGood) {
        auto s = sense_of(r);
        error = s ? describe(*s) : fmt::format("SCSI status 0x{:02X}", r.status);
        return std::nullopt;
    }
    ElementStatus st = parse_element_status(r.data);
    if (!st.error.empty()) {
        error = st.error;
        return std::nullopt;
    }
    for (const auto& e : st.elements)
        if (e.address == address) return e;
    error = fmt::format("no element at 0x{:04X}", address);
    return std::nullopt;
}

}  // namespace vtl::client
