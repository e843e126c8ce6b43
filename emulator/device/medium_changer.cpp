#include "device/medium_changer.h"

#include "core/logical_unit.h"
#include "smc/smc.h"
#include "spc/spc.h"

namespace vtl {

MediumChanger::MediumChanger(DeviceIdentity identity) : identity_(std::move(identity)) {
    identity_.type = PeripheralType::MediumChanger;
}

MediumChanger::MediumChanger(DeviceIdentity identity, library::Library& library)
    : identity_(std::move(identity)), library_(&library) {
    identity_.type = PeripheralType::MediumChanger;
}

void MediumChanger::attach(LogicalUnit& lu) {
    register_spc(lu);
    if (!library_) return;
    // The library is still being built when its logical units attach: handlers and pages only
    // keep references here and read its state when they run.
    smc::register_element_status_commands(lu, *this);
    smc::register_move_commands(lu, *this);
    smc::register_async_move_commands(lu, *this);
    smc::register_initialize_commands(lu, *this);
    smc::register_volume_tag_commands(lu, *this);
    smc::register_ie_commands(lu, *this);
    smc::register_smc_pages(lu, *this);
}

std::optional<scsi::Sense> MediumChanger::readiness() const {
    if (initializing_ > 0) return scsi::Sense::not_ready(scsi::asc::kBecomingReady);
    return std::nullopt;
}

void MediumChanger::on_lun_reset() { translations_.clear(); }

void MediumChanger::on_nexus_loss(const Nexus& nexus) { translations_.erase(nexus.key()); }

}  // namespace vtl
