#include "device/tape_drive.h"

#include <spdlog/spdlog.h>

#include "core/logical_unit.h"
#include "scsi/bytes.h"
#include "spc/spc.h"

namespace vtl {

namespace {
constexpr size_t kBlockDescriptorLength = 8;
constexpr uint32_t kMaxFixedBlockLength = 0xFFFFFF;
constexpr int kFirstGenerationWithoutTwoBack = 8;  // LTO-8 dropped reading two generations back

bool data_medium(const smc::Cartridge& c) { return c.type != config::MediaType::Cleaning; }
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

TapeDrive::TapeDrive(DeviceIdentity identity, DriveMechanics mechanics)
    : identity_(std::move(identity)), mechanics_(mechanics) {
    identity_.type = PeripheralType::SequentialAccess;
}

TapeDrive::~TapeDrive() {
    if (timer_ && clock_) clock_->cancel(timer_);
}

void TapeDrive::attach(LogicalUnit& lu) {
    lu_ = &lu;
    clock_ = &lu.clock();
    register_spc(lu);
}

std::optional<scsi::Sense> TapeDrive::readiness() const {
    switch (state_) {
        case State::Loaded: return std::nullopt;
        case State::Loading: return scsi::Sense::not_ready(scsi::asc::kBecomingReady);
        case State::Unloading: return scsi::Sense::not_ready(scsi::asc::kNotReadyCauseNotReportable);
        case State::Empty:
        case State::Ejected: break;
    }
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

void TapeDrive::set_timer(Duration after, std::function<void()> then) {
    if (timer_) clock_->cancel(timer_);
    timer_ = clock_->schedule_after(after, [this, then = std::move(then)] {
        timer_ = 0;
        then();
    });
}

void TapeDrive::insert(const smc::Cartridge& cartridge, Done done) {
    if (state_ != State::Empty) {
        // The library never does this; answer as a drive with a cartridge in its mouth would.
        if (done) done(scsi::Sense::illegal_request(scsi::asc::kMediumDestinationElementFull));
        return;
    }
    cartridge_ = cartridge;
    state_ = State::Loading;
    load_done_ = std::move(done);
    lu_->log().info("[{}] loading {}", lu_->name(), cartridge.barcode);
    set_timer(mechanics_.load, [this] { loaded(); });
}

void TapeDrive::loaded() {
    Done done = std::move(load_done_);
    load_done_ = nullptr;
    std::optional<scsi::Sense> result;
    if (cartridge_->type == config::MediaType::Cleaning) {
        lu_->log().info("[{}] cleaning cycle with {} finished; cartridge ejected", lu_->name(), cartridge_->barcode);
        state_ = State::Ejected;
    } else if (!lto_readable(mechanics_.generation, *cartridge_)) {
        lu_->log().warn("[{}] {} (LTO-{}{}) is incompatible with this LTO-{} drive; cartridge ejected", lu_->name(),
                        cartridge_->barcode, cartridge_->generation, cartridge_->type_m ? " Type M" : "",
                        mechanics_.generation);
        state_ = State::Ejected;
        result = scsi::Sense::illegal_request(scsi::asc::kIncompatibleMediumInstalled);
    } else {
        state_ = State::Loaded;
        lu_->unit_attentions().add_all(scsi::asc::kNotReadyToReadyChange);
        lu_->log().info("[{}] {} loaded", lu_->name(), cartridge_->barcode);
    }
    if (done) done(result);
}

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
        case State::Loaded:
            state_ = State::Unloading;
            unload_done_.push_back(std::move(done));
            lu_->log().info("[{}] unloading {}", lu_->name(), cartridge_->barcode);
            set_timer(mechanics_.unload, [this] { unloaded(); });
            return;
    }
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
    load_done_ = nullptr;
    unload_done_.clear();
}

bool TapeDrive::removal_prevented() const { return lu_ && lu_->medium_removal_prevented(); }

void TapeDrive::restore(const smc::Cartridge& cartridge) {
    cartridge_ = cartridge;
    const bool loadable = cartridge.type != config::MediaType::Cleaning && lto_readable(mechanics_.generation, cartridge);
    state_ = loadable ? State::Loaded : State::Ejected;
}

}  // namespace vtl
