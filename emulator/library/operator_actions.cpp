// What an operator does at the import/export station: open and close its door, put cartridges
// into its slots and take exported ones out. Hosts hear of it through UNIT ATTENTION 28/01.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "library/changes.h"
#include "library/library.h"
#include "library/operation.h"

namespace vtl::library {

namespace {

constexpr const char* kLocked =
    "the import/export station is locked: a host holds PREVENT MEDIUM REMOVAL on the changer";

}  // namespace

std::optional<std::string> Library::open_ie_door() {
    if (ie_door_open_) return std::nullopt;
    if (ie_locked()) return kLocked;
    for (const smc::Element* e : inventory_->of_type(smc::ElementType::ImportExport)) {
        if (claimed(e->address)) return "the robot is working at the import/export station; try again when it is done";
    }
    ie_door_open_ = true;
    log().info("[{}] import/export door opened", config_.name);
    return std::nullopt;
}

std::optional<std::string> Library::close_ie_door() {
    if (!ie_door_open_) return std::nullopt;
    ie_door_open_ = false;
    log().info("[{}] import/export door closed", config_.name);
    notify(scsi::asc::kImportExportElementAccessed);
    return std::nullopt;
}

std::optional<std::string> Library::insert_cartridge(uint32_t ie_index, smc::Cartridge cartridge) {
    const smc::Element* e = inventory_->nth(smc::ElementType::ImportExport, ie_index);
    if (!e) {
        return fmt::format("no import/export slot {} (the library has {})", ie_index,
                           inventory_->count(smc::ElementType::ImportExport));
    }
    if (!ie_door_open_) return "the import/export door is closed; open it first";
    if (ie_locked()) return kLocked;
    if (auto why = config::barcode_error(cartridge.barcode)) {
        return fmt::format("invalid barcode {}: {}", config::quote(cartridge.barcode), *why);
    }
    if (auto where = inventory_->find(cartridge.barcode)) {
        return fmt::format("barcode {} is already in the library (element 0x{:04X})", cartridge.barcode, *where);
    }
    if (e->full() || occupant(e->address, true)) {
        return fmt::format("import/export slot {} is not empty", ie_index);
    }
    // What the label says fills in what the caller left at its defaults.
    if (auto info = config::parse_barcode(cartridge.barcode)) {
        if (info->type && cartridge.type == config::MediaType::Data) cartridge.type = *info->type;
        if (info->generation && cartridge.generation == 0) cartridge.generation = *info->generation;
        cartridge.type_m = cartridge.type_m || info->type_m;
    }
    const uint16_t address = e->address;
    auto c = change::insert(address, cartridge);
    change::apply(*inventory_, c);
    commit(nlohmann::json::array({std::move(c)}));
    log().info("[{}] operator inserted {} into import/export slot {} (0x{:04X})", config_.name, cartridge.barcode,
               ie_index, address);
    notify(scsi::asc::kImportExportElementAccessed);
    return std::nullopt;
}

std::optional<std::string> Library::take_cartridge(uint32_t ie_index) {
    const smc::Element* e = inventory_->nth(smc::ElementType::ImportExport, ie_index);
    if (!e) {
        return fmt::format("no import/export slot {} (the library has {})", ie_index,
                           inventory_->count(smc::ElementType::ImportExport));
    }
    if (!ie_door_open_) return "the import/export door is closed; open it first";
    if (ie_locked()) return kLocked;
    if (!e->full()) return fmt::format("import/export slot {} is empty", ie_index);
    if (claimed(e->address) || occupant(e->address, true) != e->cartridge) {
        return fmt::format("a move for the cartridge in import/export slot {} is pending", ie_index);
    }
    const std::string barcode = inventory_->cartridge(*e->cartridge).barcode;
    const uint16_t address = e->address;
    auto c = change::remove(address);
    change::apply(*inventory_, c);
    commit(nlohmann::json::array({std::move(c)}));
    log().info("[{}] operator took {} from import/export slot {} (0x{:04X})", config_.name, barcode, ie_index, address);
    notify(scsi::asc::kImportExportElementAccessed);
    return std::nullopt;
}

}  // namespace vtl::library
