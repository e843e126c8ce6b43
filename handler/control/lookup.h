// Shared by the methods_*.cpp files: find what a request names, describe elements.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "control/context.h"
#include "control/protocol.h"
#include "library/emulator.h"
#include "library/library.h"

namespace vtl::control {

// The library named by params["library"]; when omitted and there is exactly one, that one.
library::Library& library_param(Context& ctx, const nlohmann::json& params);

// One element as the operator methods report it, with the names Library::inventory_json() uses:
// {"address", "type", "index" (storage slots from 1 as in the config, I/E slots and drives from
// 0 as the library counts them), "full", "name" (a drive's), "barcode", "impexp", "source",
// "exception"}.
nlohmann::json element_json(const library::Library& lib, uint16_t address);

}  // namespace vtl::control
