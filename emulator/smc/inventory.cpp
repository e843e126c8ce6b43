#include "smc/inventory.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vtl::smc {

namespace {

constexpr size_t kAddressSpace = 0x10000;

struct TypeRange {
    ElementType type;
    uint16_t first;
    uint32_t count;
};

std::vector<TypeRange> ranges_of(const config::LibraryConfig& c) {
    return {
        {ElementType::MediumTransport, c.addresses.transport, c.robots},
        {ElementType::ImportExport, c.addresses.ie, c.ie_slots},
        {ElementType::DataTransfer, c.addresses.drive, static_cast<uint32_t>(c.drives.size())},
        {ElementType::Storage, c.addresses.slot, c.slots},
    };
}

const char* plural(ElementType t) {
    switch (t) {
        case ElementType::MediumTransport:
            return "medium transport elements (robots)";
        case ElementType::ImportExport:
            return "import/export elements";
        case ElementType::DataTransfer:
            return "data transfer elements (drives)";
        case ElementType::Storage:
            return "storage slots";
        case ElementType::All:
            break;
    }
    return "elements";
}

std::string span_text(uint32_t count, uint32_t first) {
    if (count == 0) return "0";
    return fmt::format("{} at 0x{:04X}..0x{:04X}", count, first, first + count - 1);
}

Cartridge from_config(const config::CartridgeConfig& c) {
    Cartridge out{.barcode = c.barcode, .type = c.type, .generation = c.generation.value_or(0)};
    if (auto info = config::parse_barcode(c.barcode)) out.type_m = info->type_m;
    return out;
}

}  // namespace

const char* element_type_key(ElementType t) {
    switch (t) {
        case ElementType::MediumTransport:
            return "transport";
        case ElementType::ImportExport:
            return "ie";
        case ElementType::DataTransfer:
            return "drive";
        case ElementType::Storage:
            return "slot";
        case ElementType::All:
            break;
    }
    return "?";
}

Inventory::Inventory(const config::LibraryConfig& config) : index_by_address_(kAddressSpace, -1) {
    const auto ranges = ranges_of(config);
    size_t total = 0;
    for (const auto& r : ranges) total += r.count;
    elements_.reserve(total);
    for (const auto& r : ranges) {
        for (uint32_t i = 0; i < r.count; ++i) {
            elements_.push_back(Element{.address = static_cast<uint16_t>(r.first + i), .type = r.type, .index = i});
        }
    }
    // The config guarantees the ranges fit in 16 bits and do not overlap.
    std::sort(elements_.begin(), elements_.end(),
              [](const Element& a, const Element& b) { return a.address < b.address; });
    for (size_t i = 0; i < elements_.size(); ++i) index_by_address_[elements_[i].address] = static_cast<int32_t>(i);
    for (const auto& r : ranges) {
        auto& t = types_[static_cast<size_t>(r.type)];
        t.first_address = r.first;
        t.count = r.count;
        t.first_position = r.count ? static_cast<uint32_t>(index_by_address_[r.first]) : 0;
    }

    cartridges_.reserve(config.cartridges.size());
    where_.reserve(config.cartridges.size());
    for (const auto& c : config.cartridges) {
        const Element* slot = nth(ElementType::Storage, c.slot - 1);
        if (!slot) throw std::runtime_error(fmt::format("cartridge {}: no storage slot {}", c.barcode, c.slot));
        Element& e = elements_[static_cast<size_t>(index_by_address_[slot->address])];
        e.cartridge = static_cast<CartridgeId>(cartridges_.size());
        cartridges_.push_back(from_config(c));
        where_.emplace(c.barcode, e.address);
    }
}

Element* Inventory::at(uint16_t address) {
    const int32_t i = index_by_address_[address];
    return i < 0 ? nullptr : &elements_[static_cast<size_t>(i)];
}

const Element* Inventory::at(uint16_t address) const {
    const int32_t i = index_by_address_[address];
    return i < 0 ? nullptr : &elements_[static_cast<size_t>(i)];
}

std::vector<const Element*> Inventory::of_type(ElementType type) const {
    std::vector<const Element*> out;
    if (type == ElementType::All) {
        out.reserve(elements_.size());
        for (const auto& e : elements_) out.push_back(&e);
        return out;
    }
    const auto& t = types_[static_cast<size_t>(type)];
    out.reserve(t.count);
    for (uint32_t i = 0; i < t.count; ++i) out.push_back(&elements_[t.first_position + i]);
    return out;
}

