// One tape library: a logical unit for its changer and for each drive, built from its config.
// Everything it owns runs on the clock it was built on.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <spdlog/fwd.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/logical_unit.h"
#include "device/drive_mechanism.h"
#include "scsi/sense.h"
#include "smc/inventory.h"
#include "smc/robots.h"
#include "smc/traits.h"
#include "storage/tape_image.h"

namespace vtl {
struct CartridgeSettings;  // device/tape_drive.h
}

namespace vtl::storage {
class Store;
}

namespace vtl::bridge {
struct BridgeCounters;
class Bridge;
}  // namespace vtl::bridge

namespace vtl::library {

class StateStore;
class AsyncMoves;

// MOVE MEDIUM, and each half of EXCHANGE MEDIUM, as the library sees it.
struct MoveRequest {
    uint16_t transport = 0;  // 0: the library chooses a robot
    uint16_t source = 0;
    uint16_t destination = 0;
    bool invert = false;
};

struct ExchangeRequest {
    uint16_t transport = 0;
    uint16_t source = 0;
    uint16_t first_destination = 0;   // where the source's medium goes
    uint16_t second_destination = 0;   // where the first destination's medium goes
    bool invert1 = false;
    bool invert2 = false;
};

using MoveId = uint64_t;

// One tape library: the SMC state machine (elements, cartridges, robots, import/export,
// persistence) and a logical unit for its changer and each drive. Every path that moves media
// (the changer LU, a drive's bridged LUN 1, asynchronous moves, operator actions, tests) goes
// through this object, on its clock's thread.
class Library {
public:
    struct DeviceRef {
        const std::string& name;  // "changer", "drive0"
        LogicalUnit& lu;          // named "<library>/<device>"
    };

    struct Options {
        // Keep the inventory in config.state_dir (snapshot + journal): the daemon does. Off, the
        // library lives in memory only, as in-process tests want it (no shared state between them).
        bool persist = false;
        // Journal records after which the snapshot is rewritten and the journal emptied.
        size_t compact_after = 1000;
        // Where each drive runs its store I/O: a worker thread of its own (the daemon: drives
        // stream in parallel), or inline on the clock's thread (deterministic tests). Auto:
        // inline on a VirtualClock, threads on any other clock.
        enum class DriveIo { Auto, Inline, Threads };
        DriveIo drive_io = DriveIo::Auto;
    };

    // In memory: the inventory starts from the config every time.
    Library(config::LibraryConfig config, Clock& clock);
    // Persistent when options.persist: opens (or creates) the state directory and resumes from
    // it; throws std::runtime_error naming the file and what is wrong when it cannot.
    Library(config::LibraryConfig config, Clock& clock, Options options);
    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;

    const std::string& name() const { return config_.name; }
    const config::LibraryConfig& config() const { return config_; }
    Clock& clock() { return clock_; }
    // The cartridge store: <state_dir>/cartridges when persistent, else a private temporary
    // directory removed with the library.
    storage::Store& cartridge_store() { return *cartridges_; }

    // By device name; nullptr if the library has no such device.
    LogicalUnit* find(std::string_view device);
    LogicalUnit& changer() { return *devices_.front().lu; }
    // The changer first, then the drives in config order, each bridging drive followed by its
    // bridged changer LUN 1 ("drive0-changer").
    std::vector<DeviceRef> devices();

    // --- State machine -------------------------------------------------------------------
    using Done = std::function<void(std::optional<scsi::Sense>)>;
    // A record of another state section (StateStore) that the operation's end writes in the same
    // journal record as its inventory changes, built from the outcome just before that write.
    using EndRecord = std::function<nlohmann::json(const std::optional<scsi::Sense>&)>;

    const smc::ChangerTraits& traits() const;
    smc::Inventory& inventory() { return *inventory_; }
    const smc::Inventory& inventory() const { return *inventory_; }
    smc::Robots& robots() { return *robots_; }
    // The drive in a data transfer element, and its logical unit; nullptr for other addresses.
    DriveMechanism* drive_at(uint16_t address);
    const DriveMechanism* drive_at(uint16_t address) const;
    LogicalUnit* drive_lu_at(uint16_t address);

