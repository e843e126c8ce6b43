// The SSC tape drive device (peripheral type 01h). This foundation answers the SPC commands
// for an empty drive; the cartridge store and SSC commands arrive with the tape drive issue.
#pragma once

#include "device/device.h"

namespace vtl {

class TapeDrive final : public Device {
public:
    explicit TapeDrive(DeviceIdentity identity);
    const DeviceIdentity& identity() const override { return identity_; }
    void attach(LogicalUnit& lu) override;

    // No cartridge yet: 02/3A/00 MEDIUM NOT PRESENT.
    std::optional<scsi::Sense> readiness() const override;
    // Buffered mode 1 (SSC-4 8.3.3), no write protection without a cartridge.
    uint8_t mode_device_specific() const override { return 0x10; }
    // One 8-byte block descriptor: density code, blocks (0), block length (0 = variable).
    std::vector<uint8_t> mode_block_descriptors() const override;
    std::optional<scsi::Sense> mode_select_header(uint8_t device_specific,
                                                  std::span<const uint8_t> block_descriptors,
                                                  size_t offset) override;

private:
    DeviceIdentity identity_;
    uint8_t density_code_ = 0;
    uint32_t block_length_ = 0;  // 0: variable-block mode
};

}  // namespace vtl
