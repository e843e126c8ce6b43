#include "config/catalog.h"

#include <array>

namespace vtl::config {

namespace {

constexpr std::array kPersonalities = {
    Personality::Generic,        Personality::IbmTs4500,    Personality::IbmTs3500, Personality::SpectraTfinity,
    Personality::QuantumI6000, Personality::HpeMsl, Personality::StkSl,
};

constexpr std::array kDriveModels = {
    DriveModel{"ULT3580-TD5", DriveVendor::Ibm, 5, false},    DriveModel{"ULT3580-TD6", DriveVendor::Ibm, 6, false},
    DriveModel{"ULT3580-TD7", DriveVendor::Ibm, 7, false},    DriveModel{"ULT3580-TD8", DriveVendor::Ibm, 8, false},
    DriveModel{"ULT3580-TD9", DriveVendor::Ibm, 9, false},    DriveModel{"ULT3580-HH5", DriveVendor::Ibm, 5, true},
    DriveModel{"ULT3580-HH6", DriveVendor::Ibm, 6, true},     DriveModel{"ULT3580-HH7", DriveVendor::Ibm, 7, true},
    DriveModel{"ULT3580-HH8", DriveVendor::Ibm, 8, true},     DriveModel{"ULT3580-HH9", DriveVendor::Ibm, 9, true},
    DriveModel{"Ultrium 5-SCSI", DriveVendor::Hpe, 5, false}, DriveModel{"Ultrium 6-SCSI", DriveVendor::Hpe, 6, false},
    DriveModel{"Ultrium 7-SCSI", DriveVendor::Hpe, 7, false}, DriveModel{"Ultrium 8-SCSI", DriveVendor::Hpe, 8, false},
    DriveModel{"Ultrium 9-SCSI", DriveVendor::Hpe, 9, false},
};

}  // namespace

std::string_view to_string(Personality p) {
    switch (p) {
        case Personality::Generic: return "generic";
        case Personality::IbmTs4500: return "ibm-ts4500";
        case Personality::IbmTs3500: return "ibm-ts3500";
        case Personality::SpectraTfinity: return "spectra-tfinity";
        case Personality::QuantumI6000: return "quantum-i6000";
        case Personality::HpeMsl: return "hpe-msl";
        case Personality::StkSl: return "stk-sl";
    }
    return "?";
}

std::optional<Personality> personality_from_string(std::string_view name) {
    for (auto p : kPersonalities) {
        if (to_string(p) == name) return p;
    }
    return std::nullopt;
}

std::span<const Personality> personalities() { return kPersonalities; }

AddressBases default_addresses(Personality p) {
    if (p == Personality::IbmTs4500 || p == Personality::IbmTs3500) {
        // 3584 numbering: accessor 1, drives from 257, I/O stations from 769, storage from 1025.
        return AddressBases{.transport = 0x0001, .ie = 0x0301, .drive = 0x0101, .slot = 0x0401};
    }
    return AddressBases{};
}

std::span<const DriveModel> drive_models() { return kDriveModels; }

const DriveModel* find_drive_model(std::string_view name) {
    for (const auto& m : kDriveModels) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

}  // namespace vtl::config
