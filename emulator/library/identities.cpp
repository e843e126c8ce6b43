#include "library/identities.h"

#include <fmt/format.h>

#include "device/identity.h"

namespace vtl::library {

namespace {

constexpr size_t kVendorWidth = 8;
constexpr size_t kProductWidth = 16;
constexpr size_t kRevisionWidth = 4;

struct ChangerStrings {
    std::string_view vendor;
    std::string_view product;
    uint32_t oui;
};

// What each personality's library reports in its standard INQUIRY data.
ChangerStrings changer_strings(config::Personality p) {
    using config::Personality;
    switch (p) {
        case Personality::Generic: return {"VTL", "VLIB-GENERIC", kOuiNeutral};
        case Personality::IbmTs4500: return {"IBM", "3584L25", kOuiIbm};
        case Personality::IbmTs3500: return {"IBM", "03584L32", kOuiIbm};
        case Personality::SpectraTfinity: return {"SPECTRA", "TFINITY", kOuiNeutral};
        case Personality::QuantumI6000: return {"QUANTUM", "Scalar i6000", kOuiNeutral};
        case Personality::HpeMsl: return {"HP", "MSL G3 Series", kOuiHpe};
        case Personality::StkSl: return {"STK", "SL8500", kOuiNeutral};
    }
    return {"VTL", "VLIB-GENERIC", kOuiNeutral};
}

DeviceIdentity make(PeripheralType type, std::string_view vendor, std::string_view product, std::string serial,
                    uint32_t oui, const std::string& seed, uint16_t command_set) {
    DeviceIdentity id;
    id.type = type;
    id.removable = true;
    id.vendor = inquiry_field(vendor, kVendorWidth);
    id.product = inquiry_field(product, kProductWidth);
    id.revision = inquiry_field(kRevision, kRevisionWidth);
    id.serial = std::move(serial);
    id.naa = naa_registered(oui, seed);
    id.version_descriptors = {version::kSam5, version::kSpc4, command_set};
    return id;
}

}  // namespace

std::string inquiry_field(std::string_view text, size_t width) {
    std::string out(text.substr(0, width));
    out.resize(width, ' ');
    return out;
}

std::string_view trimmed(std::string_view field) {
    while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
    return field;
}

DeviceIdentity changer_identity(const config::LibraryConfig& lib) {
    const ChangerStrings s = changer_strings(lib.personality);
    return make(PeripheralType::MediumChanger, s.vendor, s.product, lib.serial, s.oui,
                fmt::format("{}/{}/{}", lib.name, lib.changer, lib.serial), version::kSmc3);
}

DeviceIdentity drive_identity(const config::LibraryConfig& lib, const config::DriveConfig& drive) {
    const config::DriveModel* model = config::find_drive_model(drive.model);
    const bool hpe = model && model->vendor == config::DriveVendor::Hpe;
    return make(PeripheralType::SequentialAccess, hpe ? "HP" : "IBM", drive.model, drive.serial, hpe ? kOuiHpe : kOuiIbm,
                fmt::format("{}/{}/{}", lib.name, drive.name, drive.serial), version::kSsc4);
}

}  // namespace vtl::library
