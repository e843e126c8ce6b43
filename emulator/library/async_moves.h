// Asynchronous moves (docs/adi-bridge.md, ASYNC MOVE MEDIUM and MOVE QUERY): the table of move
// tokens a library hands out. A token names one accepted move until its result is released or
// 1024 newer results exist; finished results are part of the library's persistent state (the
// StateStore section "async_moves"), so they survive a restart. Moves are not tasks: LUN RESET,
// nexus loss and aborted queries leave them alone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "library/state_store.h"
#include "scsi/sense.h"

namespace vtl::library {

class Library;
struct MoveRequest;

class AsyncMoves final : public StateSection {
public:
    // Finished results kept besides the ones not yet released.
    static constexpr size_t kKeepResults = 1024;

    // MOVE QUERY STATE values.
    enum class State : uint8_t { Queued = 0, Moving = 1, Done = 2, Error = 3, Aborted = 4 };

    struct Entry {
        uint32_t token = 0;
        uint16_t source = 0;
        uint16_t destination = 0;
        State state = State::Queued;       // Queued/Moving are refreshed from the library when asked
        WallTime accepted{};               // the clock's calendar time, so ages survive a restart
        std::optional<scsi::Sense> sense;  // the synchronous MOVE MEDIUM's sense on failure
        uint64_t operation = 0;            // the library's MoveId while it runs
        uint64_t finished_order = 0;       // position among finished results (eviction)
        bool end_journaled = false;        // its end went into the library's journal with the move
        bool final() const { return state == State::Done || state == State::Error || state == State::Aborted; }
    };

    explicit AsyncMoves(Library& library);
    ~AsyncMoves() override;
    AsyncMoves(const AsyncMoves&) = delete;
    AsyncMoves& operator=(const AsyncMoves&) = delete;

    // Starts a move the caller has checked (Library::check_move) and returns its token.
    uint32_t start(const MoveRequest& request);
    // ESTIMATED SECONDS TO COMPLETION and QUEUED of a move just started.
    uint16_t estimate_seconds(const Entry& entry) const;
    bool queued(const Entry& entry) const;

    // nullptr for 0, unknown and released tokens. The state is current.
    const Entry* find(uint32_t token);
    // PROGRESS INDICATION, 0..FFFFh.
    uint16_t progress(const Entry& entry) const;
    uint32_t seconds_since_accepted(const Entry& entry) const;
    // Forgets a final result; false if unknown or not final.
    bool release(uint32_t token);

    // Called once with the final entry when the move ends (at once if it has). Returns an id
    // for cancel().
    using Waiter = std::function<void(const Entry&)>;
    uint64_t wait(uint32_t token, Waiter fn);
    void cancel(uint64_t waiter);

    uint32_t next_token() const { return next_token_; }
    // Expires with this object: timers of waiting queries check it before touching it.
    std::weak_ptr<int> liveness() const { return alive_; }
    size_t size() const { return entries_.size(); }
    // For the management API: every token with its state, source, destination and age.
    nlohmann::json to_status_json();

    // StateSection: the persistent part (tokens, final results, the next token).
    const char* key() const override { return "async_moves"; }
    nlohmann::json snapshot() const override;
    void restore(const nlohmann::json& section) override;
    void apply(const nlohmann::json& record) override;

private:
    nlohmann::json end_record(uint32_t token, const std::optional<scsi::Sense>& sense);
    void finished(uint32_t token, std::optional<scsi::Sense> sense);
    void refresh(Entry& entry) const;
    void evict();
    void persist(nlohmann::json record);
    void apply_end(Entry& entry, State state, std::optional<scsi::Sense> sense);

    Library& library_;
    std::map<uint32_t, Entry> entries_;
    uint32_t next_token_ = 1;
    uint64_t finished_count_ = 0;
    struct Waiting {
        uint32_t token;
        Waiter fn;
    };
    std::map<uint64_t, Waiting> waiters_;
    uint64_t next_waiter_ = 1;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

std::string_view to_string(AsyncMoves::State s);

}  // namespace vtl::library
