#include "device/tape_drive.h"

#include <spdlog/spdlog.h>

#include "core/logical_unit.h"
#include "scsi/bytes.h"
#include "spc/spc.h"
#include "ssc/medium_memory.h"
#include "ssc/ssc.h"
#include "storage/store.h"

namespace vtl {

namespace {
constexpr size_t kBlockDescriptorLength = 8;
constexpr uint32_t kMaxFixedBlockLength = 0xFFFFFF;
constexpr int kFirstGenerationWithoutTwoBack = 8;  // LTO-8 dropped reading two generations back
constexpr uint8_t kWriteProtectBit = 0x80;
constexpr uint8_t kBufferedMode = 0x10;  // BUFFERED MODE 1
constexpr uint64_t kGB = 1000ull * 1000 * 1000;
constexpr scsi::Asc kCannotWriteIncompatibleFormat{0x30, 0x05};

bool data_medium(const smc::Cartridge& c) { return c.type != config::MediaType::Cleaning; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

// DEVICE VENDOR/SERIAL NUMBER (MAM 020Ah): 8 bytes of vendor, 32 of serial.
std::string device_attribute(const DeviceIdentity& id) {
    std::string out(40, ' ');
    out.replace(0, std::min<size_t>(8, id.vendor.size()), id.vendor.substr(0, 8));
    out.replace(8, std::min<size_t>(32, id.serial.size()), id.serial.substr(0, 32));
    return out;
}

void add(storage::Counters& to, const storage::Counters& after, const storage::Counters& before) {
    auto d = [](uint64_t a, uint64_t b) { return a >= b ? a - b : a; };
    to.bytes_from_host += d(after.bytes_from_host, before.bytes_from_host);
    to.bytes_to_medium += d(after.bytes_to_medium, before.bytes_to_medium);
    to.bytes_from_medium += d(after.bytes_from_medium, before.bytes_from_medium);
    to.bytes_to_host += d(after.bytes_to_host, before.bytes_to_host);
    to.records_written += d(after.records_written, before.records_written);
    to.filemarks_written += d(after.filemarks_written, before.filemarks_written);
    to.records_read += d(after.records_read, before.records_read);
    to.filemarks_read += d(after.filemarks_read, before.filemarks_read);
}

}  // namespace

bool lto_readable(int drive, const smc::Cartridge& c) {
    if (drive == 0 || !data_medium(c) || c.generation == 0) return true;
    if (c.type_m) return drive == 8;
    if (drive >= kFirstGenerationWithoutTwoBack) return c.generation == drive || c.generation == drive - 1;
    return c.generation <= drive && c.generation >= drive - 2;
}

bool lto_writable(int drive, const smc::Cartridge& c) {
    if (drive == 0 || !data_medium(c) || c.generation == 0) return true;
    if (c.type_m) return drive == 8;
    return c.generation == drive || c.generation == drive - 1;
}

struct TapeDrive::JobDone {
    JobOutcome outcome;
    ssc::MediumSnapshot snapshot;
};

TapeDrive::TapeDrive(DeviceIdentity identity, DriveMechanics mechanics)
    : identity_(std::move(identity)), mechanics_(mechanics) {
    identity_.type = PeripheralType::SequentialAccess;
}

TapeDrive::TapeDrive(DeviceIdentity identity, DriveMechanics mechanics, DriveServices services)
    : TapeDrive(std::move(identity), mechanics) {
    services_ = std::move(services);
    executor_ = services_.executor ? std::move(services_.executor) : ssc::make_inline_executor();
    model_ = ssc::model_info(trim(identity_.product));
    // The model's firmware level, as INQUIRY reports it.
    if (model_) {
        identity_.revision = std::string(model_->revision);
        identity_.revision.resize(4, ' ');
    }
}

TapeDrive::~TapeDrive() {
    if (clock_) {
        if (timer_) clock_->cancel(timer_);
        if (motion_timer_) clock_->cancel(motion_timer_);
    }
    alive_.reset();  // completions still posted by the worker go nowhere
    executor_.reset();  // finishes queued work (a close, a sync), then joins
    if (medium_) {
        ssc::record_unload(*medium_);
        medium_.reset();  // the cartridge syncs and unlocks on close
    }
}

void TapeDrive::attach(LogicalUnit& lu) {
    lu_ = &lu;
    clock_ = &lu.clock();
    register_spc(lu);
    if (serves_ssc()) ssc::register_ssc(lu, *this);
}

CartridgeSettings TapeDrive::settings_for(const std::string& barcode) const {
    return services_.settings ? services_.settings(barcode) : CartridgeSettings{};
}

std::optional<scsi::Sense> TapeDrive::medium_ready() const {
    switch (state_) {
        case State::Loaded: return std::nullopt;
        case State::Loading: return scsi::Sense::not_ready(scsi::asc::kBecomingReady);
        case State::Unloading: return scsi::Sense::not_ready(scsi::asc::kNotReadyCauseNotReportable);
        case State::Empty:
        case State::Ejected: break;
    }
    return scsi::Sense::not_ready(scsi::asc::kMediumNotPresent);
}

std::optional<scsi::Sense> TapeDrive::readiness() const {
    if (auto s = medium_ready()) return s;
    if (busy()) return scsi::Sense::not_ready(scsi::asc::kOperationInProgress);
    return std::nullopt;
}

std::optional<scsi::Sense> TapeDrive::write_refusal() const {
    if (!cartridge_) return std::nullopt;
    if (settings_.write_protected) return scsi::Sense(scsi::SenseKey::DataProtect, scsi::asc::kWriteProtected);
    // Mode page 10h SWP: software write protection, the same answer as the switch.
    constexpr uint8_t kSwp = 0x04;
    if (lu_ && lu_->mode_pages().contains(0x10, 0) && (lu_->mode_pages().current(0x10, 0)[10] & kSwp)) {
        return scsi::Sense(scsi::SenseKey::DataProtect, scsi::asc::kWriteProtected);
    }
    if (!lto_writable(mechanics_.generation, *cartridge_)) {
        return scsi::Sense(scsi::SenseKey::DataProtect, kCannotWriteIncompatibleFormat);
    }
    return std::nullopt;
}

uint8_t TapeDrive::medium_density() const {
    if (!tape_.mounted() || !cartridge_) return 0;
    const ssc::Density* d = ssc::density_of(cartridge_->generation, cartridge_->type_m);
    return d ? d->code : 0;
}

uint8_t TapeDrive::mode_device_specific() const {
    if (!serves_ssc()) return kBufferedMode;
    return static_cast<uint8_t>(kBufferedMode | (tape_.mounted() && write_refusal() ? kWriteProtectBit : 0));
}

uint8_t TapeDrive::mode_medium_type() const {
    if (!tape_.mounted() || !cartridge_) return 0;
    return ssc::mode_medium_type(vendor(), cartridge_->generation, cartridge_->type == config::MediaType::Worm);
}

std::vector<uint8_t> TapeDrive::mode_block_descriptors() const {
    std::vector<uint8_t> d;
    const uint8_t density = serves_ssc() ? medium_density() : density_code_;
    scsi::ByteWriter(d).u8(density).be24(0).u8(0).be24(block_length_);
    return d;
}

std::optional<scsi::Sense> TapeDrive::mode_select_header(uint8_t, std::span<const uint8_t> block_descriptors,
                                                         size_t offset) {
    if (block_descriptors.empty()) return std::nullopt;
    if (block_descriptors.size() != kBlockDescriptorLength) {
        return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(offset - 1));  // the length field
    }
    const uint32_t length = scsi::get_be24(&block_descriptors[5]);
    const uint32_t max_length = serves_ssc() ? ssc::kMaxBlockLength : kMaxFixedBlockLength;
    if (length > max_length) return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(offset + 5));
    const uint8_t density = block_descriptors[0];
    const bool keep = density == 0 || density == 0x7F;  // 0 (or 7Fh): the current density
    if (!serves_ssc()) {
        density_code_ = keep ? density_code_ : density;
    } else if (!keep) {
        // A density the drive knows (hosts echo the mounted medium's, even a read-only one);
        // a writable one is kept for the next FORMAT MEDIUM (M8 on an LTO-7 medium).
        const ssc::Density* d = ssc::density_by_code(density);
        const smc::Cartridge format{.generation = d ? d->generation : 0, .type_m = d && d->type_m};
        if (!d || !lto_readable(mechanics_.generation, format)) {
            return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(offset));
        }
        if (lto_writable(mechanics_.generation, format)) selected_density_ = density;
    }
    block_length_ = length;
    return std::nullopt;
}

