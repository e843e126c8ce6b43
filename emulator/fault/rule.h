// One fault rule: what it matches, what it does, how often. Parsed from JSON (the control
// socket's form, and what a TOML [[fault]] table is converted to) with errors naming the field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/clock.h"
#include "scsi/sense.h"

namespace vtl::fault {

struct FaultError : std::runtime_error {
    using runtime_error::runtime_error;
};

enum class Action {
    Delay,
    Hang,
    CheckCondition,
    Busy,
    TaskSetFull,
    ReservationConflict,
    UnitAttention,
    NotReady,
    Offline,
    MediumError,
    EarlyEom,
    Corrupt,
    RefuseLoad,
    RefuseUnload,
    Door,
    TapeAlert,
    RobotRecovery,
};
const char* to_string(Action a);
// Actions decided on a robot motion (the library's motion fault hook) rather than a command.
bool is_motion_action(Action a);

// An element address as the rule names it: a raw address, or slot/drive/I/E number resolved
// against each library's address bases.
struct AddressSel {
    enum class Kind { Element, Slot, Drive, Ie } kind = Kind::Element;
    uint32_t value = 0;
};

struct CommandSel {
    std::optional<uint8_t> opcode;
    std::string name;  // upper case; empty when opcode is given
};

struct Rule {
    uint64_t id = 0;
    nlohmann::json given;  // as added, for list()

    // ---- match
    std::string library;  // empty: any
    std::string device;   // empty: any device of the library
    std::vector<CommandSel> commands;
    std::vector<AddressSel> elements;
    std::optional<std::pair<uint64_t, uint64_t>> blocks;  // inclusive logical object range
    std::optional<std::string> initiator;
    uint64_t nth = 0;
    uint64_t every = 0;
    std::optional<double> probability;
    std::optional<Duration> after, before;  // relative to plan start
    std::optional<Duration> window;         // "for": relative to when the rule was added
    std::optional<Duration> at;             // event rule: fires once, this long after being added

    // ---- limits
    uint64_t count = 0;  // 0: unlimited

    // ---- action
    Action action = Action::CheckCondition;
    Duration duration{};  // delay; not_ready/offline/door window (0: until removed)
    bool has_duration = false;
    std::optional<scsi::Sense> sense;          // check_condition, robot_recovery, refuse_*, offline changer_sense
    std::optional<scsi::Asc> asc;              // unit_attention, not_ready (02/asc), door
    bool all_nexuses = false;                  // unit_attention: every nexus or the command's
    uint32_t bits = 1;                         // corrupt: bits flipped per command
    std::vector<uint8_t> flags;                // tape_alert
    std::optional<uint64_t> warning_at;        // early_eom
    std::optional<uint64_t> end_at;            // early_eom
    bool ie_door = false;                      // door: the I/E station's rather than the library's
    std::optional<scsi::Sense> changer_sense;  // offline: moves into/out of the drive
    bool ignore_aborts = false;                // hang: the command survives ABORT TASK and LUN RESET

    // ---- state
    TimePoint added{};
    uint64_t seen = 0;
    uint64_t fired = 0;
    bool retired() const { return count != 0 && fired >= count; }
};

// Throws FaultError("<field>: <what is wrong>").
Rule parse_rule(const nlohmann::json& rule);

// "3/11/00" (key/ASC/ASCQ, hex) and "28/00" (ASC/ASCQ).
std::optional<scsi::Sense> parse_sense(const std::string& text);
std::optional<scsi::Asc> parse_asc(const std::string& text);
std::string format_sense(const scsi::Sense& s);

}  // namespace vtl::fault
