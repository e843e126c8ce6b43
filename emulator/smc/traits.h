// How each library personality behaves where SMC leaves room (SMC-3 and vendor manuals).
#pragma once

#include "config/catalog.h"

namespace vtl::smc {

// What the DTE's device identifier (READ ELEMENT STATUS with DVCID=1) holds.
enum class DvcidFormat {
    SerialOnly,             // ASCII drive serial number
    VendorProductSerial,    // ASCII: vendor (8) + product (16) + serial, as IBM and Spectra report
};

struct ChangerTraits {
    bool accepts_e7;                  // vendor INITIALIZE ELEMENT STATUS WITH RANGE (E7h)
    bool access_zero_while_threaded;  // IBM: a DTE reports ACCESS=0 until the drive has unloaded
    bool implicit_unload;             // a move out of a loaded drive unloads it; else it is refused
    DvcidFormat dvcid;
};

const ChangerTraits& traits(config::Personality personality);

}  // namespace vtl::smc
