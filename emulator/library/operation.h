// What the library keeps about an accepted operation until it ends: its legs (one robot trip
// each), the motion running the current leg, and the inventory changes it made so far, which
// are journaled together when it ends.
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "library/library.h"

namespace vtl::library {

// One trip of the robot: pick at `from`, deliver to `to`.
struct Leg {
    uint16_t from = 0;
    uint16_t to = 0;
    smc::CartridgeId cartridge = 0;
    // EXCHANGE MEDIUM back to its source (second destination == source): at `to` the robot takes
    // the medium there and leaves its own (a two-gripper hand), so the next leg starts carrying.
    bool swap = false;
    bool carrying = false;  // starts with the medium already in the gripper
    bool picked = false;
    bool placed = false;
};

enum class OperationKind { Move, Exchange, Position, Scan, Noop };

struct Library::Operation {
    MoveId id = 0;
    OperationKind kind = OperationKind::Move;
    std::optional<uint16_t> transport;  // the robot the host named
    std::optional<uint16_t> robot;      // the robot that took it
    MoveRequest move;                   // as the host asked, checked again when a robot takes it
    ExchangeRequest exchange;
    std::vector<Leg> legs;
    size_t leg = 0;                     // the leg in motion (or waiting)
    smc::MotionId motion = 0;
    bool started = false;               // a robot took its first motion: it holds its elements
    Done done;
    EndRecord end_record;               // journaled with `changes` when it ends
    bool aborted = false;               // the host gave up: `done` is never called
    bool returning = false;             // ReturnToSource: the current leg goes back to its `from`
    nlohmann::json changes = nlohmann::json::array();
    std::optional<scsi::Sense> error;
    // Position: where the robot goes; Scan: the elements INITIALIZE ELEMENT STATUS reads.
    uint16_t destination = 0;
    std::vector<uint16_t> scan;
    Duration duration{};                // Position and Scan: their single timed phase
};

}  // namespace vtl::library