    // Each check applies every rule a real library applies before the robot starts and returns
    // the sense it would return (05/21/01, 05/3B/0D, 05/3B/0E, 05/53/02, 05/30/00, 02/04/xx ...);
    // nullopt means the operation may start. A failed check changes nothing. Element contents are
    // judged as they will be once every operation already accepted has ended (a host may queue
    // a load and then the unload); a robot checks again, against the present, when it takes the
    // operation, and the operation ends with that sense if the present disagrees.
    std::optional<scsi::Sense> check_move(const MoveRequest& request) const;
    std::optional<scsi::Sense> check_exchange(const ExchangeRequest& request) const;
    std::optional<scsi::Sense> check_position(uint16_t transport, uint16_t destination) const;

    // Start a checked operation; `done` runs when the motion ends (nullopt: success), never from
    // inside the call (an unchecked request that fails its check is answered on the next turn of
    // the clock, as is a move whose source is its destination: GOOD without motion). A move
    // into a drive ends when the cartridge is in the drive's mouth; the drive then loads on its
    // own. A move out of a loaded drive first unloads it (implicit_unload personalities).
    // Completed moves are on stable storage before `done` runs, with `end_record`'s record when
    // one is given (a restart then never finds the cartridge moved and the move unfinished).
    MoveId start_move(const MoveRequest& request, Done done, EndRecord end_record = {});
    MoveId start_exchange(const ExchangeRequest& request, Done done);
    MoveId start_position(uint16_t transport, uint16_t destination, Done done);
    // The host gave up on a move (ABORT TASK, bridge timer). A queued move is removed and
    // changes nothing; a move in motion follows `policy` (complete it, or put the cartridge
    // back where it came from). Either way `done` is not called: the task is already answered.
    void abort(MoveId id, config::AbortPolicy policy);

    // INITIALIZE ELEMENT STATUS (all elements, or `count` from `first`): the robot scans
    // barcodes, taking time per element; clears exceptions; `done` when finished.
    // The returned id may be given to abort() like a move's.
    MoveId initialize_element_status(std::optional<std::pair<uint16_t, uint16_t>> range, Done done);

    // Changes outside motions that persist like moves (SEND VOLUME TAG, faults): use these rather
    // than inventory() directly so they survive a restart.
    void set_alternate_tag(smc::CartridgeId id, std::string tag);
    void set_exception(uint16_t address, std::optional<scsi::Asc> code);

    // Operations accepted and not yet ended (queued or in motion).
    size_t operations_in_flight() const { return operations_.size(); }

    // --- Operator actions (management CLI, tests) ------------------------------------------
    // Each returns an error message for a person, or nullopt. They raise UNIT ATTENTION 28/01
    // IMPORT OR EXPORT ELEMENT ACCESSED on every changer logical unit.
    std::optional<std::string> insert_cartridge(uint32_t ie_index, smc::Cartridge cartridge);
    std::optional<std::string> take_cartridge(uint32_t ie_index);
    // The I/E door: while it is open, moves touching import/export elements are NOT READY
    // 02/04/03 (manual intervention required); closing it raises 28/01.
    std::optional<std::string> open_ie_door();
    std::optional<std::string> close_ie_door();
    bool ie_door_open() const { return ie_door_open_; }
    // PREVENT ALLOW MEDIUM REMOVAL on a changer LU locks the I/E station against the operator.
    bool ie_locked() const;

    // A unit attention for every nexus of every changer-facing logical unit.
    void notify(scsi::Asc code);
    // Changer-facing logical units besides the changer's own (a drive's bridged LUN 1).
    void add_changer_lu(LogicalUnit& lu);
    void remove_changer_lu(LogicalUnit& lu);

    // --- Bridged changer LUNs and asynchronous moves (issue 7) -------------------------------
    // Counters of drive `drive`'s bridge ("drive0"); nullptr if it does not bridge.
    const bridge::BridgeCounters* bridge_counters(std::string_view drive) const;
    // The bridged changer LUN 1 of `drive`, or nullptr.
    LogicalUnit* bridged_lu(std::string_view drive);
    // ASYNC MOVE MEDIUM / MOVE QUERY tokens (library/async_moves.h).
    AsyncMoves& async_moves() { return *async_; }
    // Every token: state, source, destination, age.
    nlohmann::json async_moves_json() const;
    // The id start_move (or any other start_) gave last; 0 before the first.
    MoveId last_operation() const { return next_move_id_ - 1; }
    // Where an accepted operation is: still waiting for a robot, fetching the cartridge (drive
    // unload, recovery, pick), carrying it, or ended (or never known).
    enum class OperationPhase { Queued, Picking, Carrying, Ended };
    OperationPhase operation_phase(MoveId id) const;
    // The robot motion an operation has running: when it started and when it is due to end.
    std::optional<smc::MotionSpan> operation_span(MoveId id) const;
    // What abort() did to an operation, asked right after it: removed from the robot queue
    // (or ended), being completed, or being returned to its source.
    enum class AbortEffect { Removed, Completes, Returns };
    AbortEffect abort_effect(MoveId id) const;

