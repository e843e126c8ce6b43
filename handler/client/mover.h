// The moves a host makes, over any Transport: synchronous MOVE MEDIUM, and the safe way behind a
// bridge: ASYNC MOVE MEDIUM, then MOVE QUERY with a wait until a final result. Every command sent
// and every answer is reported as a Step while it happens, so a caller can print them.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "move_protocol.h"
#include "transport.h"

namespace vtl::client {

struct MoveOptions {
    uint16_t transport = 0;  // MEDIUM TRANSPORT ADDRESS; 0: the library chooses
    uint16_t source = 0;
    uint16_t destination = 0;
    uint8_t move_opcode = kDefaultAsyncMoveOpcode;
    uint8_t query_opcode = kDefaultMoveQueryOpcode;
    uint8_t wait_s = 255;  // MOVE QUERY's WAIT TIME
    bool release = false;  // RELEASE on the query that returns the final result
    std::chrono::milliseconds sync_timeout{std::chrono::minutes(15)};  // MOVE MEDIUM, and ASYNC MOVE MEDIUM
    std::chrono::milliseconds query_margin{std::chrono::seconds(60)};  // a query's timeout: WAIT TIME plus this
    // Answers after which the same command is simply sent again (unit attention, BUSY, a query timed out
    // in a bridge or in the transport): at most this many in a row.
    int retries = 5;
};

enum class StepKind {
    Sent,              // a command is about to be sent (for verbose output)
    Accepted,          // ASYNC MOVE MEDIUM: GOOD with a token block
    InProgress,        // MOVE QUERY: 02/04/07, the move runs on
    Retry,             // an answer after which the command is sent again (note says why)
    Completed,         // the move ended well: sync GOOD, or the query's status block
    Failed,            // the device reported the move failed (sense), or refused it
    TransportFailure,  // no answer from the device
};
std::string to_string(StepKind k);

struct Step {
    StepKind kind = StepKind::Sent;
    std::string command;   // "MOVE MEDIUM", "ASYNC MOVE MEDIUM", "MOVE QUERY"
    double elapsed_s = 0;  // since the first command of this move was sent
    int query = 0;         // 1, 2, ... for MOVE QUERY steps
    uint32_t token = 0;
    std::optional<TokenBlock> token_block;
    std::optional<uint16_t> progress;  // of 65536
    std::optional<StatusBlock> status;
    std::optional<SenseData> sense;
    std::optional<TransportError> error;
    uint8_t scsi_status = 0;
    std::string note;
};

enum class MoveOutcome { Success = 0, DeviceFailure = 1, TransportFailure = 2 };

// Monotonic time and sleeping, injected so the loop's logic is tested without waiting.
struct Timebase {
    std::function<std::chrono::nanoseconds()> now;
    std::function<void(std::chrono::milliseconds)> sleep;
    static Timebase steady();
};

class Mover {
public:
    using StepSink = std::function<void(const Step&)>;
    Mover(Transport& transport, Timebase time, StepSink sink)
        : transport_(transport), time_(std::move(time)), sink_(std::move(sink)) {}

    MoveOutcome sync_move(const MoveOptions& o);
    // ASYNC MOVE MEDIUM, then MOVE QUERY with o.wait_s until a final result.
    MoveOutcome async_move(const MoveOptions& o);
    // One query for a token already held (e.g. after the host restarted).
    MoveOutcome query_until_final(const MoveOptions& o, uint32_t token);

    // READ ELEMENT STATUS of one element; nullopt (and `error`) when it cannot be read.
    std::optional<ElementDescriptor> element(uint16_t address, std::string& error);

private:
    ScsiOutcome run(const ScsiRequest& r);
    void emit(Step s);
    double elapsed() const;
    // Classifies an answer that is neither GOOD nor a final result; true when worth retrying.
    bool retryable(const ScsiOutcome& out, std::string& why) const;

    Transport& transport_;
    Timebase time_;
    StepSink sink_;
    std::chrono::nanoseconds started_{0};
};

}  // namespace vtl::client
