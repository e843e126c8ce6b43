#include "ssc/drive_models.h"

#include <array>

namespace vtl::ssc {

namespace {

constexpr uint64_t kTB = 1000ull * 1000 * 1000 * 1000;

constexpr std::array kDensities = {
    Density{0x58, 5, false, 15142, 1280, 15 * kTB / 10, 846, "U-516", "Ultrium 5/16T"},
    Density{0x5A, 6, false, 15142, 2176, 25 * kTB / 10, 846, "U-616", "Ultrium 6/16T"},
    Density{0x5C, 7, false, 19107, 3584, 6 * kTB, 960, "U-732", "Ultrium 7/32T"},
    Density{0x5D, 7, true, 19107, 5376, 9 * kTB, 960, "U-732M", "Ultrium M8/32T"},
    Density{0x5E, 8, false, 20668, 6656, 12 * kTB, 960, "U-832", "Ultrium 8/32T"},
    Density{0x60, 9, false, 23031, 8960, 18 * kTB, 1035, "U-932", "Ultrium 9/32T"},
};

// Firmware levels: plausible for each family, and above the minimum levels LTFS checks for.
constexpr std::array kModels = {
    ModelInfo{"ULT3580-TD5", config::DriveVendor::Ibm, 5, "H976"},
    ModelInfo{"ULT3580-TD6", config::DriveVendor::Ibm, 6, "J451"},
    ModelInfo{"ULT3580-TD7", config::DriveVendor::Ibm, 7, "M9M1"},
    ModelInfo{"ULT3580-TD8", config::DriveVendor::Ibm, 8, "N9M1"},
    ModelInfo{"ULT3580-TD9", config::DriveVendor::Ibm, 9, "Q3F5"},
    ModelInfo{"ULT3580-HH5", config::DriveVendor::Ibm, 5, "H976"},
    ModelInfo{"ULT3580-HH6", config::DriveVendor::Ibm, 6, "J451"},
    ModelInfo{"ULT3580-HH7", config::DriveVendor::Ibm, 7, "M9M1"},
    ModelInfo{"ULT3580-HH8", config::DriveVendor::Ibm, 8, "N9M1"},
    ModelInfo{"ULT3580-HH9", config::DriveVendor::Ibm, 9, "Q3F5"},
    ModelInfo{"Ultrium 5-SCSI", config::DriveVendor::Hpe, 5, "Z6ED"},
    ModelInfo{"Ultrium 6-SCSI", config::DriveVendor::Hpe, 6, "J5SW"},
    ModelInfo{"Ultrium 7-SCSI", config::DriveVendor::Hpe, 7, "P9DW"},
    ModelInfo{"Ultrium 8-SCSI", config::DriveVendor::Hpe, 8, "J4DB"},
    ModelInfo{"Ultrium 9-SCSI", config::DriveVendor::Hpe, 9, "K3DW"},
};

}  // namespace

std::span<const Density> densities() { return kDensities; }

const Density* density_by_code(uint8_t code) {
    for (const auto& d : kDensities) {
        if (d.code == code) return &d;
    }
    return nullptr;
}

const Density* density_of(int generation, bool type_m) {
    for (const auto& d : kDensities) {
        if (d.generation == generation && d.type_m == type_m) return &d;
    }
    return nullptr;
}

const ModelInfo* model_info(std::string_view product) {
    for (const auto& m : kModels) {
        if (m.product == product) return &m;
    }
    return nullptr;
}

uint8_t mode_medium_type(config::DriveVendor vendor, int medium_generation, bool worm) {
    if (vendor != config::DriveVendor::Ibm || medium_generation <= 0) return 0x00;
    return static_cast<uint8_t>(medium_generation << 4 | (worm ? 0x0C : 0x08));
}

}  // namespace vtl::ssc
