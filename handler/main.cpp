// vtld: serves the libraries of a config (or the built-in default). Exit codes: 0 ok, 1 runtime
// error, 2 configuration or usage error.
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "config/config.h"
#include "core/event_loop.h"
#include "core/logging.h"
#include "library/emulator.h"
#include "library/identities.h"
#include "tcmu/transport.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;

using vtl::config::Config;

void print_summary(const Config& config, const std::string& source) {
    using vtl::library::trimmed;
    fmt::print("{}: {} librar{}\n", source, config.libraries.size(), config.libraries.size() == 1 ? "y" : "ies");
    for (const auto& lib : config.libraries) {
        fmt::print("library {}: personality {}, serial {}, state {}\n", lib.name, to_string(lib.personality), lib.serial,
                   lib.state_dir.string());
        fmt::print("  elements: {} transport at 0x{:04X}, {} drives at 0x{:04X}, {} import/export at 0x{:04X}, "
                   "{} slots at 0x{:04X}\n",
                   lib.robots, lib.addresses.transport, lib.drives.size(), lib.addresses.drive, lib.ie_slots,
                   lib.addresses.ie, lib.slots, lib.addresses.slot);
        fmt::print("  cartridges: {} in {} storage slots\n", lib.cartridges.size(), lib.slots);
        auto line = [](const std::string& name, const vtl::DeviceIdentity& id, std::string_view extra) {
            fmt::print("  {:<10} {:<8} {:<16} serial {}{}\n", name, trimmed(id.vendor), trimmed(id.product), id.serial,
                       extra);
        };
        line(lib.changer, vtl::library::changer_identity(lib), "");
        for (const auto& d : lib.drives) line(d.name, vtl::library::drive_identity(lib, d), d.bridge ? " (bridge)" : "");
    }
}

// The same summary for scripts (scripts/lio reads the device list from it).
void print_summary_json(const Config& config) {
    using vtl::library::trimmed;
    nlohmann::json out;
    out["libraries"] = nlohmann::json::array();
    for (const auto& lib : config.libraries) {
        auto device = [](const std::string& name, const vtl::DeviceIdentity& id, const char* type) {
            return nlohmann::json{{"name", name},
                                  {"type", type},
                                  {"vendor", trimmed(id.vendor)},
                                  {"product", trimmed(id.product)},
                                  {"serial", id.serial}};
        };
        nlohmann::json devices = nlohmann::json::array();
        devices.push_back(device(lib.changer, vtl::library::changer_identity(lib), "changer"));
        for (const auto& d : lib.drives) devices.push_back(device(d.name, vtl::library::drive_identity(lib, d), "tape"));
        out["libraries"].push_back({{"name", lib.name},
                                    {"personality", to_string(lib.personality)},
                                    {"serial", lib.serial},
                                    {"state_dir", lib.state_dir.string()},
                                    {"slots", lib.slots},
                                    {"ie_slots", lib.ie_slots},
                                    {"cartridges", lib.cartridges.size()},
                                    {"devices", devices}});
    }
    std::cout << out.dump(2) << '\n';
}

bool create_state_dirs(const Config& config) {
    for (const auto& lib : config.libraries) {
        std::error_code ec;
        std::filesystem::create_directories(lib.state_dir, ec);
        if (ec) {
            spdlog::get("vtl")->error("[{}] cannot create state directory {}: {}", lib.name, lib.state_dir.string(),
                                      ec.message());
            return false;
        }
    }
    return true;
}

struct ServeOptions {
    bool tcmu = true;
    double drain_seconds = 10;
};

