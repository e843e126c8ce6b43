#include "control/lookup.h"

#include <fmt/format.h>

#include "control/methods.h"

namespace vtl::control {

library::Library& library_param(Context& ctx, const nlohmann::json& params) {
    const auto& libs = ctx.emulator.libraries();
    auto name = param::opt_string(params, "library");
    if (!name) {
        if (libs.size() == 1) return *libs.front();
        throw ControlError(code::kBadParams,
                           fmt::format("parameter \"library\": name one of the {} libraries", libs.size()));
    }
    if (auto* lib = ctx.emulator.library(*name)) return *lib;
    throw ControlError(code::kNotFound, fmt::format("no library \"{}\"", *name));
}

nlohmann::json element_json(const library::Library& lib, uint16_t address) {
    const smc::Element* e = lib.inventory().at(address);
    if (!e) throw ControlError(code::kNotFound, fmt::format("no element 0x{:04X}", address));
    nlohmann::json out = {{"address", e->address},
                          {"type", smc::element_type_key(e->type)},
                          {"index", e->type == smc::ElementType::Storage ? e->index + 1 : e->index},
                          {"full", e->full()}};
    if (e->type == smc::ElementType::DataTransfer && e->index < lib.config().drives.size()) {
        out["name"] = lib.config().drives[e->index].name;
    }
    if (e->cartridge) out["barcode"] = lib.inventory().cartridge(*e->cartridge).barcode;
    if (e->type == smc::ElementType::ImportExport) out["impexp"] = e->impexp;
    if (e->source) out["source"] = *e->source;
    if (e->exception) out["exception"] = fmt::format("{:02X}/{:02X}", e->exception->asc, e->exception->ascq);
    return out;
}

}  // namespace vtl::control
