// What the emulated LTO drive models report about themselves and the formats they handle:
// INQUIRY revisions, block limits, density codes with the facts REPORT DENSITY SUPPORT gives,
// native capacities and the medium type codes of the mode parameter header.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "config/catalog.h"

namespace vtl::ssc {

// Block limits (READ BLOCK LIMITS). LTO drives accept records up to 8 MiB; tcm_loop carries at
// most 1 MiB per command, so larger records need the iSCSI path (see docs/ssc-drive.md).
inline constexpr uint32_t kMaxBlockLength = 8u << 20;
inline constexpr uint32_t kMinBlockLength = 1;
inline constexpr uint8_t kBlockGranularity = 0;  // 2^0: any length

// LTO tape is 12.65 mm wide: 127 tenths of a millimetre, as REPORT DENSITY SUPPORT rounds it.
inline constexpr uint16_t kMediaWidthTenthsMm = 127;
inline constexpr std::string_view kAssigningOrganization = "LTO-CVE";

// One LTO recording format.
struct Density {
    uint8_t code = 0;          // density code (mode block descriptor, REPORT DENSITY SUPPORT)
    int generation = 0;        // LTO generation of the format
    bool type_m = false;       // LTO-7 medium in LTO-8 Type M format (M8)
    uint32_t bits_per_mm = 0;  // linear density
    uint16_t tracks = 0;
    uint64_t capacity = 0;     // native bytes
    uint16_t length_m = 0;     // medium length in metres
    std::string_view name;         // DENSITY NAME (8 ASCII)
    std::string_view description;  // DESCRIPTION (20 ASCII)
};

// Every format, ascending by density code: 58h LTO-5, 5Ah LTO-6, 5Ch LTO-7, 5Dh M8, 5Eh LTO-8,
// 60h LTO-9.
std::span<const Density> densities();
const Density* density_by_code(uint8_t code);
// The format of a medium of this generation; nullptr for an unknown generation.
const Density* density_of(int generation, bool type_m);

struct ModelInfo {
    std::string_view product;   // INQUIRY PRODUCT IDENTIFICATION, as the config names the model
    config::DriveVendor vendor;
    int generation = 0;
    std::string_view revision;  // INQUIRY PRODUCT REVISION LEVEL (firmware level)
};

// The model table; nullptr for a product the config does not know.
const ModelInfo* model_info(std::string_view product);

// MEDIUM TYPE of the mode parameter header. IBM drives report the cartridge type there
// (LTO-n data n8h, WORM nCh; LTFS reads it); HPE drives report 00h.
uint8_t mode_medium_type(config::DriveVendor vendor, int medium_generation, bool worm);

}  // namespace vtl::ssc
