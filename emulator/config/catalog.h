// What the config may name: library personalities and drive models, with the facts the config
// needs about them (default element addresses, drive vendor and generation).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace vtl::config {

enum class Personality { Generic, IbmTs4500, IbmTs3500, SpectraTfinity, QuantumI6000, HpeMsl, StkSl };

// First element address of each element type (SMC-3 element addresses).
struct AddressBases {
    uint16_t transport = 0x0000;
    uint16_t ie = 0x0010;
    uint16_t drive = 0x0100;
    uint16_t slot = 0x1000;

    bool operator==(const AddressBases&) const = default;
};

std::string_view to_string(Personality p);
std::optional<Personality> personality_from_string(std::string_view name);
std::span<const Personality> personalities();
// IBM personalities number elements the way the 3584 does; the others use the generic bases.
AddressBases default_addresses(Personality p);

enum class DriveVendor { Ibm, Hpe };

struct DriveModel {
    std::string_view name;  // as the config spells it and INQUIRY reports it
    DriveVendor vendor;
    int generation;         // LTO generation
    bool half_height;
};

std::span<const DriveModel> drive_models();
const DriveModel* find_drive_model(std::string_view name);

}  // namespace vtl::config
