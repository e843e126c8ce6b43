// The SPC command set every device type supports, and the pages every device has.
#pragma once

namespace vtl {

class LogicalUnit;

// Adds INQUIRY (standard, VPD 00h/80h/83h/86h), TEST UNIT READY, REQUEST SENSE,
// REPORT SUPPORTED OPERATION CODES, MODE SENSE/SELECT (6/10), LOG SENSE/SELECT,
// RESERVE/RELEASE (6/10), PREVENT ALLOW MEDIUM REMOVAL and SEND DIAGNOSTIC to a logical unit, with the
// control mode page (0Ah, 0Ah/01h), informational exceptions page (1Ch), and the
// supported-pages and temperature log pages.
void register_spc(LogicalUnit& lu);

// The parts, for devices and tests that want them one at a time.
void register_inquiry(LogicalUnit& lu);              // inquiry.cpp
void register_sense_commands(LogicalUnit& lu);       // sense_commands.cpp: TUR, REQUEST SENSE
void register_report_opcodes(LogicalUnit& lu);       // report_opcodes.cpp
void register_mode_commands(LogicalUnit& lu);        // mode_commands.cpp (+ common mode pages)
void register_log_commands(LogicalUnit& lu);         // log_commands.cpp (+ common log pages)
void register_reservations(LogicalUnit& lu);         // reservations.cpp: RESERVE/RELEASE, PREVENT ALLOW
void register_diagnostic_commands(LogicalUnit& lu);  // diagnostic_commands.cpp: SEND DIAGNOSTIC

}  // namespace vtl
