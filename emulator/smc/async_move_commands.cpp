// ASYNC MOVE MEDIUM and MOVE QUERY (docs/adi-bridge.md; vendor opcodes from the library's
// personality, C5h/C6h by default): a move checked and accepted at once with a token, and a
// query that waits up to 255 s for its result. Both are 10-byte CDBs, as Linux sizes C0h-FFh.
#include <variant>

#include "core/logical_unit.h"
#include "device/medium_changer.h"
#include "library/async_moves.h"
#include "library/library.h"
#include "scsi/cdb.h"
#include "smc/smc.h"

namespace vtl::smc {

namespace {

using library::AsyncMoves;

// Returns at once; the move runs on after it.
constexpr uint32_t kAsyncMoveNominal = 1;
constexpr uint32_t kAsyncMoveRecommended = 60;
// WAIT TIME is at most 255 s.
constexpr uint32_t kQueryNominal = 255;
constexpr uint32_t kQueryRecommended = 300;

constexpr size_t kTokenBlock = 8;
constexpr size_t kStatusBlock = 36;
constexpr size_t kFixedSense = 18;

struct AsyncMoveCdb {
    library::MoveRequest move;
    uint8_t allocation = 0;
};

struct QueryCdb {
    bool release = false;
    uint32_t token = 0;
    uint8_t wait_s = 0;
    uint16_t allocation = 0;
};

// Byte 1: INVERT bit 0 (LTO cartridges have one side: refused, as MOVE MEDIUM does); transport
// 2-3, source 4-5, destination 6-7, ALLOCATION LENGTH 8.
std::variant<AsyncMoveCdb, scsi::Sense> decode_async_move(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    AsyncMoveCdb c;
    r.reserved(1, static_cast<uint8_t>(~kObsoleteLunBits & 0xFE)).require(!r.bit(1, 0), 1, 0);
    c.move.transport = r.be16(2);
    c.move.source = r.be16(4);
    c.move.destination = r.be16(6);
    c.allocation = r.u8(8);
    if (r.error()) return *r.error();
    return c;
}

// Byte 1: RELEASE bit 0; MOVE TOKEN 2-5; WAIT TIME 6; ALLOCATION LENGTH 7-8.
std::variant<QueryCdb, scsi::Sense> decode_query(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    QueryCdb c;
    r.reserved(1, static_cast<uint8_t>(~kObsoleteLunBits & 0xFE));
    c.release = r.bit(1, 0);
    c.token = r.be32(2);
    c.wait_s = r.u8(6);
    c.allocation = r.be16(7);
    if (r.error()) return *r.error();
    return c;
}

std::vector<uint8_t> token_block(AsyncMoves& moves, const AsyncMoves::Entry& e) {
    std::vector<uint8_t> b(kTokenBlock, 0);
    scsi::put_be32(&b[0], e.token);
    scsi::put_be16(&b[4], moves.estimate_seconds(e));
    b[6] = moves.queued(e) ? 0x01 : 0x00;
    return b;
}

std::vector<uint8_t> status_block(AsyncMoves& moves, const AsyncMoves::Entry& e) {
    std::vector<uint8_t> b(kStatusBlock, 0);
    scsi::put_be16(&b[0], kStatusBlock - 2);
    b[2] = static_cast<uint8_t>(e.state);
    scsi::put_be16(&b[4], moves.progress(e));
    scsi::put_be16(&b[6], e.source);
    scsi::put_be16(&b[8], e.destination);
    scsi::put_be32(&b[10], e.token);
    scsi::put_be32(&b[14], moves.seconds_since_accepted(e));
    if (e.sense) {
        const auto fixed = e.sense->encode(scsi::SenseFormat::Fixed);
        std::copy_n(fixed.begin(), std::min(fixed.size(), kFixedSense), b.begin() + 18);
    }
    return b;
}

Result unknown_token() { return Result::check(scsi::Sense::invalid_cdb_field(2)); }

// The move has ended: GOOD with the status block, or the synchronous MOVE MEDIUM's sense with
// INFORMATION = token.
Result final_answer(AsyncMoves& moves, const AsyncMoves::Entry& e, uint16_t allocation) {
    if (e.state == AsyncMoves::State::Done) return Result::good(status_block(moves, e), allocation);
    scsi::Sense s = *e.sense;
    s.information(e.token);
    return Result::check(s);
}

Result in_progress(AsyncMoves& moves, const AsyncMoves::Entry& e) {
    return Result::check(
        scsi::Sense::not_ready(scsi::asc::kOperationInProgress).information(e.token).progress(moves.progress(e)));
}

Result async_move_medium(Exec& x, MediumChanger& changer) {
    auto decoded = decode_async_move(x.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto c = std::get<AsyncMoveCdb>(decoded);
    library::Library& lib = changer.library();
    // Everything MOVE MEDIUM checks before the robot starts, with its sense; no token then.
    if (auto refused = lib.check_move(c.move)) return Result::check(*refused);
    AsyncMoves& moves = lib.async_moves();
    const uint32_t token = moves.start(c.move);
    x.lu().log().info("[{}] tag={:#x} ASYNC MOVE MEDIUM 0x{:04X} -> 0x{:04X}: token {}", x.lu().name(), x.task()->tag(),
                      c.move.source, c.move.destination, token);
    const AsyncMoves::Entry* e = moves.find(token);
    return Result::good(token_block(moves, *e), c.allocation);
}

Result move_query(Exec& x, MediumChanger& changer) {
    auto decoded = decode_query(x.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto c = std::get<QueryCdb>(decoded);
    AsyncMoves& moves = changer.library().async_moves();
    const AsyncMoves::Entry* e = c.token ? moves.find(c.token) : nullptr;
    if (!e) return unknown_token();
    if (e->final()) {
        Result r = final_answer(moves, *e, c.allocation);
        if (c.release) moves.release(c.token);
        return r;
    }
    if (c.wait_s == 0) return in_progress(moves, *e);

    // Wait on the clock for the end of the move or WAIT TIME, whichever comes first. Aborting
    // the query (ABORT TASK, LUN RESET, nexus loss) ends only the query.
    struct Wait {
        uint64_t waiter = 0;
        Clock::TimerId timer = 0;
    };
    auto state = std::make_shared<Wait>();
    LogicalUnit* lu = &x.lu();
    TaskPtr task = x.task();
    AsyncMoves* m = &moves;
    std::weak_ptr<int> alive = moves.liveness();
    Clock& clock = x.lu().clock();
    state->waiter = moves.wait(c.token, [lu, task, m, state, c, &clock](const AsyncMoves::Entry& ended) {
        clock.cancel(state->timer);
        lu->complete(task, final_answer(*m, ended, c.allocation));
        if (c.release) m->release(c.token);
    });
    state->timer = clock.schedule_after(std::chrono::seconds(c.wait_s), [lu, task, m, state, c, alive] {
        if (!alive.lock()) return;
        m->cancel(state->waiter);
        const AsyncMoves::Entry* now = m->find(c.token);
        lu->complete(task, now ? in_progress(*m, *now) : unknown_token());
    });
    task->on_abort([m, state, alive, &clock] {
        clock.cancel(state->timer);
        if (alive.lock()) m->cancel(state->waiter);
    });
    return Result::pending();
}

}  // namespace

void register_async_move_commands(LogicalUnit& lu, MediumChanger& changer) {
    MediumChanger* ch = &changer;
    const auto& cfg = changer.library().config().async_move;
    const uint8_t mv = cfg.move_opcode;
    const uint8_t q = cfg.query_opcode;
    lu.commands().add(
        make_command(mv, "ASYNC MOVE MEDIUM", {mv, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, kControlUsage},
                     kAsyncMoveNominal, kAsyncMoveRecommended, [ch](Exec& x) { return async_move_medium(x, *ch); }));
    lu.commands().add(make_command(q, "MOVE QUERY", {q, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, kControlUsage},
                                   kQueryNominal, kQueryRecommended, [ch](Exec& x) { return move_query(x, *ch); }));
}

}  // namespace vtl::smc
