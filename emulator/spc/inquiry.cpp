// WORK IN PROGRESS: being written now.
#include "core/logical_unit.h"
#include "spc/spc.h"

namespace vtl {

void register_inquiry(LogicalUnit&) {}

}  // namespace vtl