int serve(const Config& config, const ServeOptions& options) {
    auto log = spdlog::get("vtl");
    if (!create_state_dirs(config)) return kExitRuntime;

    vtl::EventLoop loop;
    vtl::library::Emulator emulator(config, loop, vtl::library::Library::Options{.persist = true});
    loop.start();
    for (const auto& lib : emulator.libraries()) {
        for (const auto& dev : lib->devices()) {
            const auto& id = dev.lu.device().identity();
            log->info("[{}] serving {}: {} {} serial {}", dev.lu.name(), dev.lu.name(), vtl::library::trimmed(id.vendor),
                      vtl::library::trimmed(id.product), id.serial);
        }
    }
    for (const auto& lib : config.libraries) {
        for (const auto& d : lib.drives) {
            if (d.bridge) log->warn("[{}/{}] bridge = true: the bridged changer LUN 1 is not served yet", lib.name, d.name);
        }
    }
    // Hosts reach the devices through LIO: one TCMU user backstore per device.
    std::optional<vtl::tcmu::Transport> transport;
    if (options.tcmu) {
        vtl::tcmu::Transport::Options topts;
        topts.drain_timeout = std::chrono::milliseconds(static_cast<int64_t>(options.drain_seconds * 1000));
        transport.emplace([&emulator](std::string_view path) { return emulator.find(path); }, topts);
        transport->start();
    } else {
        log->warn("[vtld] --no-tcmu: no host can reach these devices");
    }

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    int sig = 0;
    const int rc = sigwait(&signals, &sig);
    if (rc != 0) {
        log->error("[vtld] sigwait: {}", std::strerror(rc));
    } else {
        log->info("[vtld] {} received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    // Drain the rings while the clock still runs the commands, then stop the clock; the
    // transport's mappings go last, as tasks that never completed may still point into them.
    if (transport) transport->stop();
    loop.stop();
    transport.reset();
    return rc == 0 ? kExitOk : kExitRuntime;
}

}  // namespace

int main(int argc, char** argv) {
    // Block the stop signals before any thread starts, so every thread inherits the mask and
    // only sigwait() in serve() receives them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    CLI::App app{"vtld: virtual tape library daemon. Serves the tape drives and medium changers of its libraries to "
                 "Linux hosts through LIO's TCMU (target_core_user): each device is a user backstore with "
                 "dev_config=vtl/<library>/<device>, attrib/cmd_time_out=0 and attrib/tmr_notification=1, exported "
                 "over tcm_loop or iSCSI."};
    std::string config_file;
    bool check = false;
    bool json = false;
    bool print_default = false;
    std::string log_level = "info";
    std::string state_dir;
    app.add_option("--config", config_file, "TOML configuration file (default: the built-in library lib0)");
    app.add_flag("--check", check, "Check the configuration, print a summary and exit");
    app.add_flag("--json", json, "With --check: print the summary as JSON (libraries and their devices)");
    app.add_flag("--print-default-config", print_default, "Print the built-in configuration as TOML and exit");
    app.add_option("--log-level", log_level, "trace, debug, info, warn or error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    app.add_option("--state-dir", state_dir, "Keep each library's state in DIR/<library name>");
    ServeOptions serve_options;
    bool no_tcmu = false;
    app.add_flag("--no-tcmu", no_tcmu, "Do not attach to LIO TCMU backstores (in-process runs only)");
    app.add_option("--drain-timeout", serve_options.drain_seconds,
                   "On SIGTERM, seconds TCMU commands in flight may take to finish before they are aborted")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitConfig;
    }

    if (print_default) {
        std::cout << vtl::config::to_toml(vtl::config::default_config());
        return kExitOk;
    }

    Config config;
    const std::string source = config_file.empty() ? "built-in default" : config_file;
    try {
        config = config_file.empty() ? vtl::config::default_config() : vtl::config::load_config(config_file);
    } catch (const vtl::config::ConfigError& e) {
        std::cerr << e.what() << '\n';
        return kExitConfig;
    }
    if (!state_dir.empty()) vtl::config::override_state_dirs(config, std::filesystem::absolute(state_dir));

    if (check) {
        if (json) {
            print_summary_json(config);
        } else {
            print_summary(config, source);
        }
        return kExitOk;
    }

    vtl::init_logging(spdlog::level::from_str(log_level), isatty(STDERR_FILENO) != 0);
    try {
        spdlog::get("vtl")->info("[vtld] starting with {} ({} librar{})", source, config.libraries.size(),
                                 config.libraries.size() == 1 ? "y" : "ies");
        serve_options.tcmu = !no_tcmu;
        return serve(config, serve_options);
    } catch (const std::exception& e) {
        spdlog::get("vtl")->error("[vtld] {}", e.what());
        return kExitRuntime;
    }
}
