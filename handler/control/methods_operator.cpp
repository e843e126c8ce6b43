// What an operator does at the import/export station: insert, take, open and close the door.
#include <fmt/format.h>

#include "control/lookup.h"
#include "control/methods.h"

namespace vtl::control {

namespace {

// params["ie"]: an import/export slot, counted from 0 as the library's messages count them.
uint32_t ie_index(library::Library& lib, const nlohmann::json& p) {
    const uint64_t n = param::unsigned_int(p, "ie");
    const uint32_t count = lib.inventory().count(smc::ElementType::ImportExport);
    if (n >= count) {
        throw ControlError(code::kBadParams,
                           fmt::format("parameter \"ie\": {} has import/export slots 0..{}", lib.name(), count - 1));
    }
    return static_cast<uint32_t>(n);
}

uint16_t ie_address(library::Library& lib, uint32_t index) {
    return lib.inventory().nth(smc::ElementType::ImportExport, index)->address;
}

void refused(const std::optional<std::string>& why) {
    if (why) throw ControlError(code::kRefused, *why);
}

}  // namespace

void register_operator_methods(Methods& m) {
    m.add("insert", "put a new cartridge into an import/export slot (door open): {library, ie, barcode}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"library", "ie", "barcode"});
              auto& lib = library_param(ctx, p);
              const uint32_t index = ie_index(lib, p);
              smc::Cartridge cartridge;
              cartridge.barcode = param::string(p, "barcode");
              refused(lib.insert_cartridge(index, std::move(cartridge)));
              return element_json(lib, ie_address(lib, index));
          });
    m.add("take", "take the cartridge out of an import/export slot (door open): {library, ie}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"library", "ie"});
              auto& lib = library_param(ctx, p);
              const uint32_t index = ie_index(lib, p);
              const smc::Element* e = lib.inventory().nth(smc::ElementType::ImportExport, index);
              const std::string barcode = e->cartridge ? lib.inventory().cartridge(*e->cartridge).barcode : "";
              refused(lib.take_cartridge(index));
              nlohmann::json out = element_json(lib, ie_address(lib, index));
              out["taken"] = barcode;
              return out;
          });
    m.add("door", "open or close the import/export door: {library, open: bool}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"library", "open"});
              auto& lib = library_param(ctx, p);
              if (!p.contains("open"))
                  throw ControlError(code::kBadParams, "parameter \"open\": expected true or false");
              refused(param::boolean(p, "open", false) ? lib.open_ie_door() : lib.close_ie_door());
              return nlohmann::json{{"library", lib.name()}, {"ie_door", lib.ie_door_open() ? "open" : "closed"}};
          });
}

}  // namespace vtl::control