const Element* Inventory::nth(ElementType type, uint32_t index) const {
    if (type == ElementType::All) return index < elements_.size() ? &elements_[index] : nullptr;
    const auto& t = types_[static_cast<size_t>(type)];
    return index < t.count ? &elements_[t.first_position + index] : nullptr;
}

uint16_t Inventory::first_address(ElementType type) const {
    if (type == ElementType::All) return elements_.empty() ? 0 : elements_.front().address;
    return types_[static_cast<size_t>(type)].first_address;
}

uint32_t Inventory::count(ElementType type) const {
    if (type == ElementType::All) return static_cast<uint32_t>(elements_.size());
    return types_[static_cast<size_t>(type)].count;
}

std::optional<uint16_t> Inventory::find(std::string_view barcode) const {
    const auto it = where_.find(std::string(barcode));
    if (it == where_.end()) return std::nullopt;
    return it->second;
}

Element& Inventory::must(uint16_t address, const char* what) {
    Element* e = at(address);
    if (!e) throw std::logic_error(fmt::format("inventory: {}: no element at 0x{:04X}", what, address));
    return *e;
}

void Inventory::move(uint16_t source, uint16_t destination, bool invert) {
    Element& from = must(source, "move source");
    Element& to = must(destination, "move destination");
    if (!from.full()) throw std::logic_error(fmt::format("inventory: move from empty element 0x{:04X}", source));
    if (to.full()) throw std::logic_error(fmt::format("inventory: move into full element 0x{:04X}", destination));
    const CartridgeId id = *from.cartridge;
    // A cartridge a robot delivers keeps the origin it had when picked: hosts (mtx, ch) read SOURCE
    // ADDRESS to put a cartridge back where it came from, never into the gripper.
    const bool carried = from.type == ElementType::MediumTransport && from.source;
    to.source = carried ? *from.source : source;
    to.cartridge = id;
    to.invert = invert;
    to.impexp = false;
    from.cartridge.reset();
    from.source.reset();
    from.invert = false;
    from.impexp = false;
    where_[cartridges_[id].barcode] = destination;
}

CartridgeId Inventory::insert(uint16_t ie_address, Cartridge cartridge) {
    Element& e = must(ie_address, "insert");
    if (e.type != ElementType::ImportExport) {
        throw std::logic_error(
            fmt::format("inventory: insert into 0x{:04X}, not an import/export element", ie_address));
    }
    if (e.full()) throw std::logic_error(fmt::format("inventory: insert into full element 0x{:04X}", ie_address));
    if (where_.contains(cartridge.barcode)) {
        throw std::logic_error(fmt::format("inventory: barcode {} is already in the library", cartridge.barcode));
    }
    const auto id = static_cast<CartridgeId>(cartridges_.size());
    where_.emplace(cartridge.barcode, ie_address);
    cartridges_.push_back(std::move(cartridge));
    e.cartridge = id;
    e.source.reset();
    e.invert = false;
    e.impexp = true;
    return id;
}

void Inventory::remove(uint16_t ie_address) {
    Element& e = must(ie_address, "remove");
    if (!e.full()) throw std::logic_error(fmt::format("inventory: remove from empty element 0x{:04X}", ie_address));
    where_.erase(cartridges_[*e.cartridge].barcode);
    e.cartridge.reset();
    e.source.reset();
    e.invert = false;
    e.impexp = false;
}

void Inventory::set_exception(uint16_t address, std::optional<scsi::Asc> code) {
    must(address, "exception").exception = code;
}

void Inventory::set_alternate_tag(CartridgeId id, std::string tag) {
    cartridges_.at(id).alternate_tag = std::move(tag);
}

