// vtl-move: move a cartridge through /dev/sgN or iscsi://, synchronously (MOVE MEDIUM) or the safe
// way behind an ADI bridge (ASYNC MOVE MEDIUM, then MOVE QUERY until a final result), printing
// every step. Exit status: 0 the move succeeded, 1 the device reported a failure, 2 usage or
// transport error.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "mover.h"
#include "report.h"

namespace {

using namespace vtl::client;

constexpr int kExitUsage = 2;

uint16_t address(const std::string& text, const char* what) {
    auto v = parse_number(text, 0xFFFF);
    if (!v)
        throw CLI::ValidationError(what, fmt::format("'{}' is not an element address (0-65535 or 0x0-0xFFFF)", text));
    return static_cast<uint16_t>(*v);
}

uint8_t opcode(const std::string& text, const char* what) {
    auto v = parse_number(text, 0xFF);
    if (!v) throw CLI::ValidationError(what, fmt::format("'{}' is not an opcode (0x00-0xFF)", text));
    return static_cast<uint8_t>(*v);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "vtl-move: move a cartridge in a SCSI medium changer, synchronously (MOVE MEDIUM) or asynchronously "
        "(ASYNC MOVE MEDIUM, then MOVE QUERY until the move ends)"};
    std::string device, source_text, dest_text, transport_text = "0", move_op = "0xC5", query_op = "0xC6";
    bool sync = false, async = false, json = false, element_status = false, verbose = false;
    unsigned wait_s = 255, timeout_s = 900;
    int retries = 5;
    std::string resume_text;
    MoveOptions o;

    app.add_option("DEVICE", device, "/dev/sgN, or iscsi://[user%pass@]host[:port]/target-iqn/lun")->required();
    app.add_option("SOURCE", source_text, "Source element address (decimal or 0x hex)")->required();
    app.add_option("DEST", dest_text, "Destination element address (decimal or 0x hex)")->required();
    app.add_option("--transport", transport_text, "MEDIUM TRANSPORT ADDRESS (default 0: the library chooses)");
    auto* sync_flag = app.add_flag("--sync", sync, "MOVE MEDIUM (A5h), waiting for the end of the move (default)");
    app.add_flag("--async", async, "ASYNC MOVE MEDIUM, then MOVE QUERY with --wait until a final result")
        ->excludes(sync_flag);
    app.add_option("--wait", wait_s, "MOVE QUERY's WAIT TIME in seconds, 0-255 (default 255)")
        ->check(CLI::Range(0u, 255u));
    app.add_option("--timeout", timeout_s, "Timeout of MOVE MEDIUM / ASYNC MOVE MEDIUM in seconds (default 900)")
        ->check(CLI::Range(1u, 86400u));
    app.add_flag("--release", o.release, "Release the token with the query that returns the final result");
    app.add_option("--move-opcode", move_op, "Opcode of ASYNC MOVE MEDIUM (default 0xC5)");
    app.add_option("--query-opcode", query_op, "Opcode of MOVE QUERY (default 0xC6)");
    app.add_option("--resume", resume_text, "Do not move: query this token (from an earlier --async) until final");
    app.add_option("--retries", retries,
                   "Send a command again at most this many times in a row after a unit "
                   "attention, BUSY or a query that timed out (default 5)")
        ->check(CLI::Range(0, 100));
    app.add_flag("--element-status", element_status,
                 "Afterwards, READ ELEMENT STATUS of SOURCE and DEST: where the cartridge is");
    app.add_flag("--json", json, "One JSON object per step, one per line");
    app.add_flag("-v,--verbose", verbose, "Also print each command as it is sent");

    try {
        app.parse(argc, argv);
        o.source = address(source_text, "SOURCE");
        o.destination = address(dest_text, "DEST");
        o.transport = address(transport_text, "--transport");
        o.move_opcode = opcode(move_op, "--move-opcode");
        o.query_opcode = opcode(query_op, "--query-opcode");
        if (o.move_opcode == o.query_opcode)
            throw CLI::ValidationError("--query-opcode", "must differ from --move-opcode");
        if (!resume_text.empty()) {
            if (!parse_number(resume_text, UINT32_MAX) || *parse_number(resume_text, UINT32_MAX) == 0)
                throw CLI::ValidationError("--resume", fmt::format("'{}' is not a token (1-4294967295)", resume_text));
            async = true;
        }
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }
    o.wait_s = static_cast<uint8_t>(wait_s);
    o.sync_timeout = std::chrono::seconds(timeout_s);
    o.retries = retries;

    std::string error;
    auto transport = open_transport(device, error);
    if (!transport) {
        if (json)
            std::cout << nlohmann::json{{"step", "transport_error"}, {"message", error}}.dump() << std::endl;
        else
            std::cerr << "vtl-move: " << error << std::endl;
        return kExitUsage;
    }

    auto sink = [&](const Step& s) {
        if (s.kind == StepKind::Sent && !verbose) return;
        if (json)
            std::cout << step_json(s).dump() << std::endl;
        else
            std::cout << step_text(s) << std::endl;
    };
    if (!json) {
        if (async)
            std::cout << fmt::format("{} 0x{:04X} -> 0x{:04X} through {} (opcodes {:02X}h/{:02X}h, wait {} s{})",
                                     resume_text.empty() ? "async move" : "resume", o.source, o.destination,
                                     transport->name(), o.move_opcode, o.query_opcode, o.wait_s,
                                     o.release ? ", release" : "")
                      << std::endl;
        else
            std::cout << fmt::format("move 0x{:04X} -> 0x{:04X} through {} (MOVE MEDIUM, timeout {} s)", o.source,
                                     o.destination, transport->name(), timeout_s)
                      << std::endl;
    }

    Mover mover(*transport, Timebase::steady(), sink);
    MoveOutcome outcome;
    if (!resume_text.empty())
        outcome = mover.query_until_final(o, *parse_number(resume_text, UINT32_MAX));
    else
        outcome = async ? mover.async_move(o) : mover.sync_move(o);

    if (element_status) {
        for (uint16_t a : {o.source, o.destination}) {
            std::string why;
            if (auto e = mover.element(a, why)) {
                if (json)
                    std::cout << element_json(*e).dump() << std::endl;
                else
                    std::cout << element_text(*e) << std::endl;
            } else if (json) {
                std::cout << nlohmann::json{{"step", "element"}, {"address", a}, {"error", why}}.dump() << std::endl;
            } else {
                std::cout << fmt::format("element 0x{:04X}: READ ELEMENT STATUS failed: {}", a, why) << std::endl;
            }
        }
    }
    return static_cast<int>(outcome);
}