void TapeDrive::on_lun_reset() { deferred_error_.reset(); }

bool TapeDrive::removal_prevented() const { return lu_ && lu_->medium_removal_prevented(); }

bool TapeDrive::compression_enabled() const {
    if (!lu_ || !lu_->mode_pages().contains(0x0F, 0)) return false;
    return lu_->mode_pages().current(0x0F, 0)[2] & 0x80;  // DCE
}

std::vector<uint8_t> TapeDrive::mode_page(uint8_t code, uint8_t subpage) const {
    return lu_->mode_pages().current(code, subpage);
}

void TapeDrive::publish_partitions() { ssc::publish_partition_page(*this); }

void TapeDrive::set_timer(Duration after, std::function<void()> then) {
    if (timer_) clock_->cancel(timer_);
    timer_ = clock_->schedule_after(after, [this, then = std::move(then)] {
        timer_ = 0;
        then();
    });
}

// ---- Load ---------------------------------------------------------------------------------

void TapeDrive::insert(const smc::Cartridge& cartridge, Done done) {
    if (state_ != State::Empty) {
        // The library never does this; answer as a drive with a cartridge in its mouth would.
        if (done) done(scsi::Sense::illegal_request(scsi::asc::kMediumDestinationElementFull));
        return;
    }
    cartridge_ = cartridge;
    settings_ = settings_for(cartridge.barcode);
    state_ = State::Loading;
    ++load_seq_;
    load_done_ = std::move(done);
    lu_->log().info("[{}] loading {}", lu_->name(), cartridge.barcode);
    set_timer(mechanics_.load, [this] { loaded(); });
}

