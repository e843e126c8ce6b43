#include "library/library.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "bridge/bridge.h"
#include "core/virtual_clock.h"
#include "device/medium_changer.h"
#include "device/tape_drive.h"
#include "library/async_moves.h"
#include "library/changes.h"
#include "library/identities.h"
#include "library/operation.h"
#include "library/state_store.h"
#include "storage/store.h"

namespace vtl::library {

namespace {

DriveMechanics mechanics_of(const config::LibraryConfig& lib, const config::DriveConfig& drive) {
    const config::DriveModel* model = config::find_drive_model(drive.model);
    return DriveMechanics{.generation = model ? model->generation : 0,
                          .load = lib.timings.load,
                          .unload = lib.timings.unload,
                          .rewind = lib.timings.rewind,
                          .locate = lib.timings.locate,
                          .clean_after_loads = drive.clean_after_loads,
                          .clean_after_gb = drive.clean_after_gb};
}

// What the config says about each cartridge, looked up by barcode when a drive loads one.
std::function<CartridgeSettings(const std::string&)> cartridge_settings(const config::LibraryConfig& lib) {
    auto table = std::make_shared<std::map<std::string, CartridgeSettings>>();
    for (const auto& c : lib.cartridges) table->emplace(c.barcode, CartridgeSettings{c.capacity, c.write_protected});
    return [table](const std::string& barcode) {
        auto it = table->find(barcode);
        return it == table->end() ? CartridgeSettings{} : it->second;
    };
}

bool io_threads(Library::Options::DriveIo mode, Clock& clock) {
    using DriveIo = Library::Options::DriveIo;
    // A VirtualClock is driven by the test's own thread: its post() is not thread-safe.
    if (mode == DriveIo::Auto) return dynamic_cast<VirtualClock*>(&clock) == nullptr;
    return mode == DriveIo::Threads;
}

}  // namespace

// A private directory for the cartridges of a library that keeps nothing.
struct Library::ScratchDirectory {
    std::filesystem::path path;
    explicit ScratchDirectory(const std::string& library) {
        std::string pattern = (std::filesystem::temp_directory_path() / ("vtl-" + library + "-XXXXXX")).string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary cartridge directory");
        path = pattern;
    }
    ~ScratchDirectory() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

Library::Library(config::LibraryConfig config, Clock& clock) : Library(std::move(config), clock, Options{}) {}

Library::Library(config::LibraryConfig config, Clock& clock, Options options)
    : config_(std::move(config)), clock_(clock), options_(options) {
    inventory_ = std::make_unique<smc::Inventory>(config_);
    async_ = std::make_unique<AsyncMoves>(*this);
    if (options_.persist) {
        store_ = std::make_unique<StateStore>(config_.state_dir, config_.name, *inventory_,
                                              StateStore::Options{.compact_after = options_.compact_after}, log(),
                                              async_.get());
    }
    std::filesystem::path cartridge_root = config_.state_dir;
    if (!options_.persist) {
        scratch_ = std::make_unique<ScratchDirectory>(config_.name);
        cartridge_root = scratch_->path;
    }
    auto opened_store = storage::Store::open(cartridge_root);
    if (!opened_store.ok()) {
        throw std::runtime_error(
            fmt::format("library {}: cartridge store: {}", config_.name, opened_store.error().message));
    }
    cartridges_ = std::move(*opened_store);
    load_lifecycle();  // created cartridges' settings, before a drive loads one
    const bool threads = io_threads(options_.drive_io, clock_);
    const auto settings = [this, configured = cartridge_settings(config_)](const std::string& barcode) {
        return cartridge_settings_for(barcode, configured(barcode));
    };

    std::vector<uint16_t> transports;
    for (uint32_t i = 0; i < config_.robots; ++i)
        transports.push_back(static_cast<uint16_t>(config_.addresses.transport + i));
    robots_ = std::make_unique<smc::Robots>(clock_, std::move(transports));

    auto lu_name = [&](const std::string& device) { return config_.name + "/" + device; };
    // The changer runs commands concurrently (a READ ELEMENT STATUS need not wait for a move);
    // a drive runs one ordered command at a time, as SSC drives do.
    devices_.push_back(Entry{config_.changer, std::make_unique<LogicalUnit>(
                                                  lu_name(config_.changer), clock_,
                                                  std::make_unique<MediumChanger>(changer_identity(config_), *this),
                                                  LogicalUnit::Options{.serial = false})});
    changer_lus_.push_back(devices_.back().lu.get());
    for (const auto& drive : config_.drives) {
        DriveServices services{
            .store = cartridges_.get(),
            .executor = threads ? ssc::make_thread_executor("vtl-io-" + drive.name) : ssc::make_inline_executor(),
            .settings = settings};
        auto device = std::make_unique<TapeDrive>(drive_identity(config_, drive), mechanics_of(config_, drive),
                                                  std::move(services));
        TapeDrive* mechanism = device.get();
        devices_.push_back(
            Entry{drive.name, std::make_unique<LogicalUnit>(lu_name(drive.name), clock_, std::move(device),
                                                            LogicalUnit::Options{.serial = true})});
        drives_.push_back(mechanism);
        drive_lus_.push_back(devices_.back().lu.get());
        if (drive.bridge) {
            // LUN 1 behind the drive: the changer's identity, one command at a time.
            const std::string name = drive.name + "-changer";
            devices_.push_back(Entry{
                name, std::make_unique<LogicalUnit>(lu_name(name), clock_,
                                                    std::make_unique<MediumChanger>(changer_identity(config_), *this),
                                                    LogicalUnit::Options{.serial = true})});
            LogicalUnit& bridged = *devices_.back().lu;
            bridges_.emplace_back(drive.name, std::make_unique<bridge::Bridge>(*this, drive.name, bridged));
            add_changer_lu(bridged);
        }
        // A cartridge the saved state puts in the drive is there again after a restart.
        const smc::Element* dte =
            inventory_->nth(smc::ElementType::DataTransfer, static_cast<uint32_t>(drives_.size() - 1));
        if (dte && dte->cartridge) mechanism->restore(inventory_->cartridge(*dte->cartridge));
    }
}

Library::~Library() {
    alive_.reset();
    // Robots first: their timers call back into operations and drives.
    robots_.reset();
    bridges_.clear();
}

LogicalUnit* Library::find(std::string_view device) {
    for (auto& e : devices_) {
        if (e.name == device) return e.lu.get();
    }
    return nullptr;
}

std::vector<Library::DeviceRef> Library::devices() {
    std::vector<DeviceRef> out;
    out.reserve(devices_.size());
    for (auto& e : devices_) out.push_back(DeviceRef{e.name, *e.lu});
    return out;
}

const smc::ChangerTraits& Library::traits() const { return smc::traits(config_.personality); }

DriveMechanism* Library::drive_at(uint16_t address) {
    return const_cast<DriveMechanism*>(std::as_const(*this).drive_at(address));
}

const DriveMechanism* Library::drive_at(uint16_t address) const {
    const smc::Element* e = inventory_->at(address);
    if (!e || e->type != smc::ElementType::DataTransfer || e->index >= drives_.size()) return nullptr;
    return drives_[e->index];
}

LogicalUnit* Library::drive_lu_at(uint16_t address) {
    const smc::Element* e = inventory_->at(address);
    if (!e || e->type != smc::ElementType::DataTransfer || e->index >= drive_lus_.size()) return nullptr;
    return drive_lus_[e->index];
}

bool Library::ie_locked() const {
    return std::any_of(changer_lus_.begin(), changer_lus_.end(),
                       [](const LogicalUnit* lu) { return lu->medium_removal_prevented(); });
}

void Library::notify(scsi::Asc code) {
    for (LogicalUnit* lu : changer_lus_) lu->unit_attentions().add_all(code);
}

void Library::add_changer_lu(LogicalUnit& lu) {
    if (std::find(changer_lus_.begin(), changer_lus_.end(), &lu) == changer_lus_.end()) changer_lus_.push_back(&lu);
}

void Library::remove_changer_lu(LogicalUnit& lu) { std::erase(changer_lus_, &lu); }

void Library::set_alternate_tag(smc::CartridgeId id, std::string tag) {
    const std::string barcode = inventory_->cartridge(id).barcode;
    inventory_->set_alternate_tag(id, tag);
    commit(nlohmann::json::array({change::alternate_tag(barcode, tag)}));
}

void Library::set_exception(uint16_t address, std::optional<scsi::Asc> code) {
    inventory_->set_exception(address, code);
    commit(nlohmann::json::array({change::exception(address, code)}));
}

void Library::commit(nlohmann::json changes, std::optional<scsi::Sense>* error) {
    commit(std::move(changes), nlohmann::json::array(), error);
}

void Library::commit(nlohmann::json changes, nlohmann::json section_records, std::optional<scsi::Sense>* error) {
    if (!store_ || (changes.empty() && section_records.empty())) return;
    try {
        store_->commit(changes, section_records);
    } catch (const std::exception& e) {
        log().error("[{}] cannot save the inventory: {}", config_.name, e.what());
        if (error && !*error) *error = scsi::Sense(scsi::SenseKey::HardwareError, scsi::asc::kInternalTargetFailure);
    }
}

// --- Bridged changer LUNs and asynchronous moves --------------------------------------------

const bridge::BridgeCounters* Library::bridge_counters(std::string_view drive) const {
    for (const auto& [name, b] : bridges_) {
        if (name == drive) return &b->counters();
    }
    return nullptr;
}

LogicalUnit* Library::bridged_lu(std::string_view drive) {
    for (auto& [name, b] : bridges_) {
        if (name == drive) return &b->lu();
    }
    return nullptr;
}

nlohmann::json Library::async_moves_json() const { return async_->to_status_json(); }

Library::OperationPhase Library::operation_phase(MoveId id) const {
    const auto it = operations_.find(id);
    if (it == operations_.end()) return OperationPhase::Ended;
    const Operation& op = *it->second;
    if (op.kind == OperationKind::Noop) return OperationPhase::Picking;
    if (!op.started) return OperationPhase::Queued;
    if (op.kind != OperationKind::Move && op.kind != OperationKind::Exchange) return OperationPhase::Picking;
    const Leg& leg = op.legs[op.leg];
    return leg.picked || leg.carrying ? OperationPhase::Carrying : OperationPhase::Picking;
}

std::optional<smc::MotionSpan> Library::operation_span(MoveId id) const {
    const auto it = operations_.find(id);
    if (it == operations_.end() || !it->second->started || it->second->motion == 0) return std::nullopt;
    return robots_->span(it->second->motion);
}

Library::AbortEffect Library::abort_effect(MoveId id) const {
    const auto it = operations_.find(id);
    if (it == operations_.end()) return AbortEffect::Removed;
    const Operation& op = *it->second;
    if (op.legs.empty()) return AbortEffect::Completes;
    const Leg& leg = op.legs[op.leg];
    // abort() with return-to-source points the leg back at its source.
    return leg.to == leg.from ? AbortEffect::Returns : AbortEffect::Completes;
}

void Library::commit_async(nlohmann::json record) {
    if (!store_) return;
    try {
        store_->commit(nlohmann::json::array(), nlohmann::json::array({std::move(record)}));
    } catch (const std::exception& e) {
        log().error("[{}] cannot save an asynchronous move record: {}", config_.name, e.what());
    }
}

spdlog::logger& Library::log() {
    auto l = spdlog::get("vtl");
    return l ? *l : *spdlog::default_logger();
}

}  // namespace vtl::library
