// MOVE MEDIUM (SMC-3), EXCHANGE MEDIUM and POSITION TO ELEMENT: decode, let the
// library check every rule a real library checks (and refuse at once, changing nothing), then
// keep the task until the robot's motion ends.
#include <variant>

#include "core/logical_unit.h"
#include "device/medium_changer.h"
#include "library/library.h"
#include "scsi/cdb.h"
#include "smc/smc.h"

namespace vtl::smc {

namespace {

// A single move can include an implicit unload, pick, travel and place; queued behind other
// motions it takes longer. CERN's rmcd waits 900 s, Linux ch 300 s.
constexpr uint32_t kMoveNominal = 120;
constexpr uint32_t kMoveRecommended = 900;
constexpr uint32_t kExchangeNominal = 240;  // two motions
constexpr uint32_t kExchangeRecommended = 1800;
constexpr uint32_t kPositionNominal = 60;
constexpr uint32_t kPositionRecommended = 300;

template <typename T>
using Decoded = std::variant<T, scsi::Sense>;

// LTO cartridges have one side: every INVERT is refused, at its bit.
Decoded<library::MoveRequest> decode_move_medium(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    library::MoveRequest m;
    r.reserved(1, static_cast<uint8_t>(~kObsoleteLunBits));
    m.transport = r.be16(2);
    m.source = r.be16(4);
    m.destination = r.be16(6);
    r.reserved(8).reserved(9).reserved(10, 0xFE).require(!r.bit(10, 0), 10, 0);
    if (r.error()) return *r.error();
    return m;
}

Decoded<library::ExchangeRequest> decode_exchange_medium(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    library::ExchangeRequest m;
    r.reserved(1, static_cast<uint8_t>(~kObsoleteLunBits));
    m.transport = r.be16(2);
    m.source = r.be16(4);
    m.first_destination = r.be16(6);
    m.second_destination = r.be16(8);
    r.reserved(10, 0xFC).require(!r.bit(10, 0), 10, 0).require(!r.bit(10, 1), 10, 1);  // INV1, INV2
    if (r.error()) return *r.error();
    return m;
}

struct PositionCdb {
    uint16_t transport = 0;
    uint16_t destination = 0;
};

Decoded<PositionCdb> decode_position(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    PositionCdb p;
    r.reserved(1, static_cast<uint8_t>(~kObsoleteLunBits));
    p.transport = r.be16(2);
    p.destination = r.be16(4);
    r.reserved(6).reserved(7).reserved(8, 0xFE).require(!r.bit(8, 0), 8, 0);  // INVERT
    if (r.error()) return *r.error();
    return p;
}

// Keeps the task until the motion `start` begins has ended. ABORT TASK, LUN reset and nexus loss hand
// the motion to the library's abort policy; the library then never calls `done`.
template <typename Start>
Result keep_until_done(Exec& x, library::Library& lib, Start start) {
    LogicalUnit* lu = &x.lu();
    TaskPtr task = x.task();
    const library::MoveId id = start([lu, task](std::optional<scsi::Sense> outcome) {
        lu->complete(task, outcome ? Result::check(*outcome) : Result::good());
    });
    const config::AbortPolicy policy = lib.config().bridge.abort_policy;
    library::Library* l = &lib;
    task->on_abort([l, id, policy] { l->abort(id, policy); });
    return Result::pending();
}

Result move_medium(Exec& x, MediumChanger& changer) {
    auto decoded = decode_move_medium(x.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto request = std::get<library::MoveRequest>(decoded);
    library::Library& lib = changer.library();
    if (auto refused = lib.check_move(request)) return Result::check(*refused);
    return keep_until_done(x, lib,
                           [&](library::Library::Done done) { return lib.start_move(request, std::move(done)); });
}

Result exchange_medium(Exec& x, MediumChanger& changer) {
    auto decoded = decode_exchange_medium(x.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto request = std::get<library::ExchangeRequest>(decoded);
    library::Library& lib = changer.library();
    if (auto refused = lib.check_exchange(request)) return Result::check(*refused);
    return keep_until_done(x, lib,
                           [&](library::Library::Done done) { return lib.start_exchange(request, std::move(done)); });
}

Result position_to_element(Exec& x, MediumChanger& changer) {
    auto decoded = decode_position(x.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto p = std::get<PositionCdb>(decoded);
    library::Library& lib = changer.library();
    if (auto refused = lib.check_position(p.transport, p.destination)) return Result::check(*refused);
    return keep_until_done(x, lib, [&](library::Library::Done done) {
        return lib.start_position(p.transport, p.destination, std::move(done));
    });
}

}  // namespace

void register_move_commands(LogicalUnit& lu, MediumChanger& changer) {
    MediumChanger* c = &changer;
    lu.commands().add(
        make_command(op::kMoveMedium, "MOVE MEDIUM",
                     {op::kMoveMedium, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01, kControlUsage},
                     kMoveNominal, kMoveRecommended, [c](Exec& x) { return move_medium(x, *c); }));
    lu.commands().add(
        make_command(op::kExchangeMedium, "EXCHANGE MEDIUM",
                     {op::kExchangeMedium, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x03, kControlUsage},
                     kExchangeNominal, kExchangeRecommended, [c](Exec& x) { return exchange_medium(x, *c); }));
    lu.commands().add(
        make_command(op::kPositionToElement, "POSITION TO ELEMENT",
                     {op::kPositionToElement, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01, kControlUsage},
                     kPositionNominal, kPositionRecommended, [c](Exec& x) { return position_to_element(x, *c); }));
}

}  // namespace vtl::smc
