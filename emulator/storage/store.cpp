#include "storage/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "config/barcode.h"

namespace vtl::storage {

namespace {

constexpr uint64_t kTB = 1000ull * 1000 * 1000 * 1000;
constexpr const char* kTemporaryPrefix = ".tmp-";

}  // namespace

uint64_t native_capacity(std::string_view barcode, uint64_t fallback) {
    const auto info = config::parse_barcode(barcode);
    if (!info || !info->generation) return fallback;
    if (info->type_m) return 9 * kTB;
    switch (*info->generation) {
        case 5: return 15 * kTB / 10;
        case 6: return 25 * kTB / 10;
        case 7: return 6 * kTB;
        case 8: return 12 * kTB;
        case 9: return 18 * kTB;
        default: return fallback;
    }
}

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& state_dir, StoreOptions options) {
    std::unique_ptr<Store> s(new Store());
    s->options_ = std::move(options);
    s->cartridges_path_ = state_dir / kCartridgesDir;
    std::error_code ec;
    std::filesystem::create_directories(s->cartridges_path_, ec);
    if (ec) return make_error(Errc::Io, "create {}: {}", s->cartridges_path_.string(), ec.message());
    s->canonical_path_ = std::filesystem::canonical(s->cartridges_path_, ec);
    if (ec) return make_error(Errc::Io, "resolve {}: {}", s->cartridges_path_.string(), ec.message());
    const int fd = ::open(s->canonical_path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error(fmt::format("open {}", s->canonical_path_.string()), errno);
    s->cartridges_ = Fd(fd);
    if (auto synced = full_sync(fd, s->cartridges_path_.string()); !synced.ok()) return synced.error();

    // Temporary directories are named .tmp-<BARCODE>-<pid>-<n>: remove those whose process is gone.
    std::vector<std::string> stale;
    if (DIR* d = ::fdopendir(::dup(fd))) {
        ::rewinddir(d);  // the duplicate shares the descriptor's position
        while (dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (!name.starts_with(kTemporaryPrefix)) continue;
            const auto last = name.rfind('-');
            const auto pid_at = last == std::string::npos ? std::string::npos : name.rfind('-', last - 1);
            const long pid = pid_at == std::string::npos ? 0 : std::atol(name.c_str() + pid_at + 1);
            if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) stale.push_back(name);
        }
        ::closedir(d);
    }
    for (const auto& name : stale) remove_tree(fd, name);
    return s;
}

Result<void> Store::check_barcode(std::string_view barcode) const {
    if (auto why = config::barcode_error(barcode)) {
        return make_error(Errc::InvalidArgument, "barcode {} refused: {}", config::quote(barcode), *why);
    }
    return {};
}

Result<Fd> Store::open_cartridge_dir(std::string_view barcode) const {
    auto dir = open_dir(cartridges_.get(), std::string(barcode));
    if (!dir.ok()) {
        if (dir.error().code == Errc::NotFound) return make_error(Errc::NotFound, "cartridge {} does not exist", barcode);
        return make_error(dir.error().code, "cartridge {}: {}", barcode, dir.error().message);
    }
    // Belt and braces: the directory must resolve to a direct child of the store's directory.
    std::error_code ec;
    const auto resolved = std::filesystem::canonical(cartridges_path_ / std::string(barcode), ec);
    if (ec || resolved.parent_path() != canonical_path_ || resolved.filename() != barcode) {
        return make_error(Errc::InvalidArgument, "cartridge {} does not resolve inside {}", barcode,
                          canonical_path_.string());
    }
    return dir;
}

