// How vtl-move shows steps and elements: one line of text each, or one JSON object each.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "mover.h"

namespace vtl::client {

// "" for steps not shown without --verbose (Sent).
std::string step_text(const Step& s);
nlohmann::json step_json(const Step& s);
nlohmann::json sense_json(const SenseData& s);

std::string element_text(const ElementDescriptor& e);
nlohmann::json element_json(const ElementDescriptor& e);

// "41.2 %" from PROGRESS INDICATION (of 65536).
std::string percent(uint16_t progress);

}  // namespace vtl::client
