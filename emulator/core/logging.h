// The "vtl" logger every part of the emulator writes to (the core fetches it with
// spdlog::get("vtl")). Messages carry their own "[library/device] tag=..." prefix.
#pragma once

#include <spdlog/common.h>

namespace vtl {

// Creates (or replaces) the "vtl" logger on stderr and makes it the default logger.
void init_logging(spdlog::level::level_enum level, bool to_stderr_color);

}  // namespace vtl
