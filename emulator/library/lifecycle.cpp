// The management API's library-wide operations: create and delete cartridges, tape image import
// and export, reset to the configured inventory, named snapshots, and the inventory as JSON and
// as a picture.
//
// Snapshots copy cartridge files, never hard-link them: the store changes its files in place
// (the header's two slots are rewritten, records files are cut and appended to, index entries
// rewritten), so a link would follow the live cartridge. Each file is cloned with FICLONE where
// the file system shares extents copy-on-write (btrfs, XFS), and copied otherwise
// (copy_file_range); either way a later write to the live cartridge leaves the snapshot as it
// was. A cartridge loaded in an idle drive is copied as its files stand: what a kill -9 would
// leave, which the store reopens with every record written (docs/cartridge-format.md).
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fs.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "device/tape_drive.h"
#include "library/async_moves.h"
#include "library/changes.h"
#include "library/library.h"
#include "library/operation.h"
#include "library/state_store.h"
#include "storage/file_io.h"
#include "storage/store.h"

namespace vtl::library {

namespace {

constexpr const char* kLifecycleFile = "lifecycle.json";
constexpr const char* kSnapshotsDir = "snapshots";
constexpr const char* kSnapshotState = "library.json";
constexpr int kFormat = 1;
constexpr uint64_t kMinCapacity = 4096;
constexpr uint64_t kMaxCapacity = 1000ull * 1000 * 1000 * 1000 * 1000;  // 1 PB, as the config allows
constexpr int kMinGeneration = 5;
constexpr int kMaxGeneration = 9;
constexpr size_t kMaxSnapshotName = 64;
constexpr const char* kLocked =
    "the import/export station is locked: a host holds PREVENT MEDIUM REMOVAL on the changer";

std::atomic<uint64_t> temporaries{0};

// A name the store's start-up cleanup recognises (.tmp-<BARCODE>-<pid>-<n>) for files on their
// way in or out, so a crash never leaves them behind as cartridges.
std::string temporary_name(std::string_view barcode, char purpose) {
    return fmt::format(".tmp-{}-{}-{}{}", barcode, ::getpid(), purpose, temporaries++);
}

std::string errno_text(int err) { return std::strerror(err); }

std::optional<std::string> snapshot_name_error(std::string_view name) {
    if (name.empty()) return "a snapshot name must not be empty";
    if (name.size() > kMaxSnapshotName)
        return fmt::format("a snapshot name has at most {} characters", kMaxSnapshotName);
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (i == 0 && !alnum) return "a snapshot name starts with a letter or digit";
        if (!alnum && c != '.' && c != '_' && c != '-') {
            return fmt::format("character {} {} of a snapshot name is not A-Z, a-z, 0-9, '.', '_' or '-'", i + 1,
                               config::quote(std::string_view(&name[i], 1)));
        }
    }
    return std::nullopt;
}

std::string_view state_name(DriveMechanism::State s) {
    switch (s) {
        case DriveMechanism::State::Empty:
            return "empty";
        case DriveMechanism::State::Loading:
            return "loading";
        case DriveMechanism::State::Loaded:
            return "loaded";
        case DriveMechanism::State::Unloading:
            return "unloading";
        case DriveMechanism::State::Ejected:
            return "ejected";
    }
    return "?";
}

// ---- Files --------------------------------------------------------------------------------

struct CopyStats {
    size_t files = 0;
    size_t cloned = 0;  // shared extents (FICLONE)
};

std::optional<std::string> copy_file(int src, int dst, const std::string& what, CopyStats& stats) {
    ++stats.files;
    if (::ioctl(dst, FICLONE, src) == 0) {
        ++stats.cloned;
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(src, &st) != 0) return fmt::format("{}: stat: {}", what, errno_text(errno));
    auto left = static_cast<size_t>(st.st_size);
    bool plain = false;  // copy_file_range unavailable here: read and write
    std::vector<char> buffer;
    off_t offset = 0;
    while (left > 0) {
        ssize_t n = 0;
        if (!plain) {
            n = ::copy_file_range(src, nullptr, dst, nullptr, left, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
                plain = true;
                continue;
            }
        } else {
            buffer.resize(1 << 20);
            n = ::pread(src, buffer.data(), std::min(left, buffer.size()), offset);
            if (n > 0) {
                auto written =
                    storage::write_all(dst, buffer.data(), static_cast<size_t>(n), static_cast<uint64_t>(offset), what);
                if (!written.ok()) return written.error().message;
            }
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            return fmt::format("{}: copy: {}", what, errno_text(errno));
        }
        if (n == 0) return fmt::format("{}: copy: the file shrank while it was copied", what);
        left -= static_cast<size_t>(n);
        offset += n;
    }
    return std::nullopt;
}

// Copies directory `from` (regular files and directories only) into new directory `to`.
std::optional<std::string> copy_tree(int from_parent, const std::string& from, int to_parent, const std::string& to,
                                     CopyStats& stats) {
    auto src = storage::open_dir(from_parent, from);
    if (!src.ok()) return src.error().message;
    if (::mkdirat(to_parent, to.c_str(), 0755) != 0) return fmt::format("create {}: {}", to, errno_text(errno));
    auto dst = storage::open_dir(to_parent, to);
    if (!dst.ok()) return dst.error().message;
    DIR* d = ::fdopendir(::dup(src->get()));
    if (!d) return fmt::format("read {}: {}", from, errno_text(errno));
    std::optional<std::string> error;
    ::rewinddir(d);
    while (dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        struct stat st {};
        if (::fstatat(src->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            error = fmt::format("{}/{}: stat: {}", from, name, errno_text(errno));
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            error = copy_tree(src->get(), name, dst->get(), name, stats);
        } else if (S_ISREG(st.st_mode)) {
            auto in = storage::open_at(src->get(), name, O_RDONLY);
            auto out = in.ok() ? storage::open_at(dst->get(), name, O_WRONLY | O_CREAT | O_EXCL, st.st_mode & 0777)
                               : storage::Result<storage::Fd>(in.error());
            if (!in.ok())
                error = in.error().message;
            else if (!out.ok())
                error = out.error().message;
            else
                error = copy_file(in->get(), out->get(), fmt::format("{}/{}", from, name), stats);
        } else {
            error = fmt::format("{}/{}: not a regular file or directory", from, name);
        }
        if (error) break;
    }
    ::closedir(d);
    return error;
}

std::optional<std::string> sync_all(int dir, const std::string& what) {
    // One syncfs for the whole tree: an fsync per file would cost more than the copies.
    if (::syncfs(dir) != 0) return fmt::format("{}: syncfs: {}", what, errno_text(errno));
    return std::nullopt;
}

storage::Result<storage::Fd> open_path_dir(const std::filesystem::path& path) {
    return storage::open_dir(AT_FDCWD, path.string());
}

// A cartridge's lock, as a drive takes it: while we hold it nobody has the cartridge open.
// `wait`: block until it is free (a drive just detached closes it on its I/O thread).
std::optional<std::string> lock_cartridge(int store, const std::string& barcode, bool wait, storage::Fd& lock) {
    auto dir = storage::open_dir(store, barcode);
    if (!dir.ok()) return fmt::format("cartridge {}: {}", barcode, dir.error().message);
    int rc;
    do {
        rc = ::flock(dir->get(), LOCK_EX | (wait ? 0 : LOCK_NB));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        if (errno == EWOULDBLOCK) return fmt::format("cartridge {} is in use by another process", barcode);
        return fmt::format("cartridge {}: lock: {}", barcode, errno_text(errno));
    }
    lock = std::move(*dir);
    return std::nullopt;
}

// Renames the cartridge's directory out of the store's names, then removes it.
// `trash`: leave the renamed directory there for Library::sweep instead.
std::optional<std::string> remove_cartridge_files(int store, const std::string& barcode, bool wait,
                                                  std::vector<std::string>* trash = nullptr) {
    storage::Fd lock;
    if (auto why = lock_cartridge(store, barcode, wait, lock)) return why;
    const std::string gone = temporary_name(barcode, 'd');
    if (::renameat(store, barcode.c_str(), store, gone.c_str()) != 0) {
        return fmt::format("cartridge {}: rename: {}", barcode, errno_text(errno));
    }
    if (trash) {
        trash->push_back(gone);
    } else {
        storage::remove_tree(store, gone);
    }
    return std::nullopt;
}

std::optional<std::string> read_json(const std::filesystem::path& path, nlohmann::json& out) {
    auto dir = open_path_dir(path.parent_path());
    if (!dir.ok()) return dir.error().message;
    auto text = storage::read_small_file(dir->get(), path.filename().string(), 64u << 20);
    if (!text.ok()) return fmt::format("{}: {}", path.string(), text.error().message);
    out = nlohmann::json::parse(*text, nullptr, false);
    if (out.is_discarded() || !out.is_object()) return fmt::format("{}: not a JSON object (damaged?)", path.string());
    return std::nullopt;
}

nlohmann::json cartridge_json(const smc::Cartridge& c) {
    nlohmann::json j = {{"barcode", c.barcode}, {"type", config::to_string(c.type)}, {"gen", c.generation}};
    if (c.type_m) j["type_m"] = true;
    if (!c.alternate_tag.empty()) j["alt"] = c.alternate_tag;
    return j;
}

}  // namespace

// ---- Settings of created cartridges ---------------------------------------------------------

std::filesystem::path Library::lifecycle_base() const { return cartridges_->directory().parent_path(); }

void Library::load_lifecycle() {
    const auto path = lifecycle_base() / kLifecycleFile;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return;
    nlohmann::json j;
    if (auto why = read_json(path, j)) throw std::runtime_error(*why);
    try {
        if (j.at("format").get<int>() != kFormat) {
            throw std::runtime_error(
                fmt::format("format {}; this vtld reads format {}", j.at("format").dump(), kFormat));
        }
        for (const auto& [barcode, c] : j.at("cartridges").items()) {
            CreatedCartridge created{.write_protected = c.value("write_protected", false)};
            if (c.contains("capacity")) created.capacity = c.at("capacity").get<uint64_t>();
            created_.emplace(barcode, created);
        }
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("{}: {}", path.string(), e.what()));
    }
}