void TapeDrive::reload(Done done) {
    if (state_ != State::Ejected || !cartridge_) {
        if (done) done(medium_ready());
        return;
    }
    state_ = State::Loading;
    ++load_seq_;
    load_done_ = std::move(done);
    lu_->log().info("[{}] loading {} again", lu_->name(), cartridge_->barcode);
    set_timer(mechanics_.load, [this] { loaded(); });
}

void TapeDrive::loaded() {
    if (cartridge_->type == config::MediaType::Cleaning) {
        if (serves_ssc()) {
            clean(load_seq_);
            return;
        }
        Done done = std::exchange(load_done_, nullptr);
        lu_->log().info("[{}] cleaning cycle with {} finished; cartridge ejected", lu_->name(), cartridge_->barcode);
        state_ = State::Ejected;
        if (done) done(std::nullopt);
        return;
    }
    if (!lto_readable(mechanics_.generation, *cartridge_)) {
        Done done = std::exchange(load_done_, nullptr);
        lu_->log().warn("[{}] {} (LTO-{}{}) is incompatible with this LTO-{} drive; cartridge ejected", lu_->name(),
                        cartridge_->barcode, cartridge_->generation, cartridge_->type_m ? " Type M" : "",
                        mechanics_.generation);
        state_ = State::Ejected;
        alerts_.raise(ssc::alert::kUnsupportedFormat);
        if (done) done(scsi::Sense::illegal_request(scsi::asc::kIncompatibleMediumInstalled));
        return;
    }
    if (!serves_ssc()) {
        Done done = std::exchange(load_done_, nullptr);
        state_ = State::Loaded;
        lu_->unit_attentions().add_all(scsi::asc::kNotReadyToReadyChange);
        lu_->log().info("[{}] {} loaded", lu_->name(), cartridge_->barcode);
        if (done) done(std::nullopt);
        return;
    }
    // Open the cartridge in the store on the worker: creating it, or recovering its tail after
    // a crash, takes file I/O.
    storage::OpenOptions options;
    if (settings_.capacity) options.layout = storage::Layout{*settings_.capacity, {}};
    const uint64_t load = load_seq_;
    storage::Store* store = services_.store;
    Clock* clock = clock_;
    std::weak_ptr<int> alive = alive_;
    executor_->submit([this, store, clock, alive, load, options, barcode = cartridge_->barcode,
                       device = device_attribute(identity_)] {
        auto opened_cartridge = store->open_cartridge(barcode, options);
        std::shared_ptr<storage::Cartridge> medium;
        std::optional<std::string> error;
        std::optional<ssc::MediumSnapshot> snapshot;
        uint64_t loads = 0;
        if (opened_cartridge.ok()) {
            medium = std::move(*opened_cartridge);
            if (!medium->fence()) loads = ssc::record_load(*medium, device);
            snapshot = ssc::snapshot_of(*medium);
        } else {
            error = opened_cartridge.error().message;
        }
        // The medium is moved along, never copied: its last owner closes it, and that must be
        // executor work, not the clock thread.
        clock->post([this, alive, load, medium = std::move(medium), error, snapshot, loads]() mutable {
            if (alive.lock()) opened(load, std::move(medium), error, snapshot, loads);
        });
    });
}

