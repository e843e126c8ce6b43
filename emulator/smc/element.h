// SMC-3 elements and the cartridges they hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/barcode.h"
#include "scsi/status.h"

namespace vtl::smc {

// ELEMENT TYPE CODE (SMC-3 table 15); All (0) only selects in READ ELEMENT STATUS.
enum class ElementType : uint8_t { All = 0, MediumTransport = 1, Storage = 2, ImportExport = 3, DataTransfer = 4 };

// "transport", "slot", "ie", "drive" (the config's [library.addresses] keys, and the names the
// saved layout, the inventory JSON and the management API use); "?" for All.
const char* element_type_key(ElementType type);

using CartridgeId = uint32_t;

struct Cartridge {
    std::string barcode;  // primary volume tag
    config::MediaType type = config::MediaType::Data;
    int generation = 0;   // LTO generation of the medium, 0 when unknown
    bool type_m = false;  // LTO-7 Type M (formatted for LTO-8)
    std::string alternate_tag;  // alternate volume tag, empty when none
};

struct Element {
    uint16_t address = 0;
    ElementType type = ElementType::Storage;
    uint32_t index = 0;  // 0-based within its type: slot n is index n-1, drive0 is index 0
    std::optional<CartridgeId> cartridge;
    std::optional<uint16_t> source;  // where the medium was before it came here (SVALID)
    bool invert = false;
    bool impexp = false;                 // import/export: placed by an operator (1) or the robot (0)
    std::optional<scsi::Asc> exception;  // EXCEPT with its ASC/ASCQ

    bool full() const { return cartridge.has_value(); }
};

}  // namespace vtl::smc
