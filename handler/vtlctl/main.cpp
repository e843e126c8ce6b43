// vtlctl: the command line of vtld's control socket. Tables for people, --json for scripts.
// Exit status: 0 ok, 1 the server refused or failed, 2 usage or connection error.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "control/client.h"
#include "output.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitServer = 1;
constexpr int kExitUsage = 2;

struct Request {
    std::string method;
    nlohmann::json params = nlohmann::json::object();
    bool stream = false;
};

std::filesystem::path default_socket() {
    if (const char* env = std::getenv("VTL_CONTROL_SOCKET"); env && *env) return env;
    std::error_code ec;
    if (std::filesystem::exists("/run/vtl/vtld.sock", ec)) return "/run/vtl/vtld.sock";
    return "/var/lib/vtl/vtld.sock";
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CLI::ValidationError(fmt::format("cannot read {}", path));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"vtlctl: manage a running vtld through its control socket"};
    app.require_subcommand(1);
    std::string socket;
    uint16_t tcp_port = 0;
    std::string token_file;
    bool json = false;
    app.add_option("--socket", socket,
                   "Control socket (default: $VTL_CONTROL_SOCKET, /run/vtl/vtld.sock, "
                   "/var/lib/vtl/vtld.sock)");
    auto* tcp = app.add_option("--tcp", tcp_port, "Connect to 127.0.0.1:PORT instead (vtld --control-tcp)");
    app.add_option("--token-file", token_file, "With --tcp: the file holding the token")->needs(tcp);
    app.add_flag("--json", json, "Print the server's JSON result (one document; trace follow: JSON lines)");
    app.set_version_flag("--version", std::string("vtlctl ") + VTL_VERSION);

    Request req;
    auto simple = [&](CLI::App* sub, std::string method) {
        sub->callback([&req, method] { req.method = method; });
        return sub;
    };
    simple(app.add_subcommand("libraries", "Libraries: layout, cartridges, I/E door, robot queue"), "libraries");
    simple(app.add_subcommand("methods", "Every method the server answers"), "methods");

    std::string lib;
    auto* devices = app.add_subcommand("devices", "Devices with their identity and TCMU state");
    devices->add_option("LIBRARY", lib, "Only this library");
    devices->callback([&] {
        req.method = "devices";
        if (!lib.empty()) req.params["library"] = lib;
    });

    bool picture = false;
    auto* inventory = app.add_subcommand("inventory", "Elements and cartridges of a library");
    inventory->add_option("LIBRARY", lib, "The library (may be omitted when there is one)");
    inventory->add_flag("--picture", picture, "Draw the library as text");
    inventory->callback([&] {
        req.method = picture ? "inventory.picture" : "inventory";
        if (!lib.empty()) req.params["library"] = lib;
    });

    uint32_t ie = 0;
    std::string barcode;
    auto* insert =
        app.add_subcommand("insert", "Put a new cartridge into an import/export slot (the door must be open)");
    insert->add_option("LIBRARY", lib)->required();
    insert->add_option("IE", ie, "Import/export slot, counted from 0")->required();
    insert->add_option("BARCODE", barcode)->required();
    insert->callback([&] { req = {"insert", {{"library", lib}, {"ie", ie}, {"barcode", barcode}}}; });

    auto* take = app.add_subcommand("take", "Take the cartridge out of an import/export slot (the door must be open)");
    take->add_option("LIBRARY", lib)->required();
    take->add_option("IE", ie, "Import/export slot, counted from 0")->required();
    take->callback([&] { req = {"take", {{"library", lib}, {"ie", ie}}}; });

    std::string door_state;
    auto* door = app.add_subcommand("door", "Open or close the import/export door");
    door->add_option("LIBRARY", lib)->required();
    door->add_option("STATE", door_state)->required()->check(CLI::IsMember({"open", "close"}));
    door->callback([&] { req = {"door", {{"library", lib}, {"open", door_state == "open"}}}; });

    // cartridge create|delete
    auto* cartridge = app.add_subcommand("cartridge", "Create or delete cartridges");
    cartridge->require_subcommand(1);
    uint32_t slot = 0;
    auto* ccreate = cartridge->add_subcommand("create", "Create a cartridge in an empty storage slot");
    ccreate->add_option("LIBRARY", lib)->required();
    ccreate->add_option("BARCODE", barcode)->required();
    ccreate->add_option("--slot", slot, "Storage slot number, from 1 (default: the first empty one)");
    ccreate->callback([&] {
        req = {"cartridge.create", {{"library", lib}, {"barcode", barcode}}};
        if (slot) req.params["slot"] = slot;
    });
    auto* cdelete = cartridge->add_subcommand("delete", "Delete a cartridge and its data");
    cdelete->add_option("LIBRARY", lib)->required();
    cdelete->add_option("BARCODE", barcode)->required();
    cdelete->callback([&] { req = {"cartridge.delete", {{"library", lib}, {"barcode", barcode}}}; });

    // image import|export
    std::string image_file;
    auto* image = app.add_subcommand("image", "Import or export tape images (SIMH .tap, AWSTAPE .aws)");
    image->require_subcommand(1);
    auto* iimport = image->add_subcommand("import", "Load an image file into a cartridge");
    iimport->add_option("LIBRARY", lib)->required();
    iimport->add_option("BARCODE", barcode)->required();
    iimport->add_option("FILE", image_file, "Image file (.tap or .aws), read by vtld")->required();
    iimport->callback([&] {
        req = {"image.import",
               {{"library", lib}, {"barcode", barcode}, {"file", std::filesystem::absolute(image_file).string()}}};
    });
    auto* iexport = image->add_subcommand("export", "Write a cartridge out as an image file");
    iexport->add_option("LIBRARY", lib)->required();
    iexport->add_option("BARCODE", barcode)->required();
    iexport->add_option("FILE", image_file, "Image file to write (.tap or .aws), written by vtld")->required();
    iexport->callback([&] {
        req = {"image.export",
               {{"library", lib}, {"barcode", barcode}, {"file", std::filesystem::absolute(image_file).string()}}};
    });

    // fault add|load|list|remove|clear|stats
    auto* fault = app.add_subcommand("fault", "The fault plan (docs/faults.md)");
    fault->require_subcommand(1);
    std::string rule_json;
    std::string plan_file;
    uint64_t rule_id = 0;
    auto* fadd = fault->add_subcommand("add", "Add one rule");
    fadd->add_option("--json", rule_json, "The rule as a JSON object")->required();
    fadd->callback([&] {
        auto rule = nlohmann::json::parse(rule_json, nullptr, false);
        if (rule.is_discarded() || !rule.is_object()) throw CLI::ValidationError("--json: expected a JSON object");
        req = {"faults.add", {{"rule", rule}}};
    });
    auto* fload = fault->add_subcommand("load", "Add the [[fault]] rules of a TOML plan file");
    fload->add_option("FILE", plan_file)->required();
    fload->callback([&] { req = {"faults.load", {{"toml", read_file(plan_file)}, {"source", plan_file}}}; });
    simple(fault->add_subcommand("list", "Every rule with how often it fired"), "faults.list");
    auto* fremove = fault->add_subcommand("remove", "Remove one rule");
    fremove->add_option("ID", rule_id)->required();
    fremove->callback([&] { req = {"faults.remove", {{"id", rule_id}}}; });
    simple(fault->add_subcommand("clear", "Remove every rule"), "faults.clear");
    simple(fault->add_subcommand("stats", "Faults fired, by action and rule"), "faults.stats");

    // clock [real|scale N|virtual|advance D]
    auto* clock = app.add_subcommand("clock", "Show the clock, or run it real, scaled, virtual, or jump it");
    std::vector<std::string> clock_args;
    clock->add_option("ACTION", clock_args, "real | scale N | virtual | advance DURATION (12m, 90s, 1.5h, 250ms)");
    clock->callback([&] {
        if (clock_args.empty()) {
            req.method = "clock";
        } else if (clock_args[0] == "real" && clock_args.size() == 1) {
            req.method = "clock.real";
        } else if (clock_args[0] == "virtual" && clock_args.size() == 1) {
            req.method = "clock.virtual";
        } else if (clock_args[0] == "scale" && clock_args.size() == 2) {
            double f = 0;
            try {
                f = std::stod(clock_args[1]);
            } catch (const std::exception&) {
                throw CLI::ValidationError("clock scale: N must be a number");
            }
            req = {"clock.scale", {{"factor", f}}};
        } else if (clock_args[0] == "advance" && clock_args.size() == 2) {
            req = {"clock.advance", {{"duration", clock_args[1]}}};
        } else {
            throw CLI::ValidationError("clock: expected real, scale N, virtual or advance DURATION");
        }
    });

    bool prometheus = false;
    auto* stats = app.add_subcommand("stats", "Command counts and latencies, robot queues, faults fired");
    stats->add_flag("--prometheus", prometheus, "Print the Prometheus text exposition");
    stats->callback([&] { req.method = prometheus ? "stats.prometheus" : "stats"; });

    auto* trace = app.add_subcommand("trace", "The command trace (JSON lines)");
    trace->require_subcommand(1);
    std::string trace_file;
    auto* tstart = trace->add_subcommand("start", "Append every command to FILE (written by vtld)");
    tstart->add_option("FILE", trace_file)->required();
    tstart->callback([&] { req = {"trace.start", {{"file", std::filesystem::absolute(trace_file).string()}}}; });
    simple(trace->add_subcommand("stop", "Stop writing the trace file"), "trace.stop");
    simple(trace->add_subcommand("status", "Whether a trace file is being written"), "trace.status");
    auto* tfollow = trace->add_subcommand("follow", "Print every command as it completes, until interrupted");
    tfollow->callback([&] { req = {"trace.follow", nlohmann::json::object(), true}; });

    std::string name;
    auto* reset = app.add_subcommand("reset", "Put a library back to its configured inventory");
    reset->add_option("LIBRARY", lib)->required();
    reset->callback([&] { req = {"reset", {{"library", lib}}}; });
    auto* snapshot = app.add_subcommand("snapshot", "Save a library and its cartridges under NAME");
    snapshot->add_option("LIBRARY", lib)->required();
    snapshot->add_option("NAME", name)->required();
    snapshot->callback([&] { req = {"snapshot", {{"library", lib}, {"name", name}}}; });
    auto* restore = app.add_subcommand("restore", "Bring a library back to snapshot NAME");
    restore->add_option("LIBRARY", lib)->required();
    restore->add_option("NAME", name)->required();
    restore->callback([&] { req = {"restore", {{"library", lib}, {"name", name}}}; });
    auto* snapshots = app.add_subcommand("snapshots", "List a library's snapshots");
    snapshots->add_option("LIBRARY", lib)->required();
    snapshots->callback([&] { req = {"snapshots", {{"library", lib}}}; });
    auto* sdelete = app.add_subcommand("snapshot-delete", "Delete snapshot NAME of a library");
    sdelete->add_option("LIBRARY", lib)->required();
    sdelete->add_option("NAME", name)->required();
    sdelete->callback([&] { req = {"snapshot.delete", {{"library", lib}, {"name", name}}}; });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::cerr << "vtlctl: " << e.what() << '\n';
        return kExitUsage;
    }

    try {
        vtl::control::Client client = [&] {
            if (tcp_port) {
                if (token_file.empty()) throw CLI::ValidationError("--tcp needs --token-file");
                std::string token = read_file(token_file);
                while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
                return vtl::control::Client::tcp(tcp_port, token);
            }
            return vtl::control::Client::unix_socket(socket.empty() ? default_socket() : std::filesystem::path(socket));
        }();
        if (req.stream) {
            client.stream(req.method, req.params, [](const std::string& line) {
                std::cout << line << '\n' << std::flush;
                return static_cast<bool>(std::cout);
            });
            return kExitOk;
        }
        const nlohmann::json result = client.call(req.method, req.params);
        if (json) {
            std::cout << result.dump(2) << '\n';
        } else {
            std::cout << vtlctl::human(req.method, result);
        }
        return kExitOk;
    } catch (const vtl::control::ControlError& e) {
        std::cerr << "vtlctl: " << e.what() << " (" << e.code() << ")\n";
        return kExitServer;
    } catch (const vtl::control::ConnectionError& e) {
        std::cerr << "vtlctl: " << e.what() << '\n';
        return kExitUsage;
    } catch (const CLI::ValidationError& e) {
        std::cerr << "vtlctl: " << e.what() << '\n';
        return kExitUsage;
    }
}