void TapeDrive::opened(uint64_t load, std::shared_ptr<storage::Cartridge> medium, std::optional<std::string> error,
                       std::optional<ssc::MediumSnapshot> snapshot, uint64_t loads) {
    if (load != load_seq_ || state_ != State::Loading) {
        // Unloaded while the store opened it: close it again, behind everything queued.
        if (medium) {
            executor_->submit([medium = std::move(medium)]() mutable { medium.reset(); });
        }
        return;
    }
    Done done = std::exchange(load_done_, nullptr);
    if (!medium) {
        lu_->log().error("[{}] cannot open {} in the cartridge store: {}; cartridge ejected", lu_->name(),
                         cartridge_->barcode, error.value_or("?"));
        state_ = State::Ejected;
        if (done) done(scsi::Sense(scsi::SenseKey::HardwareError, scsi::asc::kMediaLoadOrEjectFailed));
        return;
    }
    medium_ = std::move(medium);
    medium_loads_ = loads;
    tape_.apply(snapshot);
    state_ = State::Loaded;
    ++stats_.loads;
    if (mechanics_.clean_after_loads && ++loads_since_cleaning_ >= mechanics_.clean_after_loads) {
        alerts_.raise(ssc::alert::kCleanPeriodic);
    }
    if (tape_.fenced()) alerts_.raise(ssc::alert::kMedia);
    publish_partitions();
    lu_->unit_attentions().add_all(scsi::asc::kNotReadyToReadyChange);
    lu_->log().info("[{}] {} loaded{}", lu_->name(), cartridge_->barcode,
                    settings_.write_protected ? " (write-protected)" : "");
    if (done) done(std::nullopt);
}

void TapeDrive::clean(uint64_t load) {
    storage::Store* store = services_.store;
    Clock* clock = clock_;
    std::weak_ptr<int> alive = alive_;
    executor_->submit([this, store, clock, alive, load, barcode = cartridge_->barcode] {
        uint64_t uses = 0;
        storage::OpenOptions options;
        options.layout = storage::Layout{1u << 20, {}};  // holds no data: only its MAM matters
        if (auto c = store->open_cartridge(barcode, options); c.ok() && !(*c)->fence()) {
            uses = ssc::record_cleaning_use(**c);
        }
        clock->post([this, alive, load, uses] {
            if (!alive.lock() || load != load_seq_ || state_ != State::Loading) return;
            Done done = std::exchange(load_done_, nullptr);
            if (uses > kCleaningCartridgeUses) {
                alerts_.raise(ssc::alert::kExpiredCleaningMedia);
                lu_->log().warn("[{}] cleaning cartridge {} is used up ({} uses); the drive was not cleaned",
                                lu_->name(), cartridge_->barcode, uses - 1);
            } else {
                alerts_.clear(ssc::alert::kCleanNow);
                alerts_.clear(ssc::alert::kCleanPeriodic);
                alerts_.clear(ssc::alert::kExpiredCleaningMedia);
                loads_since_cleaning_ = 0;
                bytes_since_cleaning_ = 0;
                lu_->log().info("[{}] cleaning cycle with {} finished (use {}); cartridge ejected", lu_->name(),
                                cartridge_->barcode, uses);
            }
            state_ = State::Ejected;
            if (done) done(std::nullopt);
        });
    });
}