std::optional<std::string> Library::save_lifecycle() {
    nlohmann::json cartridges = nlohmann::json::object();
    for (const auto& [barcode, c] : created_) {
        nlohmann::json j = {{"write_protected", c.write_protected}};
        if (c.capacity) j["capacity"] = *c.capacity;
        cartridges[barcode] = std::move(j);
    }
    const std::string text = nlohmann::json{{"format", kFormat}, {"cartridges", std::move(cartridges)}}.dump();
    auto dir = open_path_dir(lifecycle_base());
    if (!dir.ok()) return dir.error().message;
    auto written =
        storage::replace_file(dir->get(), kLifecycleFile, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    if (!written.ok()) return written.error().message;
    return std::nullopt;
}

CartridgeSettings Library::cartridge_settings_for(const std::string& barcode,
                                                  const CartridgeSettings& configured) const {
    const auto it = created_.find(barcode);
    if (it == created_.end()) return configured;
    return CartridgeSettings{.capacity = it->second.capacity, .write_protected = it->second.write_protected};
}

// ---- Shared checks and steps ----------------------------------------------------------------

std::optional<std::string> Library::busy_reason() const {
    if (!operations_.empty()) {
        return fmt::format("library {} is busy: {} robot operation{} in flight; try again when {} finished",
                           config_.name, operations_.size(), operations_.size() == 1 ? " is" : "s are",
                           operations_.size() == 1 ? "it has" : "they have");
    }
    for (size_t i = 0; i < drives_.size(); ++i) {
        const std::string& name = devices_[i + 1].name;
        const auto* drive = dynamic_cast<const TapeDrive*>(drives_[i]);
        const std::string barcode =
            drive && drive->cartridge() ? drive->cartridge()->barcode : std::string("a cartridge");
        switch (drives_[i]->state()) {
            case DriveMechanism::State::Loading:
                return fmt::format("library {} is busy: {} is loading {}; try again when it is ready", config_.name,
                                   name, barcode);
            case DriveMechanism::State::Unloading:
                return fmt::format("library {} is busy: {} is unloading {}; try again when it has finished",
                                   config_.name, name, barcode);
            default:
                break;
        }
        if ((drive && drive->busy()) || devices_[i + 1].lu->tasks_in_flight() > 0) {
            return fmt::format("library {} is busy: {} is running a command; try again when it has finished",
                               config_.name, name);
        }
    }
    return std::nullopt;
}

// Takes every cartridge out of the drives without a motion and waits until each drive's I/O
// thread has closed its files.
std::vector<std::string> Library::detach_drives() {
    std::vector<std::string> detached;
    for (auto* mechanism : drives_) {
        auto* drive = dynamic_cast<TapeDrive*>(mechanism);
        if (!drive || !drive->cartridge()) continue;
        detached.push_back(drive->cartridge()->barcode);
        drive->removed();
    }
    auto store = open_path_dir(cartridges_->directory());
    for (const auto& barcode : detached) {
        storage::Fd lock;
        if (store.ok() && cartridges_->exists(barcode)) (void)lock_cartridge(store->get(), barcode, true, lock);
    }
    return detached;
}

// Puts the cartridges the inventory places in drives back into them, loaded (as at start-up).
void Library::reattach_drives() {
    for (const smc::Element* e : inventory_->of_type(smc::ElementType::DataTransfer)) {
        if (!e->cartridge || e->index >= drives_.size()) continue;
        if (auto* drive = dynamic_cast<TapeDrive*>(drives_[e->index]))
            drive->restore(inventory_->cartridge(*e->cartridge));
    }
}

void Library::sweep(std::vector<std::string> names) {
    if (sweeper_.joinable()) sweeper_.join();
    if (names.empty()) return;
    auto store = open_path_dir(cartridges_->directory());
    if (!store.ok()) return;  // Store::open removes them at the next start
    sweeper_ = std::jthread([store = std::make_shared<storage::Fd>(std::move(*store)), names = std::move(names)] {
        for (const auto& name : names) storage::remove_tree(store->get(), name);
    });
}

std::optional<std::string> Library::replace_state(const nlohmann::json& inventory, bool door_open) {
    smc::Inventory next(config_);
    try {
        next.from_json(inventory);
    } catch (const std::exception& e) {
        return fmt::format("the state does not fit library {}: {}", config_.name, e.what());
    }
    *inventory_ = std::move(next);
    ie_door_open_ = door_open;
    if (store_) {
        try {
            store_->replace(*inventory_);
        } catch (const std::exception& e) {
            return fmt::format("cannot save the inventory of library {}: {}", config_.name, e.what());
        }
    }
    return std::nullopt;
}

// ---- Cartridges -------------------------------------------------------------------------------

std::optional<std::string> Library::create_cartridge(const std::string& barcode, Placement where,
                                                     NewCartridge options) {
    if (auto why = config::barcode_error(barcode)) {
        return fmt::format("invalid barcode {}: {}", config::quote(barcode), *why);
    }
    if (auto at = inventory_->find(barcode)) {
        return fmt::format("barcode {} is already in the library (element 0x{:04X})", barcode, *at);
    }
    if (cartridges_->exists(barcode)) {
        return fmt::format(
            "the cartridge store already holds {} (a cartridge outside the library); insert it at the "
            "import/export station, or delete it first",
            barcode);
    }
    const config::BarcodeInfo info = config::parse_barcode(barcode).value_or(config::BarcodeInfo{});
    if (options.type && info.type && *options.type != *info.type) {
        return fmt::format("type {} conflicts with barcode {}, whose suffix means {}", config::to_string(*options.type),
                           barcode, config::describe(info));
    }
    if (options.generation && (*options.generation < kMinGeneration || *options.generation > kMaxGeneration)) {
        return fmt::format("generation {} is not an LTO generation the library knows ({}..{})", *options.generation,
                           kMinGeneration, kMaxGeneration);
    }
    if (options.generation && info.generation && *options.generation != *info.generation) {
        return fmt::format("generation {} conflicts with barcode {}, whose suffix means {}", *options.generation,
                           barcode, config::describe(info));
    }
    if (options.capacity && (*options.capacity < kMinCapacity || *options.capacity > kMaxCapacity)) {
        return fmt::format("capacity {} bytes is outside {} bytes .. 1 PB", *options.capacity, kMinCapacity);
    }

    std::optional<uint16_t> address;
    if (where.kind == Placement::Kind::Slot) {
        const smc::Element* e =
            where.index == 0 ? nullptr : inventory_->nth(smc::ElementType::Storage, where.index - 1);
        if (!e) {
            return fmt::format("no storage slot {} (the library has slots 1..{})", where.index,
                               inventory_->count(smc::ElementType::Storage));
        }
        if (e->full()) {
            return fmt::format("storage slot {} is not empty: it holds {}", where.index,
                               inventory_->cartridge(*e->cartridge).barcode);
        }
        if (!operations_.empty()) {
            return fmt::format(
                "the robot is busy ({} operation{} in flight); a cartridge goes into a storage slot only "
                "while it is idle",
                operations_.size(), operations_.size() == 1 ? "" : "s");
        }
        address = e->address;
    } else if (where.kind == Placement::Kind::ImportExport) {
        const smc::Element* e = inventory_->nth(smc::ElementType::ImportExport, where.index);
        if (!e) {
            return fmt::format("no import/export slot {} (the library has {})", where.index,
                               inventory_->count(smc::ElementType::ImportExport));
        }
        if (ie_locked()) return kLocked;
        if (e->full() || occupant(e->address, true) || claimed(e->address)) {
            return fmt::format("import/export slot {} is not empty", where.index);
        }
        address = e->address;
    }

    const config::MediaType type = options.type.value_or(info.type.value_or(config::MediaType::Data));
    const storage::Layout layout =
        options.capacity ? storage::Layout{*options.capacity, {}} : cartridges_->default_layout(barcode);
    if (auto created = cartridges_->create(barcode, layout); !created.ok()) {
        return fmt::format("cannot create {} in the cartridge store: {}", barcode, created.error().message);
    }
    const smc::Cartridge cartridge{.barcode = barcode,
                                   .type = type,
                                   .generation = options.generation.value_or(info.generation.value_or(0)),
                                   .type_m = info.type_m};
    auto undo_store = [&] {
        if (auto store = open_path_dir(cartridges_->directory()); store.ok()) {
            (void)remove_cartridge_files(store->get(), barcode, false);
        }
    };
    if (where.kind == Placement::Kind::ImportExport) {
        auto c = change::insert(*address, cartridge);
        change::apply(*inventory_, c);
        commit(nlohmann::json::array({std::move(c)}));
    } else if (where.kind == Placement::Kind::Slot) {
        // Operations hold cartridge ids, which rebuilding renumbers: the robot is idle (checked).
        nlohmann::json state = inventory_->to_json();
        state["elements"].push_back({{"at", *address}, {"cartridge", cartridge_json(cartridge)}});
        if (auto why = replace_state(state, ie_door_open_)) {
            undo_store();
            return why;
        }
    }
    created_[barcode] = CreatedCartridge{.capacity = options.capacity, .write_protected = options.write_protected};
    if (auto why = save_lifecycle()) log().error("[{}] cannot save {}: {}", config_.name, kLifecycleFile, *why);
    log().info("[{}] created cartridge {} ({}{}, {} bytes{}) {}", config_.name, barcode, config::to_string(type),
               cartridge.generation ? fmt::format(" LTO-{}", cartridge.generation) : std::string(), layout.capacity,
               options.write_protected ? ", write-protected" : "",
               address ? fmt::format("at 0x{:04X}", *address) : std::string("in the store only"));
    if (where.kind == Placement::Kind::ImportExport) notify(scsi::asc::kImportExportElementAccessed);
    if (where.kind == Placement::Kind::Slot) notify(scsi::asc::kNotReadyToReadyChange);
    return std::nullopt;
}

std::optional<std::string> Library::delete_cartridge(const std::string& barcode) {
    if (auto why = config::barcode_error(barcode)) {
        return fmt::format("invalid barcode {}: {}", config::quote(barcode), *why);
    }
    const auto at = inventory_->find(barcode);
    const bool stored = cartridges_->exists(barcode);
    if (!at && !stored)
        return fmt::format("no cartridge {} in library {} or its cartridge store", barcode, config_.name);
    std::optional<smc::ElementType> type;
    if (at) {
        const smc::Element* e = inventory_->at(*at);
        type = e->type;
        if (e->type == smc::ElementType::DataTransfer) {
            return fmt::format("{} is in {} (0x{:04X}); unload it first", barcode, devices_[e->index + 1].name, *at);
        }
        if (e->type == smc::ElementType::MediumTransport) {
            return fmt::format("{} is in the robot's gripper (0x{:04X}); wait for the move to finish", barcode, *at);
        }
        if (claimed(*at) || occupant(*at, true) != e->cartridge) {
            return fmt::format("{} is being moved (a move from 0x{:04X} is queued or in motion); wait for it to finish",
                               barcode, *at);
        }
        if (e->type == smc::ElementType::ImportExport && ie_locked()) return kLocked;
    }
    if (stored) {
        auto store = open_path_dir(cartridges_->directory());
        if (!store.ok()) return store.error().message;
        if (auto why = remove_cartridge_files(store->get(), barcode, false)) return why;
    }
    if (at) {
        auto c = change::remove(*at);
        change::apply(*inventory_, c);
        commit(nlohmann::json::array({std::move(c)}));
    }
    if (created_.erase(barcode)) {
        if (auto why = save_lifecycle()) log().error("[{}] cannot save {}: {}", config_.name, kLifecycleFile, *why);
    }
    log().info("[{}] deleted cartridge {}{}", config_.name, barcode,
               at ? fmt::format(" from 0x{:04X}", *at) : std::string(" (store only)"));
    if (type == smc::ElementType::ImportExport) notify(scsi::asc::kImportExportElementAccessed);
    if (type == smc::ElementType::Storage) notify(scsi::asc::kNotReadyToReadyChange);
    return std::nullopt;
}

// Why an image cannot go into or come out of `barcode` now: a bad barcode, or a cartridge in a
// drive or on its way somewhere.
std::optional<std::string> Library::image_refusal(const std::string& barcode) const {
    if (auto why = config::barcode_error(barcode)) {
        return fmt::format("invalid barcode {}: {}", config::quote(barcode), *why);
    }
    const auto at = inventory_->find(barcode);
    if (!at) return std::nullopt;
    const smc::Element* e = inventory_->at(*at);
    if (e->type == smc::ElementType::DataTransfer) {
        return fmt::format("{} is in {} (0x{:04X}); unload it first", barcode, devices_[e->index + 1].name, *at);
    }
    if (e->type == smc::ElementType::MediumTransport || claimed(*at) || occupant(*at, true) != e->cartridge) {
        return fmt::format("{} is being moved; wait for the move to finish", barcode);
    }
    return std::nullopt;
}

std::optional<std::string> Library::import_image(const std::filesystem::path& image, storage::ImageFormat format,
                                                 const std::string& barcode) {
    if (auto why = image_refusal(barcode)) return why;
    const auto at = inventory_->find(barcode);
    // The layout the cartridge has, or would get on its first load.
    storage::Layout layout = cartridges_->default_layout(barcode);
    const CartridgeSettings configured = [&] {
        for (const auto& c : config_.cartridges) {
            if (c.barcode == barcode) return CartridgeSettings{c.capacity, c.write_protected};
        }
        return CartridgeSettings{};
    }();
    if (auto capacity = cartridge_settings_for(barcode, configured).capacity) layout = storage::Layout{*capacity, {}};
    const bool existed = cartridges_->exists(barcode);
    if (existed) {
        storage::OpenOptions no_create;
        no_create.create = false;
        auto opened = cartridges_->open_cartridge(barcode, no_create);
        if (!opened.ok()) return fmt::format("cannot import into {}: {}", barcode, opened.error().message);
        if (const auto& fence = (*opened)->fence()) {
            return fmt::format("cannot import into {}: it is fenced: {}", barcode, fence->message);
        }
        for (uint8_t p = 0; p < (*opened)->partition_count(); ++p) {
            if ((*opened)->eod(p) != 0) {
                return fmt::format(
                    "{} already holds data ({} object{} in partition {}); images go only into empty "
                    "cartridges (delete it and create it again)",
                    barcode, (*opened)->eod(p), (*opened)->eod(p) == 1 ? "" : "s", p);
            }
        }
        layout = (*opened)->layout();
        opened->reset();
        auto store = open_path_dir(cartridges_->directory());
        if (!store.ok()) return store.error().message;
        if (auto why = remove_cartridge_files(store->get(), barcode, false)) return why;
    }
    if (auto imported = cartridges_->import_image(barcode, image, format, layout); !imported.ok()) {
        if (existed) (void)cartridges_->create(barcode, layout);  // the empty cartridge it was
        return imported.error().message;
    }
    log().info("[{}] imported {} image {} into {}{}", config_.name, storage::to_string(format), image.string(), barcode,
               at ? std::string() : std::string(" (store only)"));
    return std::nullopt;
}

std::optional<std::string> Library::export_image(const std::string& barcode, const std::filesystem::path& image,
                                                 storage::ImageFormat format) {
    if (auto why = image_refusal(barcode)) return why;
    const auto at = inventory_->find(barcode);
    if (!cartridges_->exists(barcode)) {
        if (!at) return fmt::format("no cartridge {} in library {} or its cartridge store", barcode, config_.name);
        // Never loaded: blank, as a first load would create it.
        if (auto created = cartridges_->create(barcode, cartridges_->default_layout(barcode)); !created.ok()) {
            return fmt::format("cannot create {} in the cartridge store: {}", barcode, created.error().message);
        }
    }
    if (auto exported = cartridges_->export_image(barcode, image, format); !exported.ok()) {
        return fmt::format("cannot export {} to {}: {}", barcode, image.string(), exported.error().message);
    }
    log().info("[{}] exported {} to {} image {}", config_.name, barcode, storage::to_string(format), image.string());
    return std::nullopt;
}

// ---- Reset and snapshots ------------------------------------------------------------------------

std::optional<std::string> Library::reset() {
    if (auto why = busy_reason()) return why;
    detach_drives();
    auto store = open_path_dir(cartridges_->directory());
    if (!store.ok()) return store.error().message;
    // Configured cartridges come back blank: the store creates them again on their next load.
    std::vector<std::string> trash;
    for (const auto& barcode : cartridges_->list()) {
        if (auto why = remove_cartridge_files(store->get(), barcode, false, &trash)) {
            sweep(std::move(trash));
            log().error("[{}] reset: {}", config_.name, *why);
            return fmt::format("reset of library {} stopped: {}", config_.name, *why);
        }
    }
    sweep(std::move(trash));
    if (auto synced = storage::full_sync(store->get(), cartridges_->directory().string()); !synced.ok()) {
        return synced.error().message;
    }
    // Finished asynchronous move results go too; tokens keep counting up, so none is reused.
    if (async_) async_->restore({{"next_token", async_->next_token()}, {"moves", nlohmann::json::array()}});
    if (auto why = replace_state(smc::Inventory(config_).to_json(), false)) return why;
    created_.clear();
    if (auto why = save_lifecycle()) return why;
    // A library reset is a power cycle to the host: it rediscovers everything.
    for (auto& entry : devices_) entry.lu->unit_attentions().add_all(scsi::asc::kPowerOnResetOccurred);
    for (LogicalUnit* lu : changer_lus_) {
        lu->unit_attentions().add_all(scsi::asc::kPowerOnResetOccurred);
        lu->unit_attentions().add_all(scsi::asc::kNotReadyToReadyChange);
    }
    log().info("[{}] reset to the configured inventory", config_.name);
    return std::nullopt;
}

std::optional<std::string> Library::snapshot(const std::string& name) {
    if (auto why = snapshot_name_error(name))
        return fmt::format("invalid snapshot name {}: {}", config::quote(name), *why);
    if (auto why = busy_reason()) return why;
    const auto root = lifecycle_base() / kSnapshotsDir;
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) return fmt::format("create {}: {}", root.string(), ec.message());
    if (std::filesystem::exists(root / name, ec)) {
        return fmt::format("snapshot {} of library {} already exists; delete it first", name, config_.name);
    }
    auto dir = open_path_dir(root);
    if (!dir.ok()) return dir.error().message;
    auto store = open_path_dir(cartridges_->directory());
    if (!store.ok()) return store.error().message;
    const std::string building = fmt::format(".tmp-{}-{}", name, ::getpid());
    storage::remove_tree(dir->get(), building);
    auto fail = [&](std::string why) {
        storage::remove_tree(dir->get(), building);
        return fmt::format("snapshot {} of library {} failed: {}", name, config_.name, why);
    };
    if (::mkdirat(dir->get(), building.c_str(), 0755) != 0) return fail(errno_text(errno));
    auto into = storage::open_dir(dir->get(), building);
    if (!into.ok()) return fail(into.error().message);
    if (::mkdirat(into->get(), storage::Store::kCartridgesDir, 0755) != 0) return fail(errno_text(errno));
    auto cartridges = storage::open_dir(into->get(), storage::Store::kCartridgesDir);
    if (!cartridges.ok()) return fail(cartridges.error().message);
    CopyStats stats;
    const auto barcodes = cartridges_->list();
    for (const auto& barcode : barcodes) {
        if (auto why = copy_tree(store->get(), barcode, cartridges->get(), barcode, stats)) return fail(*why);
    }
    nlohmann::json created = nlohmann::json::object();
    for (const auto& [barcode, c] : created_) {
        created[barcode] = {{"write_protected", c.write_protected}};
        if (c.capacity) created[barcode]["capacity"] = *c.capacity;
    }
    const std::string text = nlohmann::json{{"format", kFormat},
                                            {"library", config_.name},
                                            {"inventory", inventory_->to_json()},
                                            {"ie_door_open", ie_door_open_},
                                            {"created", std::move(created)},
                                            {"async_moves", async_ ? async_->snapshot() : nlohmann::json()}}
                                 .dump();
    if (auto written = storage::replace_file(into->get(), kSnapshotState,
                                             {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
        !written.ok()) {
        return fail(written.error().message);
    }
    if (auto why = sync_all(into->get(), building)) return fail(*why);
    if (::renameat2(dir->get(), building.c_str(), dir->get(), name.c_str(), RENAME_NOREPLACE) != 0) {
        return fail(fmt::format("rename into place: {}", errno_text(errno)));
    }
    if (auto synced = storage::full_sync(dir->get(), root.string()); !synced.ok()) return synced.error().message;
    log().info("[{}] snapshot {}: {} cartridges, {} files ({} cloned, {} copied)", config_.name, name, barcodes.size(),
               stats.files, stats.cloned, stats.files - stats.cloned);
    return std::nullopt;
}

std::optional<std::string> Library::restore(const std::string& name) {
    if (auto why = snapshot_name_error(name))
        return fmt::format("invalid snapshot name {}: {}", config::quote(name), *why);
    const auto root = lifecycle_base() / kSnapshotsDir;
    std::error_code ec;
    if (!std::filesystem::is_directory(root / name, ec)) {
        return fmt::format("library {} has no snapshot {}", config_.name, name);
    }
    if (auto why = busy_reason()) return why;
    nlohmann::json saved;
    if (auto why = read_json(root / name / kSnapshotState, saved)) return why;
    std::map<std::string, CreatedCartridge, std::less<>> created;
    bool door_open = false;
    try {
        if (saved.at("format").get<int>() != kFormat) {
            return fmt::format("snapshot {}: format {}; this vtld reads format {}", name, saved.at("format").dump(),
                               kFormat);
        }
        const auto owner = saved.at("library").get<std::string>();
        if (owner != config_.name)
            return fmt::format("snapshot {} holds library {}, not {}", name, owner, config_.name);
        smc::Inventory probe(config_);
        probe.from_json(saved.at("inventory"));  // checked before anything changes
        door_open = saved.value("ie_door_open", false);
        for (const auto& [barcode, c] : saved.at("created").items()) {
            CreatedCartridge entry{.write_protected = c.value("write_protected", false)};
            if (c.contains("capacity")) entry.capacity = c.at("capacity").get<uint64_t>();
            created.emplace(barcode, entry);
        }
    } catch (const std::exception& e) {
        return fmt::format("snapshot {} does not fit library {}: {}", name, config_.name, e.what());
    }
    auto snapshot_cartridges = open_path_dir(root / name / storage::Store::kCartridgesDir);
    if (!snapshot_cartridges.ok()) return snapshot_cartridges.error().message;
    std::vector<std::string> wanted;
    if (DIR* d = ::fdopendir(::dup(snapshot_cartridges->get()))) {
        ::rewinddir(d);
        while (dirent* e = ::readdir(d)) {
            if (!config::barcode_error(e->d_name)) wanted.emplace_back(e->d_name);
        }
        ::closedir(d);
    }
    auto store = open_path_dir(cartridges_->directory());
    if (!store.ok()) return store.error().message;

    // Copy the snapshot's cartridges in beside the live ones first, so a failed copy changes
    // nothing; then swap each into place and drop what the snapshot does not have.
    CopyStats stats;
    std::vector<std::pair<std::string, std::string>> incoming;  // barcode, temporary name
    auto drop_incoming = [&] {
        for (const auto& [barcode, temporary] : incoming) storage::remove_tree(store->get(), temporary);
    };
    for (const auto& barcode : wanted) {
        incoming.emplace_back(barcode, temporary_name(barcode, 'r'));
        if (auto why = copy_tree(snapshot_cartridges->get(), barcode, store->get(), incoming.back().second, stats)) {
            drop_incoming();
            return fmt::format("restore of snapshot {} failed, nothing changed: {}", name, *why);
        }
    }
    if (auto why = sync_all(store->get(), cartridges_->directory().string())) {
        drop_incoming();
        return fmt::format("restore of snapshot {} failed, nothing changed: {}", name, *why);
    }
    detach_drives();
    const std::set<std::string> keep(wanted.begin(), wanted.end());
    std::optional<std::string> trouble;
    std::vector<std::string> trash;
    for (const auto& barcode : cartridges_->list()) {
        if (auto why = remove_cartridge_files(store->get(), barcode, false, &trash)) trouble = trouble.value_or(*why);
    }
    sweep(std::move(trash));
    for (const auto& [barcode, temporary] : incoming) {
        if (::renameat(store->get(), temporary.c_str(), store->get(), barcode.c_str()) != 0) {
            trouble = trouble.value_or(fmt::format("cartridge {}: rename into place: {}", barcode, errno_text(errno)));
            storage::remove_tree(store->get(), temporary);
        }
    }
    if (auto synced = storage::full_sync(store->get(), cartridges_->directory().string()); !synced.ok()) {
        trouble = trouble.value_or(synced.error().message);
    }
    if (async_) {
        // The snapshot's results, with tokens still counting up from today's.
        nlohmann::json moves = saved.value("async_moves", nlohmann::json());
        if (!moves.is_object()) moves = {{"moves", nlohmann::json::array()}};
        moves["next_token"] = std::max(moves.value("next_token", 0u), async_->next_token());
        try {
            async_->restore(moves);
        } catch (const std::exception& e) {
            trouble = trouble.value_or(fmt::format("asynchronous move results: {}", e.what()));
        }
    }
    if (auto why = replace_state(saved.at("inventory"), door_open)) return why;
    created_ = std::move(created);
    if (auto why = save_lifecycle()) trouble = trouble.value_or(*why);
    reattach_drives();
    for (LogicalUnit* lu : changer_lus_) lu->unit_attentions().add_all(scsi::asc::kNotReadyToReadyChange);
    for (size_t i = 0; i < drives_.size(); ++i) {
        devices_[i + 1].lu->unit_attentions().add_all(scsi::asc::kNotReadyToReadyChange);
    }
    if (trouble) {
        log().error("[{}] restore of snapshot {}: {}", config_.name, name, *trouble);
        return fmt::format("snapshot {} restored with an error: {}", name, *trouble);
    }
    log().info("[{}] restored snapshot {}: {} cartridges, {} files ({} cloned, {} copied)", config_.name, name,
               wanted.size(), stats.files, stats.cloned, stats.files - stats.cloned);
    return std::nullopt;
}

std::optional<std::string> Library::delete_snapshot(const std::string& name) {
    if (auto why = snapshot_name_error(name))
        return fmt::format("invalid snapshot name {}: {}", config::quote(name), *why);
    const auto path = lifecycle_base() / kSnapshotsDir / name;
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec))
        return fmt::format("library {} has no snapshot {}", config_.name, name);
    std::filesystem::remove_all(path, ec);
    if (ec) return fmt::format("delete snapshot {}: {}", name, ec.message());
    log().info("[{}] deleted snapshot {}", config_.name, name);
    return std::nullopt;
}

