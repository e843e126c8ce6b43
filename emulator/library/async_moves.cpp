#include "library/async_moves.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "library/library.h"

namespace vtl::library {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A move the emulator was running when it stopped: nothing of it was committed, so the
// cartridge is where it was; the result says the move was aborted.
scsi::Sense lost_in_restart() { return scsi::Sense(scsi::SenseKey::AbortedCommand, scsi::asc::kNoAdditionalSense); }

nlohmann::json sense_json(const std::optional<scsi::Sense>& s) {
    if (!s) return nullptr;
    return nlohmann::json{{"key", static_cast<int>(s->key())}, {"asc", s->code().asc}, {"ascq", s->code().ascq}};
}

std::optional<scsi::Sense> sense_from(const nlohmann::json& j) {
    if (j.is_null()) return std::nullopt;
    return scsi::Sense(static_cast<scsi::SenseKey>(j.at("key").get<int>()),
                       scsi::Asc{j.at("asc").get<uint8_t>(), j.at("ascq").get<uint8_t>()});
}

spdlog::logger& log() {
    auto l = spdlog::get("vtl");
    return l ? *l : *spdlog::default_logger();
}

int64_t wall_ms(WallTime t) { return duration_cast<milliseconds>(t.time_since_epoch()).count(); }
WallTime from_wall_ms(int64_t ms) { return WallTime(duration_cast<WallTime::duration>(milliseconds(ms))); }

}  // namespace

std::string_view to_string(AsyncMoves::State s) {
    switch (s) {
        case AsyncMoves::State::Queued:
            return "queued";
        case AsyncMoves::State::Moving:
            return "moving";
        case AsyncMoves::State::Done:
            return "done";
        case AsyncMoves::State::Error:
            return "error";
        case AsyncMoves::State::Aborted:
            return "aborted";
    }
    return "?";
}

AsyncMoves::AsyncMoves(Library& library) : library_(library) {}

AsyncMoves::~AsyncMoves() { alive_.reset(); }

uint32_t AsyncMoves::start(const MoveRequest& request) {
    const uint32_t token = next_token_;
    // Tokens never repeat while the library runs (and across restarts: the next token is
    // persisted); 0 is never one.
    next_token_ = next_token_ == UINT32_MAX ? 1 : next_token_ + 1;
    Entry e;
    e.token = token;
    e.source = request.source;
    e.destination = request.destination;
    e.accepted = library_.clock().wall_now();
    entries_[token] = e;
    persist({{"op", "accept"},
             {"token", token},
             {"source", e.source},
             {"destination", e.destination},
             {"accepted_ms", wall_ms(e.accepted)}});
    const uint64_t op = library_.start_move(
        request,
        [this, alive = std::weak_ptr<int>(alive_), token](std::optional<scsi::Sense> outcome) {
            if (alive.lock()) finished(token, std::move(outcome));
        },
        [this, alive = std::weak_ptr<int>(alive_), token](const std::optional<scsi::Sense>& outcome) {
            return alive.lock() ? end_record(token, outcome) : nlohmann::json();
        });
    if (auto it = entries_.find(token); it != entries_.end() && !it->second.final()) it->second.operation = op;
    return token;
}

bool AsyncMoves::queued(const Entry& entry) const {
    return library_.operation_phase(entry.operation) == Library::OperationPhase::Queued;
}

uint16_t AsyncMoves::estimate_seconds(const Entry& entry) const {
    const auto& t = library_.config().timings;
    const auto* src = library_.inventory().at(entry.source);
    const auto* dst = library_.inventory().at(entry.destination);
    const bool ie =
        (src && src->type == smc::ElementType::ImportExport) || (dst && dst->type == smc::ElementType::ImportExport);
    const Duration way = ie ? Duration(t.ie_to_slot) : Duration(t.slot_to_slot);
    const Duration one = 2 * way + Duration(t.pick) + Duration(t.place);
    // Motions ahead of this one, shared by the robots.
    const size_t robots = std::max<size_t>(1, library_.robots().addresses().size());
    const size_t ahead = queued(entry) ? library_.robots().queued() - 1 + library_.robots().busy() : 0;
    const Duration total = one + one * static_cast<int64_t>((ahead + robots - 1) / robots);
    // Rounded up: a move that is not done never estimates 0 seconds.
    const auto s = std::chrono::ceil<seconds>(total).count();
    return static_cast<uint16_t>(std::min<int64_t>(s, 0xFFFE));
}