// ---- Unload -------------------------------------------------------------------------------

void TapeDrive::eject(Done done) {
    switch (state_) {
        case State::Empty:
            if (done) done(scsi::Sense::not_ready(scsi::asc::kMediumNotPresent));
            return;
        case State::Ejected:
            if (done) done(std::nullopt);
            return;
        case State::Unloading:
            unload_done_.push_back(std::move(done));
            return;
        case State::Loading:
            // Threading stops where it is and the cartridge goes back to the mouth.
            if (load_done_) {
                lu_->log().info("[{}] load of {} interrupted by an unload", lu_->name(), cartridge_->barcode);
                load_done_ = nullptr;
            }
            [[fallthrough]];
        case State::Loaded: {
            state_ = State::Unloading;
            ++load_seq_;
            unload_done_.push_back(std::move(done));
            lu_->log().info("[{}] unloading {}", lu_->name(), cartridge_->barcode);
            // The unload rewinds first.
            ssc::TapeState at_bop;
            const Duration rewind = tape_.mounted() ? motion_time(Motion::Rewind, tape_, at_bop) : Duration{};
            close_medium([this, rewind] { set_timer(mechanics_.unload + rewind, [this] { unloaded(); }); });
            return;
        }
    }
}

void TapeDrive::close_medium(std::function<void()> then) {
    tape_.apply(std::nullopt);
    if (!medium_) {
        then();
        return;
    }
    Clock* clock = clock_;
    std::weak_ptr<int> alive = alive_;
    executor_->submit([medium = std::move(medium_), clock, alive, then = std::move(then)]() mutable {
        if (!medium->fence()) ssc::record_unload(*medium);
        medium.reset();  // syncs and releases the cartridge's lock here, on the worker
        clock->post([alive, then] {
            if (alive.lock()) then();
        });
    });
    medium_.reset();
}

void TapeDrive::unloaded() {
    state_ = State::Ejected;
    auto waiting = std::move(unload_done_);
    unload_done_.clear();
    for (auto& done : waiting) {
        if (done) done(std::nullopt);
    }
}

void TapeDrive::removed() {
    if (timer_) clock_->cancel(timer_);
    timer_ = 0;
    state_ = State::Empty;
    cartridge_.reset();
    settings_ = {};
    load_done_ = nullptr;
    unload_done_.clear();
    if (medium_) close_medium([] {});
    tape_.apply(std::nullopt);
}

void TapeDrive::restore(const smc::Cartridge& cartridge) {
    cartridge_ = cartridge;
    const bool loadable = cartridge.type != config::MediaType::Cleaning && lto_readable(mechanics_.generation, cartridge);
    state_ = loadable ? State::Loaded : State::Ejected;
    if (!loadable || !serves_ssc()) return;
    // Start-up: nothing else runs yet, so the store is opened here rather than on the worker.
    settings_ = settings_for(cartridge.barcode);
    storage::OpenOptions options;
    if (settings_.capacity) options.layout = storage::Layout{*settings_.capacity, {}};
    auto opened_cartridge = services_.store->open_cartridge(cartridge.barcode, options);
    if (!opened_cartridge.ok()) {
        spdlog::error("[{}] cannot open {} in the cartridge store: {}; it stays in the drive's mouth",
                      lu_ ? lu_->name() : identity_.serial, cartridge.barcode, opened_cartridge.error().message);
        state_ = State::Ejected;
        return;
    }
    medium_ = std::move(*opened_cartridge);
    tape_.apply(ssc::snapshot_of(*medium_));
    if (lu_) publish_partitions();
}

// ---- Jobs ---------------------------------------------------------------------------------

Result TapeDrive::run_job(const TaskPtr& task, Job job, Motion motion, bool immediate) {
    const uint64_t load = load_seq_;
    ++jobs_in_flight_;
    // The job reads the transport's data-out buffer, or writes its data-in buffer, which is free
    // again once the task is answered: an abort waits for the job (one command's records at
    // most) before it answers.
    if (task && (!task->command().data_out.empty() || !task->command().data_in_buffer.empty()) && !immediate) {
        task->on_abort([this] { executor_->drain(); });
    }
    Clock* clock = clock_;
    std::weak_ptr<int> alive = alive_;
    executor_->submit([this, medium = medium_, job = std::move(job), clock, alive, task, load, motion,
                       immediate]() mutable {
        auto done = std::make_shared<JobDone>();
        done->outcome = job(*medium);
        done->snapshot = ssc::snapshot_of(*medium);
        medium.reset();
        clock->post([this, alive, task, load, motion, immediate, done] {
            if (alive.lock()) finish_job(task, load, motion, immediate, *done);
        });
    });
    return immediate ? Result::good() : Result::pending();
}

