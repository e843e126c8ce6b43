#include "tcmu/transport.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/netlink.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vtl::tcmu {

namespace {

std::shared_ptr<spdlog::logger> logger() {
    auto log = spdlog::get("vtl");
    return log ? log : spdlog::default_logger();
}

// How soon to look again at a backstore whose enable is still under way.
constexpr std::chrono::milliseconds kEnableRecheck{50};

// Kernel uevents: a UIO device appears when a backstore is enabled and goes when it is deleted.
// Needs no privilege to listen; -1 if the socket cannot be had (the periodic rescan remains).
int open_uevent_socket() {
    const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
    if (fd < 0) return -1;
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = 1;  // kernel events
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads every pending uevent; true if one concerns a UIO device.
bool drain_uevents(int fd) {
    bool uio = false;
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return uio;
        static constexpr std::string_view kKey = "SUBSYSTEM=uio";
        if (::memmem(buffer, static_cast<size_t>(n), kKey.data(), kKey.size()) != nullptr) uio = true;
    }
}

}  // namespace

// One attached backstore: its fd and mapping outlive the Device that uses them.
struct Transport::Attached {
    UioDevice uio;
    std::filesystem::path configfs;
    LogicalUnit* lu = nullptr;
    int fd = -1;
    void* map = MAP_FAILED;
    std::atomic<bool> attributes_checked{false};
    std::unique_ptr<Device> device;

    ~Attached() {
        device.reset();  // joins its thread before the mapping goes
        if (map != MAP_FAILED) ::munmap(map, uio.map_size);
        if (fd >= 0) ::close(fd);
    }
};

Transport::Transport(Resolver resolve, Options options)
    : resolve_(std::move(resolve)), options_(std::move(options)), log_(logger()) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
}

Transport::~Transport() {
    stop();
    ::close(wake_fd_);
}

size_t Transport::attached() const {
    std::lock_guard lock(mutex_);
    return devices_.size();
}

std::string Transport::state_of(std::string_view path) const {
    std::lock_guard lock(mutex_);
    for (const auto& d : devices_) {
        if (d->uio.path == path)
            return fmt::format("attached {} (user_{}/{})", d->uio.uio, d->uio.hba, d->uio.lio_name);
    }
    return "not attached";
}

void Transport::start() {
    if (started_) return;
    started_ = true;
    std::error_code ec;
    if (!std::filesystem::exists(options_.sysfs_uio, ec)) {
        log_->warn("[vtld] {} does not exist: the uio and target_core_user modules are not loaded; waiting for them",
                   options_.sysfs_uio.string());
    }
    rescan(true);
    if (attached() == 0) {
        log_->info(
            "[vtld] TCMU: no backstore yet; waiting for LIO user backstores with "
            "dev_config=vtl/<library>/<device>");
    }
    discovery_ = std::thread([this] { discovery_loop(); });
    if (options_.dbus) {
        HandlerRegistration::Options ropts;
        ropts.subtype = std::string(kSubtype);
        ropts.bus_address = options_.dbus_address;
        ropts.config_desc =
            "vtl/<library>/<device>: a device of a library vtld serves, such as lib0/changer or lib0/drive0 "
            "(give cfgstring=<library>/<device>). Set attributes cmd_time_out=0 and tmr_notification=1 before "
            "exporting a LUN. While tcmu-runner runs, create it with control=nl_reply_supported=-1: tcmu-runner "
            "answers the kernel's device-add for subtypes it does not load itself with an error.";
        registration_ = std::make_unique<HandlerRegistration>(
            [this](std::string_view config) { return check_config(config); }, std::move(ropts));
        registration_->start();
    }
}

