// WORK IN PROGRESS: being written now.
#include "core/logical_unit.h"
#include "spc/spc.h"

namespace vtl {

void register_log_commands(LogicalUnit&) {}

}  // namespace vtl