nlohmann::json Inventory::to_json() const {
    nlohmann::json layout = nlohmann::json::object();
    for (auto type :
         {ElementType::MediumTransport, ElementType::ImportExport, ElementType::DataTransfer, ElementType::Storage}) {
        const auto& t = types_[static_cast<size_t>(type)];
        layout[element_type_key(type)] = {{"first", t.first_address}, {"count", t.count}};
    }
    // Only elements that differ from an empty one, so a snapshot grows with the cartridges.
    nlohmann::json elements = nlohmann::json::array();
    for (const auto& e : elements_) {
        if (!e.full() && !e.source && !e.invert && !e.impexp && !e.exception) continue;
        nlohmann::json j = {{"at", e.address}};
        if (e.cartridge) {
            const Cartridge& c = cartridges_[*e.cartridge];
            nlohmann::json cj = {{"barcode", c.barcode}, {"type", config::to_string(c.type)}, {"gen", c.generation}};
            if (c.type_m) cj["type_m"] = true;
            if (!c.alternate_tag.empty()) cj["alt"] = c.alternate_tag;
            j["cartridge"] = std::move(cj);
        }
        if (e.source) j["source"] = *e.source;
        if (e.invert) j["invert"] = true;
        if (e.impexp) j["impexp"] = true;
        if (e.exception) j["except"] = {e.exception->asc, e.exception->ascq};
        elements.push_back(std::move(j));
    }
    return {{"layout", std::move(layout)}, {"elements", std::move(elements)}};
}

void Inventory::from_json(const nlohmann::json& state) {
    try {
        const auto& layout = state.at("layout");
        for (auto type : {ElementType::MediumTransport, ElementType::ImportExport, ElementType::DataTransfer,
                          ElementType::Storage}) {
            const auto& t = types_[static_cast<size_t>(type)];
            const auto& saved = layout.at(element_type_key(type));
            const auto first = saved.at("first").get<uint32_t>();
            const auto count = saved.at("count").get<uint32_t>();
            if (count != t.count || (count != 0 && first != t.first_address)) {
                throw std::runtime_error(fmt::format("{}: the saved state has {}, the config has {}", plural(type),
                                                     span_text(count, first), span_text(t.count, t.first_address)));
            }
        }

        // Build aside and swap in, so a bad state leaves this inventory as it was.
        std::vector<Element> elements = elements_;
        for (auto& e : elements) e = Element{.address = e.address, .type = e.type, .index = e.index};
        std::vector<Cartridge> cartridges;
        std::unordered_map<std::string, uint16_t> where;
        const auto& saved = state.at("elements");
        cartridges.reserve(saved.size());
        where.reserve(saved.size());
        for (const auto& j : saved) {
            const auto address = j.at("at").get<uint32_t>();
            if (address >= kAddressSpace || index_by_address_[address] < 0) {
                throw std::runtime_error(fmt::format("element 0x{:04X} is not in the config's layout", address));
            }
            Element& e = elements[static_cast<size_t>(index_by_address_[address])];
            if (const auto c = j.find("cartridge"); c != j.end()) {
                Cartridge cart;
                cart.barcode = c->at("barcode").get<std::string>();
                if (auto why = config::barcode_error(cart.barcode)) {
                    throw std::runtime_error(
                        fmt::format("element 0x{:04X}: barcode {}: {}", address, config::quote(cart.barcode), *why));
                }
                const auto type = config::media_type_from_string(c->at("type").get<std::string>());
                if (!type) throw std::runtime_error(fmt::format("element 0x{:04X}: unknown media type", address));
                cart.type = *type;
                cart.generation = c->value("gen", 0);
                cart.type_m = c->value("type_m", false);
                cart.alternate_tag = c->value("alt", std::string());
                if (auto [it, fresh] = where.emplace(cart.barcode, static_cast<uint16_t>(address)); !fresh) {
                    throw std::runtime_error(
                        fmt::format("barcode {} is in both 0x{:04X} and 0x{:04X}", cart.barcode, it->second, address));
                }
                e.cartridge = static_cast<CartridgeId>(cartridges.size());
                cartridges.push_back(std::move(cart));
            }
            if (const auto s = j.find("source"); s != j.end()) e.source = s->get<uint16_t>();
            e.invert = j.value("invert", false);
            e.impexp = j.value("impexp", false);
            if (const auto x = j.find("except"); x != j.end()) {
                e.exception = scsi::Asc{x->at(0).get<uint8_t>(), x->at(1).get<uint8_t>()};
            }
        }
        elements_ = std::move(elements);
        cartridges_ = std::move(cartridges);
        where_ = std::move(where);
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(fmt::format("malformed inventory state: {}", e.what()));
    }
}

}  // namespace vtl::smc
