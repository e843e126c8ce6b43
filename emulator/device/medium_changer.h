// The SMC medium changer device (peripheral type 08h). This foundation answers the SPC
// commands; the element model and SMC commands arrive with the library state machine.
#pragma once

#include "device/device.h"

namespace vtl {

class MediumChanger final : public Device {
public:
    explicit MediumChanger(DeviceIdentity identity);
    const DeviceIdentity& identity() const override { return identity_; }
    void attach(LogicalUnit& lu) override;

private:
    DeviceIdentity identity_;
};

}  // namespace vtl
