#include "spc/spc.h"

namespace vtl {

void register_spc(LogicalUnit& lu) {
    register_inquiry(lu);
    register_sense_commands(lu);
    register_report_opcodes(lu);
    register_mode_commands(lu);
    register_log_commands(lu);
    register_reservations(lu);
    register_diagnostic_commands(lu);
}

}  // namespace vtl
