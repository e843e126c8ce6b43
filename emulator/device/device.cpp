#include "device/device.h"

namespace vtl {

std::optional<scsi::Sense> Device::mode_select_header(uint8_t, std::span<const uint8_t> block_descriptors,
                                                      size_t offset) {
    // No block descriptors unless the device defines them. The device-specific byte is
    // ignored on MODE SELECT for devices that give it no meaning (SPC-4 7.5.5).
    if (!block_descriptors.empty()) return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(offset));
    return std::nullopt;
}

}  // namespace vtl
