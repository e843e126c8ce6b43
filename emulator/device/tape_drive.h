// The SSC tape drive device (peripheral type 01h) and its mechanism: the library's robot puts a
// cartridge into its mouth, the drive loads and threads it, and unloads it again on request.
//
// Built with DriveServices (a cartridge store and an I/O executor), the drive serves the SSC
// command set (emulator/ssc/) over the cartridge store. Without them it is the SPC-only drive
// the SPC tests use: no medium ever mounts.
//
// Threading. Everything here is the library's clock work (its thread, or a transport thread in
// Clock::execute, under the clock's work lock) except store I/O: the data and motion commands
// hand their store operation to the drive's IoExecutor (inline in tests) with run_job(); the
// work reads a MediumSnapshot after the operation and posts it back, and the clock work applies
// it to the TapeState (the one owner of the position), waits the motion's time on the clock,
// then completes the task. The cartridge object is only touched by executor work, in
// submission order.
//
// In the daemon a READ or WRITE from TCMU runs on the drive's device thread from end to end: it
// takes the work lock for the logical unit and the drive's state, runs the store I/O with the
// lock released (the executor runs it on the submitting thread), and takes the lock again to
// apply the snapshot and complete. The one work lock, rather than a mutex per drive, is what
// serializes a robot load or unload (the changer's work, on the clock thread or the changer's
// device thread) with the drive's data commands: both touch this object's state only under
// it, and the store side of a load or unload (open, close_medium) is executor work queued in
// order behind the drive's data I/O. Store I/O, the slow part, never holds it, so drives still
// move data in parallel.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/task.h"
#include "device/device.h"
#include "device/drive_mechanism.h"
#include "ssc/drive_models.h"
#include "ssc/io_executor.h"
#include "ssc/tape_alert.h"
#include "ssc/tape_state.h"

namespace vtl {

namespace storage {
class Cartridge;
class Store;
}  // namespace storage

// What the drive's model and the library's timings say about its mechanism.
struct DriveMechanics {
    int generation = 0;  // LTO generation of the drive; 0 accepts any medium
    Duration load{};     // from the mouth to ready, threading included (config timings.load)
    Duration unload{};   // from ready to the mouth (config timings.unload)
    config::MotionTime rewind{};  // config timings.rewind
    config::MotionTime locate{};  // config timings.locate (LOCATE and SPACE)
    uint32_t clean_after_loads = 0;  // TapeAlert 15h after this many loads (0: never)
    uint32_t clean_after_gb = 0;     // ... or this many GB moved
};

// What the config says about one cartridge.
struct CartridgeSettings {
    std::optional<uint64_t> capacity;  // for a cartridge the store creates; else native
    bool write_protected = false;
};

// What a drive needs from its library to serve SSC.
struct DriveServices {
    storage::Store* store = nullptr;                  // outlives the drive
    std::unique_ptr<ssc::IoExecutor> executor;        // inline when null
    std::function<CartridgeSettings(const std::string& barcode)> settings;
};

// LTO media rules (IBM and HPE compatibility tables): LTO-5..7 drives read media two generations
// back and write one back; LTO-8 reads and writes LTO-7 and LTO-8 only, plus LTO-7 Type M (M8),
// which no other generation accepts (IBM: M8 is "LTO8" only, LTO-9 drives refuse it); LTO-9
// reads and writes LTO-8 and LTO-9. A cartridge of unknown generation is accepted.
bool lto_readable(int drive_generation, const smc::Cartridge& cartridge);
bool lto_writable(int drive_generation, const smc::Cartridge& cartridge);

class TapeDrive final : public Device, public DriveMechanism {
public:
    // SPC only: no store, no SSC commands (tests of the SPC layer).
    explicit TapeDrive(DeviceIdentity identity, DriveMechanics mechanics = {});
    // A full SSC drive over `services.store`.
    TapeDrive(DeviceIdentity identity, DriveMechanics mechanics, DriveServices services);
    ~TapeDrive() override;
    const DeviceIdentity& identity() const override { return identity_; }
    void attach(LogicalUnit& lu) override;

