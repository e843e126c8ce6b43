#include "smc/traits.h"

namespace vtl::smc {

namespace {

// E7h: IBM, Quantum and Spectra document INITIALIZE ELEMENT STATUS WITH RANGE under this vendor
// opcode; HPE MSL and StorageTek SL libraries use only the T10 37h.
// ACCESS=0 while threaded: IBM 3584-family libraries (TS3500, TS4500) report a loaded DTE as not
// accessible until the drive has unloaded, and refuse to pick from it; CERN's rmcd polls for it.
// The other libraries unload the drive themselves as part of MOVE MEDIUM.
constexpr ChangerTraits kGeneric{.accepts_e7 = false, .access_zero_while_threaded = false, .implicit_unload = true,
                                 .dvcid = DvcidFormat::SerialOnly};
constexpr ChangerTraits kIbm{.accepts_e7 = true, .access_zero_while_threaded = true, .implicit_unload = false,
                             .dvcid = DvcidFormat::VendorProductSerial};
constexpr ChangerTraits kSpectra{.accepts_e7 = true, .access_zero_while_threaded = false, .implicit_unload = true,
                                 .dvcid = DvcidFormat::VendorProductSerial};
// Quantum Scalar libraries identify a DTE by the drive's T10 vendor, product and serial.
constexpr ChangerTraits kQuantum{.accepts_e7 = true, .access_zero_while_threaded = false, .implicit_unload = true,
                                 .dvcid = DvcidFormat::VendorProductSerial};
constexpr ChangerTraits kHpe{.accepts_e7 = false, .access_zero_while_threaded = false, .implicit_unload = true,
                             .dvcid = DvcidFormat::SerialOnly};
constexpr ChangerTraits kStk{.accepts_e7 = false, .access_zero_while_threaded = false, .implicit_unload = true,
                             .dvcid = DvcidFormat::SerialOnly};

}  // namespace

const ChangerTraits& traits(config::Personality personality) {
    switch (personality) {
        case config::Personality::Generic: return kGeneric;
        case config::Personality::IbmTs4500:
        case config::Personality::IbmTs3500: return kIbm;
        case config::Personality::SpectraTfinity: return kSpectra;
        case config::Personality::QuantumI6000: return kQuantum;
        case config::Personality::HpeMsl: return kHpe;
        case config::Personality::StkSl: return kStk;
    }
    return kGeneric;
}

}  // namespace vtl::smc