    // --- Lifecycle (management API; library/lifecycle.cpp) ------------------------------------
    // Everything here runs on the library's clock thread and answers at once: nullopt on
    // success, else a message for a person saying what was refused and why. Operations that
    // rewrite the whole library (reset, snapshot, restore) refuse while a robot operation is in
    // flight or a drive is busy (loading, unloading, a command or IMMED operation running); they
    // never wait. File I/O (image import/export, snapshot copies) blocks the clock thread.

    // Where create_cartridge puts a new cartridge: nowhere (the cartridge store only, "on the
    // shelf", for a later insert at the import/export station), a storage slot (1-based, as in
    // the config) or an import/export slot (0-based index, as insert_cartridge()).
    struct Placement {
        enum class Kind { Shelf, Slot, ImportExport };
        Kind kind = Kind::Shelf;
        uint32_t index = 0;
    };
    struct NewCartridge {
        std::optional<config::MediaType> type;  // default: what the barcode's suffix says, else data
        std::optional<int> generation;          // LTO 5..9; default: the barcode's suffix, else unknown
        std::optional<uint64_t> capacity;       // bytes (4096 .. 1 PB); default: the generation's native
        bool write_protected = false;           // the cartridge's write-protect switch
    };
    // A new blank cartridge: in the store at once (with its capacity), and in the library at
    // `where`. A slot needs the robot idle (an operator opens the library's door); an
    // import/export slot gets IMPEXP and raises 28/01 like insert_cartridge(). WORM is
    // type = config::MediaType::Worm.
    std::optional<std::string> create_cartridge(const std::string& barcode, Placement where, NewCartridge options);
    // Takes the cartridge out of the library (wherever it is but a drive, a gripper or a move)
    // and removes its files from the store; also deletes a cartridge that is only in the store.
    std::optional<std::string> delete_cartridge(const std::string& barcode);
    // Fills partition 0 of a cartridge from a tape image: a cartridge of the library that holds
    // no data and is not in a drive, or a new one in the store only (insert it afterwards).
    std::optional<std::string> import_image(const std::filesystem::path& image, storage::ImageFormat format,
                                            const std::string& barcode);
    // Writes partition 0 of a cartridge (not in a drive) to `image`, replaced atomically.
    std::optional<std::string> export_image(const std::string& barcode, const std::filesystem::path& image,
                                            storage::ImageFormat format);

    // Back to the configured inventory as at the first start: every configured cartridge blank
    // in its slot, created ones gone, drives empty, I/E slots empty, door closed, no exceptions.
    // Every logical unit reports 29/00, then the changer's 28/00.
    std::optional<std::string> reset();
    // Named copies of the whole library (inventory, door, created cartridges' settings and every
    // cartridge's files) under <state_dir>/snapshots/<name>. Names: 1-64 of A-Z a-z 0-9 . _ -,
    // starting with a letter or digit. restore() makes the library and the store what the
    // snapshot holds and reloads the drives it names; changer and drive logical units report
    // 28/00. All three persist: a restart after them comes up as they left the library.
    std::optional<std::string> snapshot(const std::string& name);
    std::optional<std::string> restore(const std::string& name);
    std::optional<std::string> delete_snapshot(const std::string& name);
    struct SnapshotInfo {
        std::string name;
        size_t cartridges = 0;  // in the library when it was taken
    };
    std::vector<SnapshotInfo> list_snapshots() const;

    // Every element (address, type, full, barcode, media, source, exceptions, a drive's state)
    // and the cartridges only in the store, as JSON for the control socket.
    nlohmann::json inventory_json() const;
    // The same for people: robots, drives, I/E slots and rows of storage slots.
    std::string inventory_picture() const;
    // What a drive uses for `barcode` when it loads it: a created cartridge's own settings,
    // else `configured` (the config's).
    CartridgeSettings cartridge_settings_for(const std::string& barcode, const CartridgeSettings& configured) const;

private:
    friend class AsyncMoves;
    // Journals one asynchronous move record (with no inventory change).
    void commit_async(nlohmann::json record);

