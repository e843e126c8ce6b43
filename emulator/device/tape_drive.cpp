#include "device/tape_drive.h"

#include "core/logical_unit.h"
#include "scsi/bytes.h"
#include "spc/spc.h"

namespace vtl {

namespace {
constexpr size_t kBlockDescriptorLength = 8;
constexpr uint32_t kMaxFixedBlockLength = 0xFFFFFF;
}  // namespace

TapeDrive::TapeDrive(DeviceIdentity identity) : identity_(std::move(identity)) {
    identity_.type = PeripheralType::SequentialAccess;
}

void TapeDrive::attach(LogicalUnit& lu) { register_spc(lu); }

std::optional<scsi::Sense> TapeDrive::readiness() const {
    return scsi::Sense::not_ready(scsi::asc::kMediumNotPresent);
}

std::vector<uint8_t> TapeDrive::mode_block_descriptors() const {
    std::vector<uint8_t> d;
    scsi::ByteWriter(d).u8(density_code_).be24(0).u8(0).be24(block_length_);
    return d;
}

std::optional<scsi::Sense> TapeDrive::mode_select_header(uint8_t, std::span<const uint8_t> block_descriptors,
                                                         size_t offset) {
    if (block_descriptors.empty()) return std::nullopt;
    if (block_descriptors.size() != kBlockDescriptorLength) {
        return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(offset - 1));  // the length field
    }
    const uint32_t length = scsi::get_be24(&block_descriptors[5]);
    if (length > kMaxFixedBlockLength) return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(offset + 5));
    // Density 0 (or 7Fh) keeps the current density; others need a cartridge to check against.
    density_code_ = (block_descriptors[0] == 0 || block_descriptors[0] == 0x7F) ? density_code_ : block_descriptors[0];
    block_length_ = length;
    return std::nullopt;
}

}  // namespace vtl