void AsyncMoves::refresh(Entry& e) const {
    if (e.final()) return;
    e.state = library_.operation_phase(e.operation) == Library::OperationPhase::Queued ? State::Queued : State::Moving;
}

const AsyncMoves::Entry* AsyncMoves::find(uint32_t token) {
    const auto it = entries_.find(token);
    if (it == entries_.end()) return nullptr;
    refresh(it->second);
    return &it->second;
}

uint16_t AsyncMoves::progress(const Entry& e) const {
    if (e.final()) return 0xFFFF;
    // Running: the share of its motion's time (recovery included) gone by, 1..FFFEh, so a long
    // recovery shows progress; 0 is kept for "queued".
    if (auto span = library_.operation_span(e.operation)) {
        const auto total = (span->due - span->started).count();
        const auto gone = (library_.clock().now() - span->started).count();
        if (total <= 0 || gone >= total) return 0xFFFE;
        return static_cast<uint16_t>(1 + static_cast<double>(std::max<int64_t>(gone, 0)) / static_cast<double>(total) *
                                             0xFFFD);
    }
    // Between motions (a leg ended, the next not yet running): by phase.
    switch (library_.operation_phase(e.operation)) {
        case Library::OperationPhase::Queued:
            return 0;
        case Library::OperationPhase::Picking:
            return 0x4000;
        case Library::OperationPhase::Carrying:
            return 0xC000;
        case Library::OperationPhase::Ended:
            return 0xFFFF;
    }
    return 0;
}

uint32_t AsyncMoves::seconds_since_accepted(const Entry& e) const {
    const auto age = duration_cast<seconds>(library_.clock().wall_now() - e.accepted).count();
    return static_cast<uint32_t>(std::clamp<int64_t>(age, 0, UINT32_MAX));
}

bool AsyncMoves::release(uint32_t token) {
    const auto it = entries_.find(token);
    if (it == entries_.end() || !it->second.final()) return false;
    entries_.erase(it);
    persist({{"op", "release"}, {"token", token}});
    return true;
}

uint64_t AsyncMoves::wait(uint32_t token, Waiter fn) {
    const uint64_t id = next_waiter_++;
    waiters_.emplace(id, Waiting{token, std::move(fn)});
    return id;
}

void AsyncMoves::cancel(uint64_t waiter) { waiters_.erase(waiter); }

// The library journals this with the move's inventory changes, so the entry ends now: a
// compaction during that commit snapshots it ended.
nlohmann::json AsyncMoves::end_record(uint32_t token, const std::optional<scsi::Sense>& sense) {
    const auto it = entries_.find(token);
    if (it == entries_.end()) return nlohmann::json();
    const State state = sense ? State::Error : State::Done;
    apply_end(it->second, state, sense);
    it->second.end_journaled = true;
    return {{"op", "end"}, {"token", token}, {"state", static_cast<int>(state)}, {"sense", sense_json(sense)}};
}

void AsyncMoves::finished(uint32_t token, std::optional<scsi::Sense> sense) {
    const auto it = entries_.find(token);
    if (it == entries_.end()) return;
    const State state = sense ? State::Error : State::Done;
    if (!it->second.end_journaled) {
        apply_end(it->second, state, sense);
        persist({{"op", "end"}, {"token", token}, {"state", static_cast<int>(state)}, {"sense", sense_json(sense)}});
    } else if (it->second.state != state || sense) {
        // The journal write failed and the outcome became that failure: nothing of the move is
        // on disk, so the result is only in memory.
        it->second.state = state;
        it->second.sense = sense;
        if (it->second.sense) it->second.sense->information(token);
    }
    log().info("[{}] async move token={} 0x{:04X} -> 0x{:04X} ended: {}", library_.name(), token, it->second.source,
               it->second.destination, to_string(state));
    // Every query waiting on it gets the same result; one that releases it does so afterwards.
    const Entry copy = it->second;
    std::vector<Waiter> ready;
    for (auto w = waiters_.begin(); w != waiters_.end();) {
        if (w->second.token == token) {
            ready.push_back(std::move(w->second.fn));
            w = waiters_.erase(w);
        } else {
            ++w;
        }
    }
    for (auto& fn : ready) fn(copy);
    evict();
}

