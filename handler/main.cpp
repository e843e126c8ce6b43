// vtld: serves the libraries of a config (or the built-in default). Exit codes: 0 ok, 1 runtime
// error, 2 configuration or usage error.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "config/config.h"
#include "control/server.h"
#include "core/event_loop.h"
#include "core/logging.h"
#include "fault/fault_plan.h"
#include "library/emulator.h"
#include "library/identities.h"
#include "observe/stats.h"
#include "observe/trace.h"
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
        fmt::print("library {}: personality {}, serial {}, state {}\n", lib.name, to_string(lib.personality),
                   lib.serial, lib.state_dir.string());
        fmt::print(
            "  elements: {} transport at 0x{:04X}, {} drives at 0x{:04X}, {} import/export at 0x{:04X}, "
            "{} slots at 0x{:04X}\n",
            lib.robots, lib.addresses.transport, lib.drives.size(), lib.addresses.drive, lib.ie_slots, lib.addresses.ie,
            lib.slots, lib.addresses.slot);
        fmt::print("  cartridges: {} in {} storage slots\n", lib.cartridges.size(), lib.slots);
        auto line = [](const std::string& name, const vtl::DeviceIdentity& id, std::string_view extra) {
            fmt::print("  {:<10} {:<8} {:<16} serial {}{}\n", name, trimmed(id.vendor), trimmed(id.product), id.serial,
                       extra);
        };
        line(lib.changer, vtl::library::changer_identity(lib), "");
        for (const auto& d : lib.drives)
            line(d.name, vtl::library::drive_identity(lib, d), d.bridge ? " (bridge)" : "");
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
        for (const auto& d : lib.drives) {
            devices.push_back(device(d.name, vtl::library::drive_identity(lib, d), "tape"));
            // A bridging drive's changer LUN 1 (library.cpp builds it with the changer's identity).
            if (d.bridge) {
                auto bridged = device(d.name + "-changer", vtl::library::changer_identity(lib), "changer");
                bridged["lun"] = 1;
                bridged["drive"] = d.name;
                devices.push_back(std::move(bridged));
            }
        }
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
    // Control socket (handler/control): path (empty: the default), optional localhost TCP port
    // with a token file, optional Prometheus port; `control` false serves none of it.
    bool control = true;
    std::string control_socket;
    std::filesystem::path state_root{vtl::config::kDefaultStateRoot};
    std::optional<uint16_t> control_tcp;
    std::string control_token_file;
    std::optional<uint16_t> metrics_port;
    std::string faults_file;
    uint64_t fault_seed = 0;
};

// The token a TCP client must present: the file's first line, which must not be empty.
std::string read_token(const std::string& file) {
    std::ifstream in(file);
    std::string token;
    if (!in || !std::getline(in, token)) throw std::runtime_error(fmt::format("cannot read the token file {}", file));
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) throw std::runtime_error(fmt::format("the token file {} is empty", file));
    return token;
}