    struct Entry {
        std::string name;
        std::unique_ptr<LogicalUnit> lu;
    };
    struct Operation;  // library/operation.h
    using OperationPtr = std::unique_ptr<Operation>;

    // move_checks.cpp
    std::optional<smc::CartridgeId> occupant(uint16_t address, bool projected) const;
    std::optional<scsi::Sense> check_move_now(const MoveRequest& r, bool projected) const;
    std::optional<scsi::Sense> check_exchange_now(const ExchangeRequest& r, bool projected) const;
    std::optional<scsi::Sense> check_pick_from_drive(uint16_t address) const;
    std::optional<scsi::Sense> check_into_drive(uint16_t address, const smc::Cartridge& cartridge) const;
    bool is_robot(uint16_t address) const;
    bool claimed(uint16_t address, MoveId except = 0) const;
    std::optional<std::string> image_refusal(const std::string& barcode) const;
    bool conflicts(const Operation& op) const;
    // motion.cpp
    MoveId accept(OperationPtr op);
    void enqueue_leg(Operation& op, bool chained);
    std::optional<scsi::Sense> leg_started(MoveId id, uint16_t robot, Duration& pick_time);
    bool hold_for_unload(MoveId id, std::function<void()> resume);
    std::optional<scsi::Sense> leg_picked(MoveId id, uint16_t robot);
    std::optional<scsi::Sense> leg_placed(MoveId id, uint16_t robot);
    void leg_done(MoveId id, std::optional<scsi::Sense> result);
    void finish(MoveId id, std::optional<scsi::Sense> result);
    void apply(Operation& op, nlohmann::json change);
    void commit(nlohmann::json changes, std::optional<scsi::Sense>* error = nullptr);
    void commit(nlohmann::json changes, nlohmann::json section_records, std::optional<scsi::Sense>* error);
    Duration travel(uint16_t from, uint16_t to) const;
    void load_into_drive(uint16_t address, smc::CartridgeId id);
    spdlog::logger& log();

    config::LibraryConfig config_;
    Clock& clock_;
    Options options_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted work checks the library still exists
    std::unique_ptr<smc::Inventory> inventory_;
    std::unique_ptr<AsyncMoves> async_;  // before the store, which saves it when it closes
    std::unique_ptr<StateStore> store_;
    // Declared before the devices: drives hold the store until they are gone.
    struct ScratchDirectory;
    std::unique_ptr<ScratchDirectory> scratch_;  // the in-memory library's store, removed last
    std::unique_ptr<storage::Store> cartridges_;
    std::unique_ptr<smc::Robots> robots_;
    std::vector<Entry> devices_;
    std::vector<DriveMechanism*> drives_;  // by drive index (data transfer element index)
    std::vector<LogicalUnit*> drive_lus_;  // by drive index
    // After the devices: a bridge holds hooks and timers on its logical unit.
    std::vector<std::pair<std::string, std::unique_ptr<bridge::Bridge>>> bridges_;  // by drive name
    std::vector<LogicalUnit*> changer_lus_;
    std::map<MoveId, OperationPtr> operations_;  // in acceptance order
    MoveId next_move_id_ = 1;
    bool ie_door_open_ = false;
    // --- Lifecycle state (library/lifecycle.cpp) ---------------------------------------------
    struct CreatedCartridge {
        std::optional<uint64_t> capacity;
        bool write_protected = false;
    };
    std::map<std::string, CreatedCartridge, std::less<>> created_;  // by barcode, in <base>/lifecycle.json
    std::filesystem::path lifecycle_base() const;  // the directory holding cartridges/: state_dir or scratch
    void load_lifecycle();                           // at construction, before the drives
    std::optional<std::string> save_lifecycle();
    std::optional<std::string> busy_reason() const;
    std::optional<std::string> replace_state(const nlohmann::json& inventory, bool door_open);
    std::vector<std::string> detach_drives();
    void reattach_drives();
    // Removes cartridge directories already renamed out of the store's names on a thread of its
    // own (unlinking is most of a restore's time); joined before the next sweep and on destruction.
    void sweep(std::vector<std::string> names);
    std::jthread sweeper_;
};

}  // namespace vtl::library