void Transport::stop() {
    if (!started_) return;
    started_ = false;
    // First, so that no CheckConfig waits for mutex_ while the rings drain.
    if (registration_) registration_->stop();
    stopping_ = true;
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    if (discovery_.joinable()) discovery_.join();

    std::lock_guard lock(mutex_);
    for (auto& a : devices_) a->device->drain();
    auto in_flight = [&] {
        size_t total = 0;
        for (auto& a : devices_) total += a->device->in_flight();
        return total;
    };
    auto wait_until = [&](std::chrono::steady_clock::time_point deadline) {
        while (in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    };
    if (in_flight() > 0) {
        log_->info("[vtld] draining: {} command(s) in flight, waiting up to {} ms", in_flight(),
                   options_.drain_timeout.count());
        wait_until(std::chrono::steady_clock::now() + options_.drain_timeout);
    }
    if (in_flight() > 0) {
        for (auto& a : devices_) {
            if (a->device->in_flight() > 0) a->device->abort_in_flight();
        }
        // Aborts complete at once in the logical unit; give them a moment to reach the rings.
        wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    }
    for (auto& a : devices_) {
        log_->info("[{}] detached from {}", a->device->name(), a->uio.uio);
        detach(std::move(a));
    }
    devices_.clear();
}

std::optional<std::string> Transport::check_config(std::string_view config) const {
    const auto path = dev_config_path(config);
    if (!path) {
        return fmt::format("'{}' is not for handler {}: expected {}/<library>/<device>, such as {}/lib0/drive0", config,
                           kSubtype, kSubtype, kSubtype);
    }
    if (!is_device_path(*path)) {
        return fmt::format("'{}' is not {}/<library>/<device> (such as {}/lib0/drive0)", config, kSubtype, kSubtype);
    }
    LogicalUnit* lu = resolve_(*path);
    if (!lu) return fmt::format("'{}': vtld's configuration has no library/device '{}'", config, *path);
    std::lock_guard lock(mutex_);
    for (const auto& a : devices_) {
        if (a->lu == lu) {
            return fmt::format(
                "'{}': {} is already served through {} (LIO backstore user_{}/{}); one backstore "
                "per device",
                config, *path, a->uio.uio, a->uio.hba, a->uio.lio_name);
        }
    }
    return std::nullopt;
}

void Transport::detach(std::unique_ptr<Attached> attached) {
    attached->device->stop();
    if (attached->device->in_flight() > 0) retired_.push_back(std::move(attached));
}

void Transport::report_once(const std::string& key, spdlog::level::level_enum level, const std::string& message) {
    if (reported_.insert(key).second) log_->log(level, message);
}

void Transport::discovery_loop() {
    const int uevents = open_uevent_socket();
    if (uevents < 0) {
        log_->info("[vtld] no uevent socket ({}): rescanning {} every {} ms", std::strerror(errno),
                   options_.sysfs_uio.string(), options_.rescan_interval.count());
    }
    while (!stopping_) {
        pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {uevents, POLLIN, 0}};
        const auto interval =
            awaiting_enable_ ? std::min(options_.rescan_interval, kEnableRecheck) : options_.rescan_interval;
        const int r = ::poll(fds, uevents >= 0 ? 2 : 1, static_cast<int>(interval.count()));
        if (stopping_) break;
        if (r < 0 && errno != EINTR) {
            log_->error("[vtld] discovery poll: {}", std::strerror(errno));
            break;
        }
        // Any uevent about UIO, or the timeout: look again (the scan is cheap).
        if (r > 0 && uevents >= 0 && (fds[1].revents & POLLIN)) {
            if (!drain_uevents(uevents)) continue;
            log_->debug("[vtld] UIO uevent: rescanning {}", options_.sysfs_uio.string());
        }
        rescan(false);
    }
    if (uevents >= 0) ::close(uevents);
}