void AsyncMoves::apply_end(Entry& e, State state, std::optional<scsi::Sense> sense) {
    e.state = state;
    e.sense = std::move(sense);
    if (e.sense) e.sense->information(e.token);
    e.operation = 0;
    e.finished_order = ++finished_count_;
}

// Results older than the newest kKeepResults are forgotten, released or not.
void AsyncMoves::evict() {
    if (finished_count_ <= kKeepResults) return;
    const uint64_t oldest_kept = finished_count_ - kKeepResults + 1;
    std::erase_if(entries_,
                  [&](const auto& kv) { return kv.second.final() && kv.second.finished_order < oldest_kept; });
}

void AsyncMoves::persist(nlohmann::json record) { library_.commit_async(std::move(record)); }

nlohmann::json AsyncMoves::to_status_json() {
    nlohmann::json out = nlohmann::json::array();
    for (auto& [token, e] : entries_) {
        refresh(e);
        nlohmann::json j{{"token", token},
                         {"state", to_string(e.state)},
                         {"source", e.source},
                         {"destination", e.destination},
                         {"age_s", seconds_since_accepted(e)}};
        if (e.sense) {
            j["sense"] = fmt::format("{:X}/{:02X}/{:02X}", static_cast<int>(e.sense->key()), e.sense->code().asc,
                                     e.sense->code().ascq);
        }
        out.push_back(std::move(j));
    }
    return out;
}

nlohmann::json AsyncMoves::snapshot() const {
    nlohmann::json moves = nlohmann::json::array();
    for (const auto& [token, e] : entries_) {
        nlohmann::json j{{"token", token},
                         {"source", e.source},
                         {"destination", e.destination},
                         {"accepted_ms", wall_ms(e.accepted)},
                         {"finished", e.finished_order}};
        // A move still running is saved as accepted: after a restart it has been aborted.
        if (e.final()) {
            j["state"] = static_cast<int>(e.state);
            j["sense"] = sense_json(e.sense);
        }
        moves.push_back(std::move(j));
    }
    return {{"next_token", next_token_}, {"finished_count", finished_count_}, {"moves", moves}};
}

void AsyncMoves::restore(const nlohmann::json& section) {
    entries_.clear();
    next_token_ = section.at("next_token").get<uint32_t>();
    finished_count_ = section.value("finished_count", uint64_t{0});
    for (const auto& j : section.at("moves")) {
        Entry e;
        e.token = j.at("token").get<uint32_t>();
        e.source = j.at("source").get<uint16_t>();
        e.destination = j.at("destination").get<uint16_t>();
        e.accepted = from_wall_ms(j.at("accepted_ms").get<int64_t>());
        e.finished_order = j.value("finished", uint64_t{0});
        if (j.contains("state")) {
            e.state = static_cast<State>(j.at("state").get<int>());
            e.sense = sense_from(j.at("sense"));
            if (e.sense) e.sense->information(e.token);
        }
        entries_[e.token] = e;
    }
    for (auto& [token, e] : entries_) {
        if (!e.final()) apply_end(e, State::Aborted, lost_in_restart());
    }
    evict();
}

void AsyncMoves::apply(const nlohmann::json& r) {
    const std::string op = r.at("op").get<std::string>();
    const auto token = r.at("token").get<uint32_t>();
    if (op == "accept") {
        Entry e;
        e.token = token;
        e.source = r.at("source").get<uint16_t>();
        e.destination = r.at("destination").get<uint16_t>();
        e.accepted = from_wall_ms(r.at("accepted_ms").get<int64_t>());
        entries_[token] = e;
        next_token_ = token == UINT32_MAX ? 1 : std::max(next_token_, token + 1);
        // Journal replay runs at startup: the move it records is running no more. A later
        // "end" record in the journal overrides this.
        apply_end(entries_[token], State::Aborted, lost_in_restart());
    } else if (op == "end") {
        const auto it = entries_.find(token);
        if (it == entries_.end())
            throw std::runtime_error(fmt::format("async move {} ended but was never accepted", token));
        // The provisional "aborted" of the accept record is undone.
        if (it->second.state == State::Aborted) --finished_count_;
        apply_end(it->second, static_cast<State>(r.at("state").get<int>()), sense_from(r.at("sense")));
        evict();
    } else if (op == "release") {
        entries_.erase(token);
    } else {
        throw std::runtime_error(fmt::format("unknown async move record \"{}\"", op));
    }
}

}  // namespace vtl::library
