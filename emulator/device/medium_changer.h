// The SMC medium changer device (peripheral type 08h): the SPC commands, and the SMC-3 commands
// and pages that drive its library's state machine.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "device/device.h"

namespace vtl {

namespace library {
class Library;
}

class MediumChanger final : public Device {
public:
    // SPC only, with no element model: for tests of the SPC layer.
    explicit MediumChanger(DeviceIdentity identity);
    // The changer of `library`, which outlives it (the library owns the logical unit).
    MediumChanger(DeviceIdentity identity, library::Library& library);

    const DeviceIdentity& identity() const override { return identity_; }
    void attach(LogicalUnit& lu) override;
    // Not ready (02/04/01) while an INITIALIZE ELEMENT STATUS scans; ready otherwise.
    std::optional<scsi::Sense> readiness() const override;
    void on_lun_reset() override;
    void on_nexus_loss(const Nexus& nexus) override;

    library::Library& library() { return *library_; }

    // INITIALIZE ELEMENT STATUS (any form) started or ended.
    void initialization_started() { ++initializing_; }
    void initialization_ended() { if (initializing_ > 0) --initializing_; }

    // The last SEND VOLUME TAG translate of each I_T nexus, for REQUEST VOLUME ELEMENT ADDRESS.
    struct Translation {
        uint8_t action = 0;
        std::vector<uint16_t> addresses;  // ascending
    };
    std::map<std::string, Translation>& translations() { return translations_; }  // by Nexus::key()

private:
    DeviceIdentity identity_;
    library::Library* library_ = nullptr;
    int initializing_ = 0;
    std::map<std::string, Translation> translations_;
};

}  // namespace vtl