std::vector<Library::SnapshotInfo> Library::list_snapshots() const {
    std::vector<SnapshotInfo> out;
    const auto root = lifecycle_base() / kSnapshotsDir;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        if (snapshot_name_error(name) || !entry.is_directory(ec)) continue;  // .tmp-* being built
        SnapshotInfo info{.name = name};
        nlohmann::json saved;
        if (!read_json(entry.path() / kSnapshotState, saved)) {
            for (const auto& e : saved["inventory"]["elements"]) info.cartridges += e.contains("cartridge") ? 1 : 0;
        }
        out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

// ---- Inventory views --------------------------------------------------------------------------

nlohmann::json Library::inventory_json() const {
    nlohmann::json elements = nlohmann::json::array();
    std::set<std::string> inside;
    for (const smc::Element& e : inventory_->all()) {
        nlohmann::json j = {{"address", e.address},
                            {"type", smc::element_type_key(e.type)},
                            {"index", e.type == smc::ElementType::Storage ? e.index + 1 : e.index},
                            {"full", e.full()}};
        if (e.cartridge) {
            const smc::Cartridge& c = inventory_->cartridge(*e.cartridge);
            inside.insert(c.barcode);
            j["barcode"] = c.barcode;
            j["media"] = {{"type", config::to_string(c.type)}, {"generation", c.generation}, {"type_m", c.type_m}};
            if (!c.alternate_tag.empty()) j["alternate_tag"] = c.alternate_tag;
            const auto it = created_.find(c.barcode);
            if (it != created_.end()) j["write_protected"] = it->second.write_protected;
        }
        j["source"] = e.source ? nlohmann::json(*e.source) : nlohmann::json();
        j["invert"] = e.invert;
        if (e.type == smc::ElementType::ImportExport) j["impexp"] = e.impexp;
        j["exception"] =
            e.exception ? nlohmann::json{{"asc", e.exception->asc}, {"ascq", e.exception->ascq}} : nlohmann::json();
        if (e.type == smc::ElementType::DataTransfer && e.index < drives_.size()) {
            j["name"] = devices_[e.index + 1].name;
            j["drive"] = {{"state", state_name(drives_[e.index]->state())}};
        }
        elements.push_back(std::move(j));
    }
    nlohmann::json shelf = nlohmann::json::array();
    for (const auto& barcode : cartridges_->list()) {
        if (!inside.contains(barcode)) shelf.push_back(barcode);
    }
    return {{"library", config_.name},
            {"personality", config::to_string(config_.personality)},
            {"ie_door_open", ie_door_open_},
            {"ie_locked", ie_locked()},
            {"operations_in_flight", operations_.size()},
            {"elements", std::move(elements)},
            {"store_only", std::move(shelf)}};
}

std::string Library::inventory_picture() const {
    size_t width = 8;
    for (const smc::Element& e : inventory_->all()) {
        if (e.cartridge) width = std::max(width, inventory_->cartridge(*e.cartridge).barcode.size());
    }
    // [BARCODE] full, [........] empty; '!' after it: an exception; '<' in an I/E slot: the
    // operator put it there (IMPEXP).
    auto cell = [&](const smc::Element& e) {
        std::string text = e.cartridge ? inventory_->cartridge(*e.cartridge).barcode : std::string(width, '.');
        text.resize(width, ' ');
        return fmt::format("[{}]{}", text, e.exception ? '!' : (e.impexp ? '<' : ' '));
    };
    std::string out =
        fmt::format("library {} ({}): {} robot{}, {} drive{}, {} slots, {} I/E slots (door {}{})\n", config_.name,
                    config::to_string(config_.personality), inventory_->count(smc::ElementType::MediumTransport),
                    inventory_->count(smc::ElementType::MediumTransport) == 1 ? "" : "s",
                    inventory_->count(smc::ElementType::DataTransfer),
                    inventory_->count(smc::ElementType::DataTransfer) == 1 ? "" : "s",
                    inventory_->count(smc::ElementType::Storage), inventory_->count(smc::ElementType::ImportExport),
                    ie_door_open_ ? "open" : "closed", ie_locked() ? ", locked" : "");
    out += "robots\n";
    for (const smc::Element* e : inventory_->of_type(smc::ElementType::MediumTransport)) {
        out += fmt::format("  robot{:<4} 0x{:04X} {}\n", e->index, e->address, cell(*e));
    }
    out += "drives\n";
    for (const smc::Element* e : inventory_->of_type(smc::ElementType::DataTransfer)) {
        const std::string name = e->index < drives_.size() ? devices_[e->index + 1].name : std::string("?");
        const std::string state = e->index < drives_.size() ? std::string(state_name(drives_[e->index]->state())) : "";
        out += fmt::format("  {:<9} 0x{:04X} {} {}\n", name, e->address, cell(*e), state);
    }
    constexpr uint32_t kPerRow = 10;
    auto rows = [&](smc::ElementType type, uint32_t first_number) {
        const auto elements = inventory_->of_type(type);
        for (size_t i = 0; i < elements.size(); i += kPerRow) {
            out += fmt::format("  {:>4} 0x{:04X} ", first_number + i, elements[i]->address);
            for (size_t k = i; k < std::min(elements.size(), i + kPerRow); ++k) out += cell(*elements[k]);
            out += '\n';
        }
    };
    out += "import/export\n";
    rows(smc::ElementType::ImportExport, 0);
    out += "slots\n";
    rows(smc::ElementType::Storage, 1);
    return out;
}

}  // namespace vtl::library
