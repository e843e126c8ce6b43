// The rules a library applies before its robot starts (SMC-3 MOVE MEDIUM, EXCHANGE MEDIUM,
// POSITION TO ELEMENT). Checked twice: when the host's command arrives, against the inventory as
// it will be once every accepted operation has ended (a host may queue a load and the unload
// after it), and again when a robot takes the motion, against the inventory as it is.
#include "device/tape_drive.h"
#include "library/library.h"
#include "library/operation.h"

namespace vtl::library {

namespace {

using scsi::Sense;
namespace asc = scsi::asc;

Sense invalid_element() { return Sense::illegal_request(asc::kInvalidElementAddress); }

bool is_ie(const smc::Element* e) { return e->type == smc::ElementType::ImportExport; }
bool is_transport(const smc::Element* e) { return e->type == smc::ElementType::MediumTransport; }

}  // namespace

bool Library::is_robot(uint16_t address) const {
    const smc::Element* e = inventory_->at(address);
    return e && is_transport(e);
}

// Projected: after every accepted operation; else: as the inventory is now.
std::optional<smc::CartridgeId> Library::occupant(uint16_t address, bool projected) const {
    const smc::Element* e = inventory_->at(address);
    std::optional<smc::CartridgeId> holder = e ? e->cartridge : std::nullopt;
    if (!projected) return holder;
    for (const auto& [id, op] : operations_) {
        for (const Leg& leg : op->legs) {
            if (!leg.picked && leg.from == address) holder.reset();
        }
        for (const Leg& leg : op->legs) {
            if (!leg.placed && leg.to == address) holder = leg.cartridge;
        }
    }
    return holder;
}

// An element a robot is working on for an operation that has started.
bool Library::claimed(uint16_t address, MoveId except) const {
    for (const auto& [id, op] : operations_) {
        if (id == except || !op->started) continue;
        for (const Leg& leg : op->legs) {
            if (leg.from == address || leg.to == address) return true;
        }
    }
    return false;
}

bool Library::conflicts(const Operation& op) const {
    for (const Leg& leg : op.legs) {
        if (claimed(leg.from, op.id) || claimed(leg.to, op.id)) return true;
    }
    return false;
}

std::optional<Sense> Library::check_pick_from_drive(uint16_t address) const {
    const DriveMechanism* drive = drive_at(address);
    if (!drive) return std::nullopt;
    if (drive->removal_prevented()) return Sense::illegal_request(asc::kMediumRemovalPrevented);
    const auto state = drive->state();
    const bool threaded = state == DriveMechanism::State::Loaded || state == DriveMechanism::State::Loading ||
                          state == DriveMechanism::State::Unloading;
    // IBM 3584-family libraries do not unload a drive for a move: the host unloads it first
    // (rmcd polls ACCESS=1). No IBM TS3500/TS4500 document at hand names the sense for a pick
    // from a threaded drive (the TS2900 uses 05/3B/83, the TS3310 05/53/01); 05/53/02 MEDIUM
    // REMOVAL PREVENTED is what hosts already handle for a drive that will not give its cartridge.
    if (threaded && !traits().implicit_unload) return Sense::illegal_request(asc::kMediumRemovalPrevented);
    return std::nullopt;
}

std::optional<Sense> Library::check_into_drive(uint16_t address, const smc::Cartridge& cartridge) const {
    const DriveMechanism* drive = drive_at(address);
    if (!drive) return std::nullopt;
    const auto* tape = dynamic_cast<const TapeDrive*>(drive);
    // Checked at move time (as IBM and Spectra libraries do), so the cartridge stays where it is.
    if (tape && !lto_readable(tape->mechanics().generation, cartridge)) {
        return Sense::illegal_request(asc::kIncompatibleMediumInstalled);
    }
    return std::nullopt;
}

std::optional<Sense> Library::check_move(const MoveRequest& r) const { return check_move_now(r, true); }

std::optional<Sense> Library::check_move_now(const MoveRequest& r, bool projected) const {
    if (r.transport != 0 && !is_robot(r.transport)) return invalid_element();
    const smc::Element* src = inventory_->at(r.source);
    const smc::Element* dst = inventory_->at(r.destination);
    // A robot's gripper is not a place to leave a cartridge (IBM: 05/21/01 for an MTE).
    if (!src || !dst || is_transport(src) || is_transport(dst)) return invalid_element();
    if (ie_door_open_ && (is_ie(src) || is_ie(dst))) return Sense::not_ready(asc::kManualInterventionRequired);
    const auto medium = occupant(r.source, projected);
    if (!medium) return Sense::illegal_request(asc::kMediumSourceElementEmpty);
    // Source == destination: nothing to do; answered GOOD at once, without motion.
    if (r.source == r.destination) return std::nullopt;
    if (occupant(r.destination, projected)) return Sense::illegal_request(asc::kMediumDestinationElementFull);
    if (auto s = check_pick_from_drive(r.source)) return s;
    if (auto s = check_into_drive(r.destination, inventory_->cartridge(*medium))) return s;
    return std::nullopt;
}

std::optional<Sense> Library::check_exchange(const ExchangeRequest& r) const { return check_exchange_now(r, true); }

std::optional<Sense> Library::check_exchange_now(const ExchangeRequest& r, bool projected) const {
    if (r.transport != 0 && !is_robot(r.transport)) return invalid_element();
    const smc::Element* src = inventory_->at(r.source);
    const smc::Element* first = inventory_->at(r.first_destination);
    const smc::Element* second = inventory_->at(r.second_destination);
    if (!src || !first || !second || is_transport(src) || is_transport(first) || is_transport(second)) {
        return invalid_element();
    }
    // Exchanging a medium with itself names one element twice; no library defines it.
    if (r.source == r.first_destination) return invalid_element();
    if (ie_door_open_ && (is_ie(src) || is_ie(first) || is_ie(second))) {
        return Sense::not_ready(asc::kManualInterventionRequired);
    }
    const auto a = occupant(r.source, projected);
    const auto b = occupant(r.first_destination, projected);
    if (!a || !b) return Sense::illegal_request(asc::kMediumSourceElementEmpty);
    // The second destination receives the first destination's medium: it must be empty, or be
    // the source, which the first medium leaves.
    if (r.second_destination == r.first_destination ||
        (r.second_destination != r.source && occupant(r.second_destination, projected))) {
        return Sense::illegal_request(asc::kMediumDestinationElementFull);
    }
    if (auto s = check_pick_from_drive(r.source)) return s;
    if (auto s = check_pick_from_drive(r.first_destination)) return s;
    if (auto s = check_into_drive(r.first_destination, inventory_->cartridge(*a))) return s;
    if (auto s = check_into_drive(r.second_destination, inventory_->cartridge(*b))) return s;
    return std::nullopt;
}

std::optional<Sense> Library::check_position(uint16_t transport, uint16_t destination) const {
    if (transport != 0 && !is_robot(transport)) return invalid_element();
    const smc::Element* dst = inventory_->at(destination);
    if (!dst || is_transport(dst)) return invalid_element();
    return std::nullopt;
}

}  // namespace vtl::library