    // Empty or ejected: 02/3A/00; loading: 02/04/01; unloading: 02/04/00 (HP's LTO reference
    // reports 04/00 "for the duration of the unload or eject", then 3A/00); a background
    // (IMMED) operation in progress: 02/04/07; loaded: ready.
    std::optional<scsi::Sense> readiness() const override;
    // WP (bit 7) when the mounted cartridge cannot be written, buffered mode 1 (SSC-4 8.3.3).
    uint8_t mode_device_specific() const override;
    uint8_t mode_medium_type() const override;
    // One 8-byte block descriptor: density code, blocks (0), block length (0 = variable).
    std::vector<uint8_t> mode_block_descriptors() const override;
    std::optional<scsi::Sense> mode_select_header(uint8_t device_specific,
                                                  std::span<const uint8_t> block_descriptors,
                                                  size_t offset) override;
    void on_lun_reset() override;

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

    // ---- Cleaning (config thresholds, fault injection)
    // TapeAlert 14h: the drive asks to be cleaned now; a cleaning cycle clears it.
    void require_cleaning() { alerts_.raise(ssc::alert::kCleanNow); }
    bool cleaning_requested() const {
        return alerts_.active(ssc::alert::kCleanNow) || alerts_.active(ssc::alert::kCleanPeriodic);
    }
    static constexpr uint32_t kCleaningCartridgeUses = 50;  // Ultrium universal cleaning cartridge

    // ---- For the SSC command families (emulator/ssc/); clock thread only.
    bool serves_ssc() const { return services_.store != nullptr; }
    LogicalUnit& lu() { return *lu_; }
    Clock& clock() { return *clock_; }
    const ssc::TapeState& tape() const { return tape_; }
    const ssc::ModelInfo* model() const { return model_; }
    config::DriveVendor vendor() const { return model_ ? model_->vendor : config::DriveVendor::Ibm; }
    // Why a medium access cannot run now (02/3A/00, 02/04/01, 02/04/00), else nullopt.
    std::optional<scsi::Sense> medium_ready() const;
    // Why nothing may be written to the mounted medium: 07/27/00 (write-protect switch),
    // 07/30/05 (a generation this drive reads only), else nullopt.
    std::optional<scsi::Sense> write_refusal() const;
    bool worm() const { return cartridge_ && cartridge_->type == config::MediaType::Worm && tape_.mounted(); }
    // Density code of the mounted medium's format (0 without a medium).
    uint8_t medium_density() const;
    uint32_t block_length() const { return block_length_; }
    const CartridgeSettings& cartridge_settings() const { return settings_; }
    bool compression_enabled() const;
    ssc::TapeAlerts& alerts() { return alerts_; }

    // Counters since power on or LOG SELECT, for log pages 02h, 03h, 0Ch, 17h, 1Bh, 32h.
    struct Statistics {
        storage::Counters io;
        uint64_t write_errors = 0;  // unrecovered
        uint64_t read_errors = 0;   // unrecovered
        uint64_t loads = 0;         // of data cartridges since power on
    };
    Statistics& statistics() { return stats_; }
    // The mounted cartridge's MAM LOAD COUNT (this load included).
    uint64_t medium_loads() const { return medium_loads_; }

    // A store operation for the worker: it gets the cartridge and returns the command's result
    // (a CHECK CONDITION changes nothing it has not already changed) and TapeAlert flags to raise.
    struct JobOutcome {
        Result result;
        uint64_t alerts = 0;  // ssc::alert_bit()s
        bool unrecovered_read = false;   // counted in log page 03h
        bool unrecovered_write = false;  // counted in log page 02h
    };
    using Job = std::function<JobOutcome(storage::Cartridge&)>;
    enum class Motion { None, Rewind, Locate };
    // Runs `job` on the executor. When it is done the tape state takes the snapshot, the motion's
    // time passes on the clock, and `task` completes with the job's result. Returns
    // Result::pending(); with `immediate` (IMMED) returns GOOD at once instead, keeps the drive
    // busy until the job and its motion are done, and keeps a failure as a deferred error.
    Result run_job(const TaskPtr& task, Job job, Motion motion = Motion::None, bool immediate = false);
    // A background operation (IMMED) holds the medium.
    bool busy() const { return jobs_in_flight_ > 0 || motion_timer_ != 0; }
    // Runs `fn` once the drive is no longer busy (at once if it is not).
    void when_idle(std::function<void()> fn);
    // A deferred error left by an IMMED operation, reported by the next command (and cleared).
    std::optional<scsi::Sense> take_deferred_error();