void TapeDrive::finish_job(const TaskPtr& task, uint64_t load, Motion motion, bool immediate, JobDone& done) {
    const ssc::TapeState before = tape_;
    if (load == load_seq_ && tape_.mounted()) {
        tape_.apply(done.snapshot);
        account(before, tape_);
        // FORMAT MEDIUM and SET CAPACITY change the layout: page 11h describes the new one.
        bool relaid = before.partitions() != tape_.partitions();
        for (uint8_t p = 0; p < tape_.partitions() && !relaid; ++p) {
            relaid = before.capacity(p).capacity != tape_.capacity(p).capacity;
        }
        if (relaid) publish_partitions();
    }
    alerts_.raise_all(done.outcome.alerts);
    stats_.read_errors += done.outcome.unrecovered_read;
    stats_.write_errors += done.outcome.unrecovered_write;
    const Duration time = load == load_seq_ ? motion_time(motion, before, tape_) : Duration{};
    auto complete = [this, task, immediate, result = std::move(done.outcome.result)]() mutable {
        --jobs_in_flight_;
        if (immediate) {
            if (result.status == scsi::Status::CheckCondition && result.sense) {
                deferred_error_ = result.sense->deferred();
            }
        } else if (task) {
            lu_->complete(task, std::move(result));
        }
        run_waiters();
    };
    if (time <= Duration{}) {
        complete();
        return;
    }
    if (motion_timer_) clock_->cancel(motion_timer_);
    motion_timer_ = clock_->schedule_after(time, [this, complete]() mutable {
        motion_timer_ = 0;
        complete();
    });
}

void TapeDrive::account(const ssc::TapeState& before, const ssc::TapeState& after) {
    storage::Counters delta;
    add(delta, after.counters(), before.counters());
    add(stats_.io, delta, storage::Counters{});
    bytes_since_cleaning_ += delta.bytes_to_medium + delta.bytes_from_medium;
    if (mechanics_.clean_after_gb && bytes_since_cleaning_ >= uint64_t(mechanics_.clean_after_gb) * kGB) {
        alerts_.raise(ssc::alert::kCleanPeriodic);
    }
}

Duration TapeDrive::motion_time(Motion motion, const ssc::TapeState& before, const ssc::TapeState& after) const {
    if (motion == Motion::None) return {};
    const config::MotionTime& m = motion == Motion::Rewind ? mechanics_.rewind : mechanics_.locate;
    if (m.time.count() <= 0) return {};
    if (!m.per_gb) return m.time;
    // Distance on tape from object counts and the partitions' average stored object size.
    const uint8_t from = before.partition(), to = after.mounted() ? after.partition() : 0;
    const uint64_t a = before.object() * before.bytes_per_object(from);
    const uint64_t b = after.object() * (after.mounted() ? after.bytes_per_object(to) : 0);
    const uint64_t bytes = from == to ? (a > b ? a - b : b - a) : a + b;
    const long double ns = static_cast<long double>(std::chrono::duration_cast<Duration>(m.time).count()) *
                           static_cast<long double>(bytes) / static_cast<long double>(kGB);
    return Duration(static_cast<Duration::rep>(ns));
}

void TapeDrive::when_idle(std::function<void()> fn) {
    if (!busy()) {
        fn();
        return;
    }
    waiters_.push_back(std::move(fn));
}

void TapeDrive::run_waiters() {
    while (!busy() && !waiters_.empty()) {
        auto fn = std::move(waiters_.front());
        waiters_.pop_front();
        fn();
    }
}

std::optional<scsi::Sense> TapeDrive::take_deferred_error() { return std::exchange(deferred_error_, std::nullopt); }

}  // namespace vtl
