// Inventory changes as records: the unit the state store journals and replays. Each names one
// Inventory method call (or a SOURCE ADDRESS correction), so replaying the records of the
// completed operations in order rebuilds the inventory exactly.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "smc/inventory.h"

namespace vtl::library::change {

nlohmann::json move(uint16_t from, uint16_t to, bool invert);
nlohmann::json source(uint16_t at, std::optional<uint16_t> value);
nlohmann::json insert(uint16_t at, const smc::Cartridge& cartridge);
nlohmann::json remove(uint16_t at);
nlohmann::json exception(uint16_t at, std::optional<scsi::Asc> code);
nlohmann::json alternate_tag(const std::string& barcode, const std::string& tag);

// Applies one change; throws std::runtime_error saying why when it does not fit the inventory
// (so a damaged journal is reported, never half-applied silently).
void apply(smc::Inventory& inventory, const nlohmann::json& change);

}  // namespace vtl::library::change
