// The library's elements and cartridges: where every cartridge is. Pure state with no time and
// no checks of SCSI rules (the Library applies those); every change is one method, so
// persistence can journal it.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/config.h"
#include "smc/element.h"

namespace vtl::smc {

class Inventory {
public:
    // Elements from the config's counts and address bases; configured cartridges in their slots.
    explicit Inventory(const config::LibraryConfig& config);

    // nullptr when no element has that address.
    Element* at(uint16_t address);
    const Element* at(uint16_t address) const;
    // Every element in ascending address order, and those of one type (also ascending).
    std::span<const Element> all() const { return elements_; }
    std::vector<const Element*> of_type(ElementType type) const;
    // Element of a type by its 0-based index (slot n -> index n-1).
    const Element* nth(ElementType type, uint32_t index) const;
    uint16_t first_address(ElementType type) const;
    uint32_t count(ElementType type) const;

    const Cartridge& cartridge(CartridgeId id) const { return cartridges_.at(id); }
    // Address of the element holding the barcode, if it is in the library.
    std::optional<uint16_t> find(std::string_view barcode) const;

    // Moves the medium from `source` to `destination` (both must exist; `source` full,
    // `destination` empty). Sets the destination's SOURCE ADDRESS and INVERT. Clears IMPEXP.
    // Out of a medium transport, SOURCE ADDRESS is where the robot picked the medium (its own
    // SOURCE ADDRESS), never the robot. Misuse throws std::logic_error.
    void move(uint16_t source, uint16_t destination, bool invert = false);
    // An operator puts a new cartridge into an empty import/export element (IMPEXP=1).
    CartridgeId insert(uint16_t ie_address, Cartridge cartridge);
    // An operator takes a cartridge out of an import/export element; it leaves the library.
    void remove(uint16_t ie_address);
    void set_exception(uint16_t address, std::optional<scsi::Asc> code);
    // Alternate/primary tags from SEND VOLUME TAG (assert/replace/undefine).
    void set_alternate_tag(CartridgeId id, std::string tag);

    // Whole state, for snapshots; from_json replaces this inventory's state after checking it
    // matches the element layout (throws std::runtime_error with a precise reason otherwise).
    nlohmann::json to_json() const;
    void from_json(const nlohmann::json& state);

private:
    struct TypeInfo {
        uint16_t first_address = 0;
        uint32_t count = 0;
        uint32_t first_position = 0;  // in elements_: a type's addresses are contiguous
    };
    Element& must(uint16_t address, const char* what);

    std::vector<Element> elements_;                 // ascending address
    std::vector<int32_t> index_by_address_;         // 65,536 entries, -1 when absent
    std::vector<Cartridge> cartridges_;             // by CartridgeId; removed ones keep their slot
    std::unordered_map<std::string, uint16_t> where_;  // barcode -> element address
    std::array<TypeInfo, 5> types_{};                // by ElementType
};

}  // namespace vtl::smc
