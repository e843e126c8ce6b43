// The SSC tape drive device (peripheral type 01h) and its mechanism: the library's robot puts a
// cartridge into its mouth, the drive loads and threads it, and unloads it again on request.
// The SSC data commands and the cartridge store arrive with the tape drive issue.
#pragma once

#include <optional>
#include <vector>

#include "core/clock.h"
#include "device/device.h"
#include "device/drive_mechanism.h"

namespace vtl {

// What the drive's model and the library's timings say about its mechanism.
struct DriveMechanics {
    int generation = 0;  // LTO generation of the drive; 0 accepts any medium
    Duration load{};     // from the mouth to ready, threading included (config timings.load)
    Duration unload{};   // from ready to the mouth (config timings.unload)
};

// LTO media rules (IBM and HPE compatibility tables): LTO-5..7 drives read media two generations
// back and write one back; LTO-8 reads and writes LTO-7 and LTO-8 only, plus LTO-7 Type M (M8),
// which no other generation accepts (IBM: M8 is "LTO8" only, LTO-9 drives refuse it); LTO-9
// reads and writes LTO-8 and LTO-9. A cartridge of unknown generation is accepted.
bool lto_readable(int drive_generation, const smc::Cartridge& cartridge);
bool lto_writable(int drive_generation, const smc::Cartridge& cartridge);

class TapeDrive final : public Device, public DriveMechanism {
public:
    explicit TapeDrive(DeviceIdentity identity, DriveMechanics mechanics = {});
    ~TapeDrive() override;
    const DeviceIdentity& identity() const override { return identity_; }
    void attach(LogicalUnit& lu) override;

    // Empty or ejected: 02/3A/00; loading: 02/04/01; unloading: 02/04/00 (HP's LTO reference
    // reports 04/00 "for the duration of the unload or eject", then 3A/00); loaded: ready.
    std::optional<scsi::Sense> readiness() const override;
    // Buffered mode 1 (SSC-4 8.3.3), no write protection without a cartridge.
    uint8_t mode_device_specific() const override { return 0x10; }
    // One 8-byte block descriptor: density code, blocks (0), block length (0 = variable).
    std::vector<uint8_t> mode_block_descriptors() const override;
    std::optional<scsi::Sense> mode_select_header(uint8_t device_specific,
                                                  std::span<const uint8_t> block_descriptors,
                                                  size_t offset) override;

    // DriveMechanism.
    State state() const override { return state_; }
    // Loads after `load` time and raises 28/00 on every nexus. A cleaning cartridge runs its
    // cycle for the load time and is then ejected by the drive; a medium the drive cannot read
    // is ejected after the load time with 05/30/00.
    void insert(const smc::Cartridge& cartridge, Done done) override;
    void eject(Done done) override;
    void removed() override;
    bool removal_prevented() const override;

    // After a restart: the saved inventory puts `cartridge` in this drive. A readable data
    // cartridge is loaded again (no 28/00: every nexus owes 29/00 anyway); others sit ejected.
    void restore(const smc::Cartridge& cartridge);
    const std::optional<smc::Cartridge>& cartridge() const { return cartridge_; }
    const DriveMechanics& mechanics() const { return mechanics_; }

private:
    void set_timer(Duration after, std::function<void()> then);
    void loaded();
    void unloaded();

    DeviceIdentity identity_;
    DriveMechanics mechanics_;
    LogicalUnit* lu_ = nullptr;
    Clock* clock_ = nullptr;  // the logical unit's, kept for the destructor
    uint8_t density_code_ = 0;
    uint32_t block_length_ = 0;  // 0: variable-block mode

    State state_ = State::Empty;
    std::optional<smc::Cartridge> cartridge_;
    Clock::TimerId timer_ = 0;
    Done load_done_;                 // the insert in progress
    std::vector<Done> unload_done_;  // everyone waiting for the cartridge to reach the mouth
};

}  // namespace vtl
