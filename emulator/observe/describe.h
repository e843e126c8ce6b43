// How the trace and the statistics name what they saw: the command, the status, the sense code,
// the bytes as hex. Shared so both show the same names.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/logical_unit.h"
#include "core/task.h"
#include "scsi/status.h"

namespace vtl::observe {

// The command's name from the logical unit's command set ("READ(6)"); "opcode C5h" for an
// opcode (or service action) the unit does not support, "(empty CDB)" for none.
std::string command_name(LogicalUnit& lu, const Task& task);
// The CDB without what the transport padded it with: as long as its group code says.
std::span<const uint8_t> trimmed_cdb(const Task& task);
// "GOOD", "CHECK CONDITION", "TASK ABORTED" ...
const char* status_name(scsi::Status status);
// Lower-case hex, two digits a byte, no separators.
std::string hex(std::span<const uint8_t> bytes);

// Sense key, ASC and ASCQ read from encoded sense data (fixed or descriptor format).
struct SenseCode {
    uint8_t key = 0;
    uint8_t asc = 0;
    uint8_t ascq = 0;
    std::string text() const;  // "5/24/00"
};
std::optional<SenseCode> sense_code(std::span<const uint8_t> sense);

// Time from the logical unit's receipt of the task to now, on the unit's clock.
Duration latency(LogicalUnit& lu, const Task& task);

}  // namespace vtl::observe
