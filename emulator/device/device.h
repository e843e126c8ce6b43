// Device semantics behind one logical unit: a tape drive, a medium changer. The logical unit
// owns queueing, task management, unit attentions and reservations; a Device adds its own
// commands and pages and answers the few questions SPC commands ask of it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/task.h"
#include "scsi/sense.h"

namespace vtl {

class LogicalUnit;

// SPC peripheral device types this project serves.
enum class PeripheralType : uint8_t { SequentialAccess = 0x01, MediumChanger = 0x08 };

struct DeviceIdentity {
    PeripheralType type = PeripheralType::SequentialAccess;
    bool removable = true;               // INQUIRY RMB
    std::string vendor;                  // 8 ASCII
    std::string product;                 // 16 ASCII
    std::string revision;                // 4 ASCII
    std::string serial;                  // VPD 80h and the T10 vendor id designator
    uint64_t naa = 0;                    // VPD 83h NAA IEEE Registered (5h) designator
    std::vector<uint16_t> version_descriptors;  // INQUIRY bytes 58-73
};

class Device {
public:
    virtual ~Device() = default;

    virtual const DeviceIdentity& identity() const = 0;

    // Called once when the logical unit is built: add commands, mode, log and VPD pages.
    virtual void attach(LogicalUnit& lu) = 0;

    // TEST UNIT READY and REQUEST SENSE: the reason the device is not ready, if any.
    virtual std::optional<scsi::Sense> readiness() const { return std::nullopt; }

    // Mode parameter header DEVICE-SPECIFIC PARAMETER (tape: WP, buffered mode, speed).
    virtual uint8_t mode_device_specific() const { return 0; }
    // Mode parameter header MEDIUM TYPE (IBM tape drives report the mounted cartridge's type).
    // MODE SELECT accepts 0 or this value back, as hosts echo the header they read.
    virtual uint8_t mode_medium_type() const { return 0; }
    // Block descriptors for MODE SENSE (tape has one; a changer none).
    virtual std::vector<uint8_t> mode_block_descriptors() const { return {}; }
    // MODE SELECT: validate and apply the device-specific byte and block descriptors. `offset`
    // is where the descriptors start in the parameter list, for field pointers. Must change
    // nothing when it returns an error.
    virtual std::optional<scsi::Sense> mode_select_header(uint8_t device_specific,
                                                          std::span<const uint8_t> block_descriptors,
                                                          size_t offset);

    virtual void on_lun_reset() {}
    virtual void on_nexus_loss(const Nexus&) {}
    // PREVENT ALLOW MEDIUM REMOVAL changed the LU's overall state.
    virtual void on_medium_removal_prevented(bool) {}
};

}  // namespace vtl