void Transport::rescan(bool at_start) {
    const auto found = scan_uio(options_.sysfs_uio);
    std::lock_guard lock(mutex_);
    awaiting_enable_ = false;
    // Drop devices the kernel removed (or whose UIO number now names another backstore).
    std::erase_if(devices_, [&](std::unique_ptr<Attached>& a) {
        const bool present = std::any_of(found.begin(), found.end(), [&](const UioDevice& d) {
            return d.uio == a->uio.uio && d.name == a->uio.name;
        });
        if (present && !a->device->ended()) return false;
        log_->info("[{}] {} ({}) is gone: detached", a->device->name(), a->uio.uio, a->uio.name);
        reported_.clear();  // a backstore set up again deserves fresh messages
        detach(std::move(a));
        return true;
    });
    for (const auto& uio : found) {
        const bool known = std::any_of(devices_.begin(), devices_.end(),
                                       [&](const std::unique_ptr<Attached>& a) { return a->uio.uio == uio.uio; });
        if (known) continue;
        if (uio.subtype != kSubtype) {
            report_once(uio.uio + uio.name, spdlog::level::debug,
                        fmt::format("[vtld] {} ({}): TCMU subtype '{}' is not ours", uio.uio, uio.name, uio.subtype));
            continue;
        }
        attach(uio, at_start);
    }
}

void Transport::attach(const UioDevice& uio, bool at_start) {
    const std::string key = uio.uio + uio.name;
    const std::string where = fmt::format("{} (LIO backstore user_{}/{})", uio.uio, uio.hba, uio.lio_name);
    LogicalUnit* lu = resolve_(uio.path);
    if (!lu) {
        report_once(key, spdlog::level::err,
                    fmt::format("[vtld] {}: dev_config names 'vtl/{}', which is no library/device of this "
                                "configuration",
                                where, uio.path));
        return;
    }
    for (const auto& a : devices_) {
        if (a->lu == lu) {
            report_once(key, spdlog::level::err,
                        fmt::format("[{}] {}: already served through {}; one backstore per device", lu->name(), where,
                                    a->uio.uio));
            return;
        }
    }

    auto a = std::make_unique<Attached>();
    a->uio = uio;
    a->configfs = configfs_dir(options_.configfs_core, uio);
    a->lu = lu;
    if (backstore_enabled(a->configfs) == false) {
        awaiting_enable_ = true;
        report_once(key + "enable", spdlog::level::debug,
                    fmt::format("[{}] {}: waiting for LIO to finish enabling it", lu->name(), where));
        return;
    }
    const auto node = options_.dev_dir / uio.uio;
    a->fd = ::open(node.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (a->fd < 0) {
        const int error = errno;
        if (error == ENOENT) return;  // the device node is not there yet: next scan
        report_once(
            key, spdlog::level::err,
            fmt::format("[{}] cannot open {} for {}: {}{}", lu->name(), node.string(), where, std::strerror(error),
                        error == EBUSY ? " (another process, such as tcmu-runner, holds it)" : ""));
        return;
    }
    a->map = ::mmap(nullptr, uio.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
    if (a->map == MAP_FAILED) {
        report_once(key, spdlog::level::err,
                    fmt::format("[{}] cannot map {} bytes of {}: {}", lu->name(), uio.map_size, node.string(),
                                std::strerror(errno)));
        return;
    }

    auto check = [log = log_, name = lu->name(), dir = a->configfs, flag = &a->attributes_checked] {
        if (flag->exchange(true)) return;
        for (const auto& problem : check_attributes(dir)) log->warn("[{}] {}", name, problem);
    };
    if (at_start) check();  // exported already, presumably: the attributes should be final

    Device::Options options;
    options.initiator = options_.initiator;
    options.reset_ring = [dir = a->configfs] { return reset_ring(dir); };
    options.on_first_command = check;  // a backstore found later is exported only now
    try {
        a->device = std::make_unique<Device>(*lu, Channel{a->fd, {static_cast<uint8_t*>(a->map), uio.map_size}},
                                             std::move(options));
    } catch (const std::exception& e) {
        report_once(key, spdlog::level::err, fmt::format("[{}] cannot serve {}: {}", lu->name(), where, e.what()));
        return;
    }
    log_->info("[{}] attached {}, {} MiB shared", lu->name(), where, uio.map_size >> 20);
    a->device->start();
    devices_.push_back(std::move(a));
}

}  // namespace vtl::tcmu