bool Store::exists(std::string_view barcode) const {
    if (!check_barcode(barcode).ok()) return false;
    struct stat st {};
    return ::fstatat(cartridges_.get(), std::string(barcode).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR(st.st_mode);
}

std::vector<std::string> Store::list() const {
    std::vector<std::string> out;
    if (DIR* d = ::fdopendir(::dup(cartridges_.get()))) {
        ::rewinddir(d);  // the duplicate shares the descriptor's position
        while (dirent* e = ::readdir(d)) {
            if (!config::barcode_error(e->d_name) && exists(e->d_name)) out.emplace_back(e->d_name);
        }
        ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
}

Layout Store::default_layout(std::string_view barcode) const {
    const uint64_t fallback = options_.default_capacity ? options_.default_capacity : 12 * kTB;
    return Layout{options_.default_capacity ? options_.default_capacity : native_capacity(barcode, fallback), {}};
}

Result<std::string> Store::build(std::string_view barcode, const Layout& layout) {
    std::string name;
    {
        std::lock_guard lock(mutex_);
        name = fmt::format("{}{}-{}-{}", kTemporaryPrefix, barcode, ::getpid(), temporaries_++);
    }
    remove_tree(cartridges_.get(), name);
    if (::mkdirat(cartridges_.get(), name.c_str(), 0755) != 0) return io_error(fmt::format("create {}", name), errno);
    auto dir = open_dir(cartridges_.get(), name);
    Result<void> built = dir.ok() ? Cartridge::create(dir->get(), barcode, layout) : Result<void>(dir.error());
    if (built.ok()) built = full_sync(dir->get(), name);
    if (!built.ok()) {
        remove_tree(cartridges_.get(), name);
        return built.error();
    }
    return name;
}

Result<void> Store::publish(const std::string& temporary, std::string_view barcode) {
    const std::string target(barcode);
    if (::renameat2(cartridges_.get(), temporary.c_str(), cartridges_.get(), target.c_str(), RENAME_NOREPLACE) != 0) {
        const int err = errno;
        remove_tree(cartridges_.get(), temporary);
        if (err == EEXIST) return make_error(Errc::AlreadyExists, "cartridge {} already exists", barcode);
        return io_error(fmt::format("rename {} to {}", temporary, target), err);
    }
    return full_sync(cartridges_.get(), cartridges_path_.string());
}

Result<void> Store::create(std::string_view barcode, const Layout& layout) {
    VTL_TRY(check_barcode(barcode));
    auto sizes = resolve_layout(layout);
    if (!sizes.ok()) return sizes.error();
    if (exists(barcode)) return make_error(Errc::AlreadyExists, "cartridge {} already exists", barcode);
    auto temporary = build(barcode, layout);
    if (!temporary.ok()) return temporary.error();
    return publish(*temporary, barcode);
}

Result<std::unique_ptr<Cartridge>> Store::open_cartridge(std::string_view barcode, const OpenOptions& options) {
    VTL_TRY(check_barcode(barcode));
    auto dir = open_cartridge_dir(barcode);
    if (!dir.ok() && dir.error().code == Errc::NotFound && options.create) {
        auto created = create(barcode, options.layout.value_or(default_layout(barcode)));
        if (!created.ok() && created.error().code != Errc::AlreadyExists) return created.error();
        dir = open_cartridge_dir(barcode);
    }
    if (!dir.ok()) return dir.error();
    if (::flock(dir->get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) return make_error(Errc::InUse, "cartridge {} is in use by another drive or process", barcode);
        return io_error(fmt::format("lock cartridge {}", barcode), errno);
    }
    return Cartridge::open(std::move(*dir), std::string(barcode), options_.cartridge);
}

Result<void> Store::clear_fence(std::string_view barcode) {
    VTL_TRY(check_barcode(barcode));
    auto dir = open_cartridge_dir(barcode);
    if (!dir.ok()) return dir.error();
    if (::unlinkat(dir->get(), Cartridge::kFenceName, 0) != 0 && errno != ENOENT) {
        return io_error(fmt::format("cartridge {}: remove {}", barcode, Cartridge::kFenceName), errno);
    }
    return full_sync(dir->get(), std::string(barcode));
}

namespace {

class CartridgeSink final : public ImageSink {
public:
    explicit CartridgeSink(Cartridge& c) : c_(c) {}
    Result<void> record(std::span<const uint8_t> data, bool bad) override {
        auto r = bad ? c_.write_bad_record(data) : c_.write_record(data);
        if (!r.ok()) return r.error();
        return {};
    }
    Result<void> filemark() override {
        auto r = c_.write_filemarks(1, false);
        if (!r.ok()) return r.error();
        return {};
    }

private:
    Cartridge& c_;
};

}  // namespace

Result<void> Store::import_image(std::string_view barcode, const std::filesystem::path& image, ImageFormat format,
                                 std::optional<Layout> layout) {
    VTL_TRY(check_barcode(barcode));
    if (exists(barcode)) return make_error(Errc::AlreadyExists, "cartridge {} already exists", barcode);
    const int raw = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) return io_error(fmt::format("open {}", image.string()), errno);
    Fd input(raw);

    auto temporary = build(barcode, layout.value_or(default_layout(barcode)));
    if (!temporary.ok()) return temporary.error();
    auto fail = [&](Error e) -> Result<void> {
        remove_tree(cartridges_.get(), *temporary);
        return make_error(e.code, "import {} into {}: {}", image.string(), barcode, e.message);
    };
    {
        auto dir = open_dir(cartridges_.get(), *temporary);
        if (!dir.ok()) return fail(dir.error());
        CartridgeOptions options = options_.cartridge;
        options.sync_on_close = false;
        auto cartridge = Cartridge::open(std::move(*dir), std::string(barcode), options);
        if (!cartridge.ok()) return fail(cartridge.error());
        if ((*cartridge)->fence()) return fail(*(*cartridge)->fence());
        CartridgeSink sink(**cartridge);
        if (auto read = read_image(input.get(), format, sink); !read.ok()) return fail(read.error());
        if (auto synced = (*cartridge)->sync(); !synced.ok()) return fail(synced.error());
    }
    return publish(*temporary, barcode);
}

Result<void> Store::export_image(std::string_view barcode, const std::filesystem::path& image, ImageFormat format,
                                 uint8_t partition) {
    OpenOptions no_create;
    no_create.create = false;
    auto cartridge = open_cartridge(barcode, no_create);
    if (!cartridge.ok()) return cartridge.error();
    if ((*cartridge)->fence()) return *(*cartridge)->fence();
    return export_image_file(**cartridge, partition, image, format);
}

}  // namespace vtl::storage
