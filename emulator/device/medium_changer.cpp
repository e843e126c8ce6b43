#include "device/medium_changer.h"

#include "core/logical_unit.h"
#include "spc/spc.h"

namespace vtl {

MediumChanger::MediumChanger(DeviceIdentity identity) : identity_(std::move(identity)) {
    identity_.type = PeripheralType::MediumChanger;
}

void MediumChanger::attach(LogicalUnit& lu) { register_spc(lu); }

}  // namespace vtl
