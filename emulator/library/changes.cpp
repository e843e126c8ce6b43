#include "library/changes.h"

#include <stdexcept>

#include <fmt/format.h>

namespace vtl::library::change {

namespace {

uint16_t address_of(const nlohmann::json& c, const char* key) { return c.at(key).get<uint16_t>(); }

const smc::Element& element(const smc::Inventory& inv, uint16_t address) {
    const smc::Element* e = inv.at(address);
    if (!e) throw std::runtime_error(fmt::format("no element at 0x{:04X}", address));
    return *e;
}

}  // namespace

nlohmann::json move(uint16_t from, uint16_t to, bool invert) {
    nlohmann::json j = {{"op", "move"}, {"from", from}, {"to", to}};
    if (invert) j["invert"] = true;
    return j;
}

nlohmann::json source(uint16_t at, std::optional<uint16_t> value) {
    return {{"op", "source"}, {"at", at}, {"value", value ? nlohmann::json(*value) : nlohmann::json()}};
}

nlohmann::json insert(uint16_t at, const smc::Cartridge& c) {
    nlohmann::json cj = {{"barcode", c.barcode}, {"type", config::to_string(c.type)}, {"gen", c.generation}};
    if (c.type_m) cj["type_m"] = true;
    if (!c.alternate_tag.empty()) cj["alt"] = c.alternate_tag;
    return {{"op", "insert"}, {"at", at}, {"cartridge", std::move(cj)}};
}

nlohmann::json remove(uint16_t at) { return {{"op", "remove"}, {"at", at}}; }

nlohmann::json exception(uint16_t at, std::optional<scsi::Asc> code) {
    return {{"op", "except"},
            {"at", at},
            {"code", code ? nlohmann::json::array({code->asc, code->ascq}) : nlohmann::json()}};
}

nlohmann::json alternate_tag(const std::string& barcode, const std::string& tag) {
    return {{"op", "alt"}, {"barcode", barcode}, {"tag", tag}};
}

void apply(smc::Inventory& inv, const nlohmann::json& c) {
    try {
        const std::string op = c.at("op").get<std::string>();
        if (op == "move") {
            const uint16_t from = address_of(c, "from"), to = address_of(c, "to");
            if (!element(inv, from).full()) throw std::runtime_error(fmt::format("move from empty element 0x{:04X}", from));
            if (element(inv, to).full()) throw std::runtime_error(fmt::format("move into full element 0x{:04X}", to));
            inv.move(from, to, c.value("invert", false));
        } else if (op == "source") {
            const uint16_t at = address_of(c, "at");
            element(inv, at);
            const auto& v = c.at("value");
            inv.at(at)->source = v.is_null() ? std::nullopt : std::optional<uint16_t>(v.get<uint16_t>());
        } else if (op == "insert") {
            const uint16_t at = address_of(c, "at");
            const auto& e = element(inv, at);
            const auto& cj = c.at("cartridge");
            smc::Cartridge cart;
            cart.barcode = cj.at("barcode").get<std::string>();
            const auto type = config::media_type_from_string(cj.at("type").get<std::string>());
            if (!type) throw std::runtime_error("unknown media type");
            cart.type = *type;
            cart.generation = cj.value("gen", 0);
            cart.type_m = cj.value("type_m", false);
            cart.alternate_tag = cj.value("alt", std::string());
            if (e.type != smc::ElementType::ImportExport || e.full() || inv.find(cart.barcode)) {
                throw std::runtime_error(fmt::format("cannot insert {} into 0x{:04X}", cart.barcode, at));
            }
            inv.insert(at, std::move(cart));
        } else if (op == "remove") {
            const uint16_t at = address_of(c, "at");
            if (!element(inv, at).full()) throw std::runtime_error(fmt::format("remove from empty element 0x{:04X}", at));
            inv.remove(at);
        } else if (op == "except") {
            const uint16_t at = address_of(c, "at");
            element(inv, at);
            const auto& code = c.at("code");
            inv.set_exception(at, code.is_null() ? std::nullopt
                                                 : std::optional<scsi::Asc>(scsi::Asc{code.at(0).get<uint8_t>(),
                                                                                      code.at(1).get<uint8_t>()}));
        } else if (op == "alt") {
            const auto barcode = c.at("barcode").get<std::string>();
            const auto where = inv.find(barcode);
            if (!where) throw std::runtime_error(fmt::format("barcode {} is not in the library", barcode));
            inv.set_alternate_tag(*inv.at(*where)->cartridge, c.at("tag").get<std::string>());
        } else {
            throw std::runtime_error(fmt::format("unknown change \"{}\"", op));
        }
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(fmt::format("malformed change {}: {}", c.dump(), e.what()));
    }
}

}  // namespace vtl::library::change
