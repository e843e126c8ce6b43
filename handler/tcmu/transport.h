// The TCMU transport of vtld: finds LIO user backstores whose dev_config is
// "vtl/<library>/<device>", maps each one's /dev/uioN and serves it with a Device bound to that
// device's logical unit. A discovery thread rescans when the kernel announces a UIO device
// (netlink uevents) and every few seconds as a fallback; each device has its own thread. When
// tcmu-runner is on the system bus, the subtype is registered with it (tcmu/dbus.h) so targetcli
// lists user:vtl backstores and checks their config strings here.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "core/logical_unit.h"
#include "tcmu/dbus.h"
#include "tcmu/device.h"
#include "tcmu/discovery.h"

namespace vtl::tcmu {

class Transport {
public:
    struct Options {
        std::filesystem::path sysfs_uio = "/sys/class/uio";
        std::filesystem::path dev_dir = "/dev";
        std::filesystem::path configfs_core = "/sys/kernel/config/target/core";
        std::chrono::milliseconds rescan_interval{2000};
        // SIGTERM: how long commands in flight may take to finish before they are aborted.
        std::chrono::milliseconds drain_timeout{10000};
        std::string initiator = "tcmu";
        // Register the subtype with tcmu-runner's D-Bus handler manager (when both are there).
        bool dbus = true;
        std::string dbus_address;  // empty: the system bus
    };
    // "library/device" -> its logical unit, or nullptr. Called from the discovery thread: it
    // must only read what does not change after start-up (Emulator::find qualifies).
    using Resolver = std::function<LogicalUnit*(std::string_view path)>;

    Transport(Resolver resolve, Options options);
    // Destroy it only once the clocks it posts to have stopped.
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // Attaches every backstore present now (checking its configfs attributes at once), then
    // keeps watching for backstores that come and go.
    void start();
    // Stops taking commands, lets those in flight finish within drain_timeout, aborts the rest,
    // and releases every device.
    void stop();

    size_t attached() const;
    // For the management API: "attached uio1 (user_3/lib0.drive0)" when a backstore of
    // `path` ("library/device") is served, else "not attached" (no LIO backstore names it yet).
    std::string state_of(std::string_view path) const;

    // What CheckConfig answers targetcli (through tcmu-runner): nullopt when `config`, a whole
    // dev_config such as "vtl/lib0/drive0", names a device this vtld serves and that no other
    // backstore holds; otherwise why it would not be served.
    std::optional<std::string> check_config(std::string_view config) const;

private:
    struct Attached;

    void discovery_loop();
    void rescan(bool at_start);
    void attach(const UioDevice& uio, bool at_start);
    void detach(std::unique_ptr<Attached> attached);
    void report_once(const std::string& key, spdlog::level::level_enum level, const std::string& message);

    Resolver resolve_;
    Options options_;
    std::shared_ptr<spdlog::logger> log_;
    mutable std::mutex mutex_;  // devices_ and reported_: discovery thread vs stop()
    std::vector<std::unique_ptr<Attached>> devices_;
    // Detached while the logical unit still held some of their commands: their mappings stay
    // until the Transport is destroyed (after the clocks stopped), as those tasks point into them.
    std::vector<std::unique_ptr<Attached>> retired_;
    std::set<std::string> reported_;
    std::thread discovery_;
    std::unique_ptr<HandlerRegistration> registration_;
    std::atomic<bool> stopping_{false};
    bool awaiting_enable_ = false;  // a backstore's uio is there, its enable not finished: rescan soon
    int wake_fd_ = -1;
    bool started_ = false;
};

}  // namespace vtl::tcmu