int serve(const Config& config, const ServeOptions& options) {
    auto log = spdlog::get("vtl");
    if (!create_state_dirs(config)) return kExitRuntime;

    vtl::EventLoop loop;
    vtl::library::Emulator emulator(config, loop, vtl::library::Library::Options{.persist = true});
    // Hooks on every logical unit, in this order: the fault plan first, so statistics and the
    // trace see what it made of each command. All go before the emulator (destroyed in reverse).
    vtl::fault::FaultPlan faults(emulator, loop, options.fault_seed);
    if (!options.faults_file.empty()) {
        const auto ids = faults.load_file(options.faults_file);  // FaultError: exit 2 (main)
        log->info("[vtld] fault plan {}: {} rule{}", options.faults_file, ids.size(), ids.size() == 1 ? "" : "s");
    }
    vtl::observe::Stats stats(emulator);
    vtl::observe::Trace trace(emulator);

    // Declared before the control server, whose device listing asks it (and destroyed after it).
    std::optional<vtl::tcmu::Transport> transport;
    // The control server binds before anything runs, so a socket in use stops the start-up.
    std::optional<vtl::control::Server> control;
    if (options.control) {
        vtl::control::ServerOptions copts;
        copts.socket = options.control_socket.empty() ? vtl::control::default_socket_path(options.state_root)
                                                      : std::filesystem::path(options.control_socket);
        copts.tcp_port = options.control_tcp;
        if (options.control_tcp) copts.token = read_token(options.control_token_file);
        copts.metrics_port = options.metrics_port;
        vtl::control::Context context{
            .emulator = emulator, .loop = loop, .faults = &faults, .stats = &stats, .trace = &trace};
        // Which LIO backstore serves each device (the transport starts once the loop runs).
        const bool tcmu = options.tcmu;
        context.tcmu_state = [tcmu, &transport](std::string_view path) {
            if (!tcmu) return std::string("disabled");
            return transport ? transport->state_of(path) : std::string("not started");
        };
        control.emplace(std::move(context), vtl::control::all_methods(), std::move(copts));
    }
    loop.start();
    for (const auto& lib : emulator.libraries()) {
        for (const auto& dev : lib->devices()) {
            const auto& id = dev.lu.device().identity();
            log->info("[{}] serving {}: {} {} serial {}", dev.lu.name(), dev.lu.name(),
                      vtl::library::trimmed(id.vendor), vtl::library::trimmed(id.product), id.serial);
        }
    }
    // Hosts reach the devices through LIO: one TCMU user backstore per device.
    if (options.tcmu) {
        vtl::tcmu::Transport::Options topts;
        topts.drain_timeout = std::chrono::milliseconds(static_cast<int64_t>(options.drain_seconds * 1000));
        transport.emplace([&emulator](std::string_view path) { return emulator.find(path); }, topts);
        transport->start();
    } else {
        log->warn("[vtld] --no-tcmu: no host can reach these devices");
    }
    // Serving control requests only now: they may ask the transport (set above, never again).
    if (control) control->start();
    // systemd (Type=notify): the devices are served and the control socket answers. A no-op
    // without NOTIFY_SOCKET.
    sd_notify(0, "READY=1");

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
    sd_notify(0, "STOPPING=1");
    // No more control requests (those posted already finish first); drain the rings while the
    // clock still runs the commands, then stop the clock; the transport's mappings go last, as
    // tasks that never completed may still point into them.
    if (control) control->stop();
    if (transport) transport->stop();
    loop.stop();
    transport.reset();
    control.reset();
    // The trace, statistics and fault plan unhook themselves (the loop has stopped) before the
    // emulator goes, by their declaration order.
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

    CLI::App app{
        "vtld: virtual tape library daemon. Serves the tape drives and medium changers of its libraries to "
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
    vtl::LogOptions log_options;
    app.add_option("--log-file", log_options.file, "Log to FILE instead of stderr, rotating it by size");
    std::size_t log_max_mib = 10;
    app.add_option("--log-max-size", log_max_mib, "With --log-file: rotate at this many MiB")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--log-max-files", log_options.file_count, "With --log-file: rotated files to keep")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    ServeOptions serve_options;
    bool no_tcmu = false;
    app.add_flag("--no-tcmu", no_tcmu, "Do not attach to LIO TCMU backstores (in-process runs only)");
    app.add_option("--drain-timeout", serve_options.drain_seconds,
                   "On SIGTERM, seconds TCMU commands in flight may take to finish before they are aborted")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    bool version = false;
    app.add_flag("--version", version, "Print the version and exit");
    bool no_control = false;
    app.add_option("--control-socket", serve_options.control_socket,
                   "Control socket for vtlctl, mode 0600 (default: /run/vtl/vtld.sock, or <state root>/vtld.sock "
                   "when /run is not writable)");
    auto* control_tcp =
        app.add_option("--control-tcp", serve_options.control_tcp,
                       "Also serve the control protocol on 127.0.0.1:PORT (needs --control-token-file)");
    app.add_option("--control-token-file", serve_options.control_token_file,
                   "File whose first line is the token TCP clients must present")
        ->needs(control_tcp);
    app.add_flag("--no-control", no_control, "Serve no control socket");
    app.add_option("--metrics-port", serve_options.metrics_port,
                   "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics");
    app.add_option("--faults", serve_options.faults_file, "Fault plan (TOML [[fault]] rules, docs/faults.md) to load");
    app.add_option("--fault-seed", serve_options.fault_seed, "Seed of the fault plan's probabilities and bit flips")
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitConfig;
    }

    if (version) {
        fmt::print("vtld {}\n", VTL_VERSION);
        return kExitOk;
    }
    if (serve_options.control_tcp && serve_options.control_token_file.empty()) {
        std::cerr << "vtld: --control-tcp needs --control-token-file (a TCP control port without a token is refused)\n";
        return kExitConfig;
    }
    serve_options.control = !no_control;

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
    if (!state_dir.empty()) {
        vtl::config::override_state_dirs(config, std::filesystem::absolute(state_dir));
        serve_options.state_root = std::filesystem::absolute(state_dir);
    }

    if (check) {
        if (json) {
            print_summary_json(config);
        } else {
            print_summary(config, source);
        }
        return kExitOk;
    }

    // Under systemd stderr is the journal, which stamps the time itself.
    log_options.level = spdlog::level::from_str(log_level);
    log_options.color = isatty(STDERR_FILENO) != 0;
    log_options.journal = vtl::stderr_is_journal();
    log_options.file_max_bytes = log_max_mib << 20;
    try {
        vtl::init_logging(log_options);
    } catch (const spdlog::spdlog_ex& e) {
        std::cerr << "vtld: cannot log to " << log_options.file << ": " << e.what() << '\n';
        return kExitRuntime;
    }
    try {
        spdlog::get("vtl")->info("[vtld] starting with {} ({} librar{})", source, config.libraries.size(),
                                 config.libraries.size() == 1 ? "y" : "ies");
        serve_options.tcmu = !no_tcmu;
        return serve(config, serve_options);
    } catch (const vtl::fault::FaultError& e) {
        std::cerr << e.what() << '\n';
        return kExitConfig;
    } catch (const std::exception& e) {
        spdlog::get("vtl")->error("[vtld] {}", e.what());
        return kExitRuntime;
    }
}
