// Operations in motion: each MOVE MEDIUM is one robot trip (leg), an EXCHANGE MEDIUM two chained
// on one robot, POSITION TO ELEMENT and INITIALIZE ELEMENT STATUS a single timed phase. The
// inventory follows the cartridge (source -> gripper -> destination); the operation's changes
// are journaled together when it ends, before the host hears of it.
#include <spdlog/spdlog.h>

#include <vector>

#include "library/changes.h"
#include "library/library.h"
#include "library/operation.h"

namespace vtl::library {

namespace {

// INITIALIZE ELEMENT STATUS: the robot reads each barcode label in the range.
constexpr Duration kScanPerElement = std::chrono::milliseconds(50);

using State = DriveMechanism::State;

std::string hex(uint16_t a) { return fmt::format("0x{:04X}", a); }

std::string sense_text(const std::optional<scsi::Sense>& s) {
    if (!s) return "GOOD";
    return fmt::format("{:X}/{:02X}/{:02X}", static_cast<int>(s->key()), s->code().asc, s->code().ascq);
}

}  // namespace

Duration Library::travel(uint16_t from, uint16_t to) const {
    auto ie = [&](uint16_t a) {
        const smc::Element* e = inventory_->at(a);
        return e && e->type == smc::ElementType::ImportExport;
    };
    return (ie(from) || ie(to)) ? Duration(config_.timings.ie_to_slot) : Duration(config_.timings.slot_to_slot);
}

MoveId Library::start_move(const MoveRequest& request, Done done, EndRecord end_record) {
    auto op = std::make_unique<Operation>();
    op->done = std::move(done);
    op->end_record = std::move(end_record);
    op->move = request;
    if (auto refused = check_move_now(request, true)) {
        op->kind = OperationKind::Noop;
        op->error = refused;
    } else if (request.source == request.destination) {
        op->kind = OperationKind::Noop;
    } else {
        op->kind = OperationKind::Move;
        op->transport = request.transport ? std::optional<uint16_t>(request.transport) : std::nullopt;
        // INVERT is accepted and ignored: LTO cartridges have one side (the command handlers
        // refuse INVERT=1 before it gets here).
        op->legs.push_back(
            Leg{.from = request.source, .to = request.destination, .cartridge = *occupant(request.source, true)});
    }
    return accept(std::move(op));
}

MoveId Library::start_exchange(const ExchangeRequest& request, Done done) {
    auto op = std::make_unique<Operation>();
    op->done = std::move(done);
    op->exchange = request;
    if (auto refused = check_exchange_now(request, true)) {
        op->kind = OperationKind::Noop;
        op->error = refused;
        return accept(std::move(op));
    }
    op->kind = OperationKind::Exchange;
    op->transport = request.transport ? std::optional<uint16_t>(request.transport) : std::nullopt;
    const smc::CartridgeId a = *occupant(request.source, true);
    const smc::CartridgeId b = *occupant(request.first_destination, true);
    if (request.second_destination == request.source) {
        // A swap: take the first medium along, trade it for the second at the first destination
        // and bring that one back.
        op->legs.push_back(Leg{.from = request.source, .to = request.first_destination, .cartridge = a, .swap = true});
        op->legs.push_back(
            Leg{.from = request.first_destination, .to = request.source, .cartridge = b, .carrying = true});
    } else {
        // Clear the first destination, then fill it.
        op->legs.push_back(Leg{.from = request.first_destination, .to = request.second_destination, .cartridge = b});
        op->legs.push_back(Leg{.from = request.source, .to = request.first_destination, .cartridge = a});
    }
    return accept(std::move(op));
}

MoveId Library::start_position(uint16_t transport, uint16_t destination, Done done) {
    auto op = std::make_unique<Operation>();
    op->done = std::move(done);
    if (auto refused = check_position(transport, destination)) {
        op->kind = OperationKind::Noop;
        op->error = refused;
        return accept(std::move(op));
    }
    op->kind = OperationKind::Position;
    op->transport = transport ? std::optional<uint16_t>(transport) : std::nullopt;
    op->destination = destination;
    op->duration = travel(destination, destination);
    return accept(std::move(op));
}

MoveId Library::initialize_element_status(std::optional<std::pair<uint16_t, uint16_t>> range, Done done) {
    auto op = std::make_unique<Operation>();
    op->done = std::move(done);
    op->kind = OperationKind::Scan;
    if (range) {
        const uint32_t end = std::min<uint32_t>(uint32_t(range->first) + range->second, 0x10000);
        for (uint32_t a = range->first; a < end; ++a) {
            if (inventory_->at(static_cast<uint16_t>(a))) op->scan.push_back(static_cast<uint16_t>(a));
        }
    } else {
        for (const auto& e : inventory_->all()) op->scan.push_back(e.address);
    }
    op->duration = kScanPerElement * static_cast<int64_t>(op->scan.size());
    return accept(std::move(op));
}

MoveId Library::accept(OperationPtr op) {
    const MoveId id = next_move_id_++;
    op->id = id;
    Operation& ref = *op;
    operations_.emplace(id, std::move(op));
    if (ref.kind == OperationKind::Noop) {
        // Answered without motion, but never from inside the caller's own command handling.
        clock_.post([this, alive = std::weak_ptr<int>(alive_), id] {
            if (alive.lock()) finish(id, std::nullopt);
        });
    } else {
        enqueue_leg(ref, false);
    }
    return id;
}

void Library::enqueue_leg(Operation& op, bool chained) {
    const MoveId id = op.id;
    smc::Motion m;
    m.transport = chained ? op.robot : op.transport;
    m.ready = [this, id] {
        const auto it = operations_.find(id);
        return it == operations_.end() || !conflicts(*it->second);
    };
    m.done = [this, id](std::optional<scsi::Sense> result) { leg_done(id, std::move(result)); };
    if (op.kind == OperationKind::Position || op.kind == OperationKind::Scan) {
        m.destination = op.destination;
        m.pick_time = op.duration;
        m.started = [this, id](uint16_t robot, Duration&) -> std::optional<scsi::Sense> {
            Operation& o = *operations_.at(id);
            o.started = true;
            o.robot = robot;
            return std::nullopt;
        };
    } else {
        const Leg& leg = op.legs[op.leg];
        m.source = leg.from;
        m.destination = leg.to;
        const Duration way = travel(leg.from, leg.to);
        m.pick_time = leg.carrying ? Duration{} : way + Duration(config_.timings.pick);
        m.place_time = way + Duration(config_.timings.place);
        if (leg.swap) m.place_time += Duration(config_.timings.pick);  // takes the other medium too
        m.started = [this, id](uint16_t robot, Duration& pick) { return leg_started(id, robot, pick); };
        m.hold_pick = [this, id](uint16_t, std::function<void()> resume) {
            return hold_for_unload(id, std::move(resume));
        };
        m.picked = [this, id](uint16_t robot) { return leg_picked(id, robot); };
        m.placed = [this, id](uint16_t robot) { return leg_placed(id, robot); };
    }
    const smc::MotionId motion = chained ? robots_->enqueue_front(std::move(m)) : robots_->enqueue(std::move(m));
    // The motion may already have ended (refused when a robot took it at once).
    if (const auto it = operations_.find(id); it != operations_.end()) it->second->motion = motion;
}

std::optional<scsi::Sense> Library::leg_started(MoveId id, uint16_t robot, Duration& pick_time) {
    Operation& op = *operations_.at(id);
    op.robot = robot;
    if (!op.started) {
        // The inventory may have changed since the host's command was checked (an operation
        // queued before it failed or was withdrawn): check again, as it is now.
        auto refused =
            op.kind == OperationKind::Move ? check_move_now(op.move, false) : check_exchange_now(op.exchange, false);
        if (refused) {
            log().info("[{}] operation {} refused when the robot took it: {}", config_.name, id, sense_text(refused));
            return refused;
        }
        op.started = true;
        for (Leg& leg : op.legs) {
            if (!leg.carrying) leg.cartridge = *inventory_->at(leg.from)->cartridge;
        }
        if (op.kind == OperationKind::Exchange && op.legs[0].swap) {
            op.legs[1].cartridge = *inventory_->at(op.legs[1].from)->cartridge;
        }
    }
    const Leg& leg = op.legs[op.leg];
    if (leg.carrying) return std::nullopt;
    // A threaded drive unloads before the robot can pick from it (implicit unload); for a swap,
    // the drive at the far end too. Both unload while the robot travels.
    bool unloading = false;
    std::vector<uint16_t> holders{leg.from};
    if (leg.swap) holders.push_back(leg.to);
    for (const uint16_t a : holders) {
        DriveMechanism* drive = drive_at(a);
        if (!drive || drive->state() == State::Ejected || drive->state() == State::Empty) continue;
        unloading = true;
        drive->eject([this, a](std::optional<scsi::Sense> s) {
            if (s) log().warn("[{}] drive at {} did not unload: {}", config_.name, hex(a), sense_text(s));
        });
    }
    if (unloading) pick_time += Duration(config_.timings.unload);
    return std::nullopt;
}

// The unload time is a model: the drive may take longer (a rewind first, its medium closing on
// the I/O thread). The robot then waits at the drive until it has ejected the cartridge.
bool Library::hold_for_unload(MoveId id, std::function<void()> resume) {
    const auto it = operations_.find(id);
    if (it == operations_.end()) return false;
    const Leg& leg = it->second->legs[it->second->leg];
    if (leg.carrying) return false;
    std::vector<uint16_t> holders{leg.from};
    if (leg.swap) holders.push_back(leg.to);
    for (const uint16_t a : holders) {
        DriveMechanism* drive = drive_at(a);
        if (drive && drive->state() == State::Unloading) {
            drive->eject([resume = std::move(resume)](std::optional<scsi::Sense>) { resume(); });
            return true;
        }
    }
    return false;
}

std::optional<scsi::Sense> Library::leg_picked(MoveId id, uint16_t robot) {
    Operation& op = *operations_.at(id);
    Leg& leg = op.legs[op.leg];
    if (leg.carrying) {
        leg.picked = true;
        return std::nullopt;
    }
    DriveMechanism* drive = drive_at(leg.from);
    if (drive && drive->state() != State::Ejected) {
        return scsi::Sense(scsi::SenseKey::HardwareError, scsi::asc::kMediaLoadOrEjectFailed);
    }
    apply(op, change::move(leg.from, robot, false));
    if (drive) drive->removed();
    leg.picked = true;
    return std::nullopt;
}

std::optional<scsi::Sense> Library::leg_placed(MoveId id, uint16_t robot) {
    Operation& op = *operations_.at(id);
    Leg& leg = op.legs[op.leg];
    const smc::CartridgeId carried = *inventory_->at(robot)->cartridge;
    if (leg.swap) {
        DriveMechanism* drive = drive_at(leg.to);
        if (drive && drive->state() != State::Ejected) {
            // The far drive kept its cartridge: the robot puts its own back, and the exchange fails.
            apply(op, change::move(robot, leg.from, false));
            load_into_drive(leg.from, carried);
            leg.placed = true;
            op.legs.resize(op.leg + 1);
            return scsi::Sense(scsi::SenseKey::HardwareError, scsi::asc::kMediaLoadOrEjectFailed);
        }
        // Trade at leg.to: its medium passes through the (just emptied) source for bookkeeping
        // only; no time passes between these changes.
        apply(op, change::move(leg.to, leg.from, false));
        if (drive) drive->removed();
        apply(op, change::move(robot, leg.to, false));
        load_into_drive(leg.to, carried);
        apply(op, change::move(leg.from, robot, false));
        apply(op, change::source(robot, leg.to));
        op.legs[op.leg + 1].picked = true;
    } else {
        apply(op, change::move(robot, leg.to, false));
        load_into_drive(leg.to, carried);
    }
    leg.placed = true;
    return std::nullopt;
}

void Library::leg_done(MoveId id, std::optional<scsi::Sense> result) {
    const auto it = operations_.find(id);
    if (it == operations_.end()) return;
    Operation& op = *it->second;
    if (result) {
        finish(id, std::move(result));
        return;
    }
    if (op.leg + 1 < op.legs.size()) {
        ++op.leg;
        enqueue_leg(op, true);
        return;
    }
    if (op.kind == OperationKind::Scan) {
        for (uint16_t a : op.scan) {
            if (inventory_->at(a)->exception) apply(op, change::exception(a, std::nullopt));
        }
    }
    finish(id, std::nullopt);
}

void Library::finish(MoveId id, std::optional<scsi::Sense> result) {
    auto node = operations_.extract(id);
    if (node.empty()) return;
    OperationPtr op = std::move(node.mapped());
    std::optional<scsi::Sense> outcome = result ? result : op->error;
    // On stable storage before anyone hears of it, in one journal record with the end's record.
    nlohmann::json records = nlohmann::json::array();
    if (op->end_record) {
        if (auto r = op->end_record(outcome); !r.is_null()) records.push_back(std::move(r));
    }
    commit(std::move(op->changes), std::move(records), &outcome);
    if (op->aborted) {
        log().info("[{}] aborted operation {} ended ({}); the host was already answered", config_.name, id,
                   sense_text(outcome));
        return;
    }
    if (op->done) op->done(outcome);
}

void Library::apply(Operation& op, nlohmann::json c) {
    change::apply(*inventory_, c);
    op.changes.push_back(std::move(c));
}

void Library::load_into_drive(uint16_t address, smc::CartridgeId id) {
    DriveMechanism* drive = drive_at(address);
    if (!drive) return;
    drive->insert(inventory_->cartridge(id), [this, address](std::optional<scsi::Sense> s) {
        if (s) log().warn("[{}] drive at {} did not load: {}", config_.name, hex(address), sense_text(s));
    });
}

void Library::abort(MoveId id, config::AbortPolicy policy) {
    const auto it = operations_.find(id);
    if (it == operations_.end()) {
        log().info("[{}] abort of operation {}: already ended", config_.name, id);
        return;
    }
    Operation& op = *it->second;
    if (op.aborted) return;
    op.aborted = true;
    if (op.kind == OperationKind::Noop) {
        log().info("[{}] abort of operation {}: answered without motion; nothing to stop", config_.name, id);
        return;
    }
    if (!op.started && robots_->cancel_queued(op.motion)) {
        log().info("[{}] abort of operation {}: removed from the robot queue; nothing moved", config_.name, id);
        operations_.erase(it);
        return;
    }
    if (op.legs.empty()) {
        log().info("[{}] abort of operation {}: the robot finishes it", config_.name, id);
        return;
    }
    Leg& leg = op.legs[op.leg];
    if (policy == config::AbortPolicy::Complete) {
        log().info("[{}] abort of operation {} ({} -> {}): policy complete, the robot finishes it", config_.name, id,
                   hex(leg.from), hex(leg.to));
        return;
    }
    if (leg.carrying || leg.placed) {
        // After a swap the source holds the other medium: the only place left is the destination.
        log().info(
            "[{}] abort of operation {}: cannot return to {} (it holds the exchanged medium); the robot "
            "finishes it",
            config_.name, id, hex(leg.from));
        return;
    }
    log().info("[{}] abort of operation {} ({} -> {}): policy return-to-source, the cartridge goes back to {}{}",
               config_.name, id, hex(leg.from), hex(leg.to), hex(leg.from), leg.picked ? "" : " once picked");
    leg.to = leg.from;
    leg.swap = false;
    op.legs.resize(op.leg + 1);
}

}  // namespace vtl::library