    // Mode page access for handlers: the current value of a page (refreshed).
    std::vector<uint8_t> mode_page(uint8_t code, uint8_t subpage = 0) const;
    // The medium's partition layout as mode page 11h reports it, re-read after load and FORMAT.
    void publish_partitions();
    // Density selected by MODE SELECT for the next FORMAT MEDIUM (0: the medium's own).
    uint8_t selected_density() const { return selected_density_; }

    // LOAD UNLOAD with LOAD=1 of a cartridge sitting ejected in the mouth: thread it again.
    void reload(Done done);

    // ---- Fault injection (the fault plan, clock thread): READ `task`, about to run, meets a
    // damaged block `good_blocks` blocks after the position (the nearest of several notes
    // counts). Its handler takes the note; the fault plan drops it when the task completes.
    void damage_read(const Task* task, uint64_t good_blocks) {
        if (read_damage_.task != task || good_blocks < read_damage_.good_blocks) read_damage_ = {task, good_blocks};
    }
    std::optional<uint64_t> take_read_damage(const Task* task) {
        if (!task || read_damage_.task != task) return std::nullopt;
        return std::exchange(read_damage_, ReadDamage{}).good_blocks;
    }

private:
    struct JobDone;
    void set_timer(Duration after, std::function<void()> then);
    void loaded();
    void opened(uint64_t load, std::shared_ptr<storage::Cartridge> medium, std::optional<std::string> error,
                std::optional<ssc::MediumSnapshot> snapshot, uint64_t loads);
    void clean(uint64_t load);
    void unloaded();
    void close_medium(std::function<void()> then);
    void finish_job(const TaskPtr& task, uint64_t load, Motion motion, bool immediate, JobDone& done);
    void account(const ssc::TapeState& before, const ssc::TapeState& after);
    Duration motion_time(Motion motion, const ssc::TapeState& before, const ssc::TapeState& after) const;
    void run_waiters();
    CartridgeSettings settings_for(const std::string& barcode) const;
    bool serves_medium() const { return serves_ssc() && medium_ != nullptr; }

    DeviceIdentity identity_;
    DriveMechanics mechanics_;
    DriveServices services_;
    std::unique_ptr<ssc::IoExecutor> executor_;
    const ssc::ModelInfo* model_ = nullptr;
    LogicalUnit* lu_ = nullptr;
    Clock* clock_ = nullptr;  // the logical unit's, kept for the destructor
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted completions check the drive still exists
    uint8_t density_code_ = 0;      // SPC-only drive: what MODE SELECT last set
    uint8_t selected_density_ = 0;  // SSC drive: MODE SELECT's choice for the next FORMAT MEDIUM
    uint32_t block_length_ = 0;     // 0: variable-block mode

    State state_ = State::Empty;
    std::optional<smc::Cartridge> cartridge_;
    CartridgeSettings settings_;
    Clock::TimerId timer_ = 0;
    Done load_done_;                 // the insert in progress
    std::vector<Done> unload_done_;  // everyone waiting for the cartridge to reach the mouth
    uint64_t load_seq_ = 0;          // +1 per insert and eject: late completions of another load are stale

    // The mounted cartridge: owned here, used only by executor work.
    std::shared_ptr<storage::Cartridge> medium_;
    ssc::TapeState tape_;
    ssc::TapeAlerts alerts_;
    Statistics stats_;
    uint64_t medium_loads_ = 0;
    uint64_t loads_since_cleaning_ = 0;
    uint64_t bytes_since_cleaning_ = 0;
    int jobs_in_flight_ = 0;
    Clock::TimerId motion_timer_ = 0;
    std::deque<std::function<void()>> waiters_;
    std::optional<scsi::Sense> deferred_error_;
    struct ReadDamage {
        const Task* task = nullptr;
        uint64_t good_blocks = 0;
    };
    ReadDamage read_damage_;
};

}  // namespace vtl
