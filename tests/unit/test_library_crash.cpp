// kill -9 at any instant: a child process performs a stream of random moves on a persistent
// library and reports each one as it starts and once its `done` has run; the parent kills it
// after a random 0-20 ms, reopens the library from the same directory and checks that every
// cartridge is there exactly once and that the inventory is the one after the acknowledged moves,
// or after one more (the move in flight). The next child continues from that state.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/virtual_clock.h"
#include "library/library.h"
#include "library_fixture.h"

using namespace vtl;
using namespace vtl::libtest;
using namespace std::chrono_literals;
using library::Library;
using library::MoveRequest;

namespace {

constexpr int kIterations = 200;
constexpr int kMaxKillMicros = 20'000;

config::LibraryConfig crash_library(const std::filesystem::path& dir) {
    auto cfg = config::library_defaults("crash0");
    cfg.state_dir = dir / "crash0";
    cfg.slots = 24;
    cfg.ie_slots = 2;
    for (int i = 0; i < 2; ++i) {
        config::DriveConfig d;
        d.name = fmt::format("drive{}", i);
        d.serial = config::default_drive_serial(cfg.name, d.name);
        cfg.drives.push_back(d);
    }
    for (uint32_t i = 1; i <= 16; ++i) {
        cfg.cartridges.push_back(
            config::CartridgeConfig{.barcode = fmt::format("K{:05}L8", i), .slot = i, .generation = 8});
    }
    return cfg;
}

void say(int fd, const std::string& line) {
    const std::string text = line + "\n";
    [[maybe_unused]] auto n = ::write(fd, text.data(), text.size());  // < PIPE_BUF: all or nothing
}

// The child: never returns.
[[noreturn]] void mover(const config::LibraryConfig& cfg, uint64_t seed, int fd) {
    spdlog::default_logger()->set_level(spdlog::level::off);
    if (auto l = spdlog::get("vtl")) l->set_level(spdlog::level::off);
    try {
        VirtualClock clock;
        Library lib(cfg, clock, Library::Options{.persist = true, .compact_after = 7});
        std::mt19937_64 rng(seed);
        std::vector<uint16_t> places;
        for (const auto& e : lib.inventory().all()) {
            if (e.type == smc::ElementType::Storage || e.type == smc::ElementType::DataTransfer) places.push_back(e.address);
        }
        std::uniform_int_distribution<size_t> pick(0, places.size() - 1);
        for (int n = 1;; ++n) {
            MoveRequest m;
            do {
                m.source = places[pick(rng)];
                m.destination = places[pick(rng)];
            } while (m.source == m.destination || lib.check_move(m));
            say(fd, fmt::format("start {} {} {}", n, m.source, m.destination));
            bool done = false;
            lib.start_move(m, [&](std::optional<scsi::Sense> s) {
                if (s) ::_exit(3);
                done = true;
            });
            while (!done) clock.advance(60s);
            say(fd, fmt::format("acked {} {} {}", n, m.source, m.destination));
        }
    } catch (...) {
        ::_exit(2);
    }
}

struct Report {
    std::vector<std::pair<uint16_t, uint16_t>> acked;
    std::optional<std::pair<uint16_t, uint16_t>> in_flight;
};

Report parse(const std::string& text) {
    Report r;
    std::istringstream in(text);
    std::string word;
    int n = 0;
    unsigned src = 0, dst = 0;
    while (in >> word >> n >> src >> dst) {
        const auto move = std::make_pair(static_cast<uint16_t>(src), static_cast<uint16_t>(dst));
        if (word == "start") {
            r.in_flight = move;
        } else {
            r.acked.push_back(move);
            r.in_flight.reset();
        }
    }
    return r;
}

// Reopening logs "replayed N records" each time; 200 of those are noise here.
class QuietLogs {
public:
    QuietLogs() : level_(spdlog::default_logger()->level()) { set(spdlog::level::warn); }
    ~QuietLogs() { set(level_); }

private:
    static void set(spdlog::level::level_enum l) {
        spdlog::default_logger()->set_level(l);
        if (auto v = spdlog::get("vtl")) v->set_level(l);
    }
    spdlog::level::level_enum level_;
};

void apply(smc::Inventory& inv, uint16_t robot, std::pair<uint16_t, uint16_t> m) {
    inv.move(m.first, robot);
    inv.move(robot, m.second);
}

}  // namespace

TEST(LibraryCrash, KillNineAtAnyInstantReopensConsistent) {
    uint64_t seed = std::random_device{}();
    if (const char* s = std::getenv("VTL_CRASH_SEED")) seed = std::strtoull(s, nullptr, 10);
    SCOPED_TRACE(fmt::format("seed {} (rerun with VTL_CRASH_SEED={})", seed, seed));
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> delay(0, kMaxKillMicros);
    QuietLogs quiet;

    TempDir dir;
    const auto cfg = crash_library(dir.path());
    const uint16_t robot = cfg.addresses.transport;
    smc::Inventory model(cfg);  // what the directory must hold
    size_t total_acked = 0, in_flight_included = 0, during_startup = 0, during_move = 0;

    for (int iter = 0; iter < kIterations; ++iter) {
        SCOPED_TRACE(fmt::format("iteration {}", iter));
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        const uint64_t child_seed = rng();
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(fds[0]);
            mover(cfg, child_seed, fds[1]);
        }
        ::close(fds[1]);
        std::this_thread::sleep_for(std::chrono::microseconds(delay(rng)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        std::string output;
        char buf[4096];
        for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) output.append(buf, static_cast<size_t>(n));
        ::close(fds[0]);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the child ended by itself, status " << status << ":\n" << output;

        const Report report = parse(output);
        if (output.empty()) ++during_startup;
        if (report.in_flight) ++during_move;
        for (const auto& m : report.acked) apply(model, robot, m);
        total_acked += report.acked.size();
        const auto expected = model.to_json();
        nlohmann::json with_in_flight;
        if (report.in_flight) {
            smc::Inventory plus = model;
            apply(plus, robot, *report.in_flight);
            with_in_flight = plus.to_json();
        }

        VirtualClock clock;
        std::unique_ptr<Library> lib;
        try {
            lib = std::make_unique<Library>(cfg, clock, Library::Options{.persist = true});
        } catch (const std::exception& e) {
            FAIL() << "reopen failed: " << e.what();
        }
        const auto& inv = lib->inventory();
        std::set<std::string> seen;
        size_t cartridges = 0;
        for (const auto& e : inv.all()) {
            if (!e.cartridge) continue;
            ++cartridges;
            EXPECT_TRUE(seen.insert(inv.cartridge(*e.cartridge).barcode).second) << "twice: " << inv.cartridge(*e.cartridge).barcode;
            EXPECT_NE(e.type, smc::ElementType::MediumTransport) << "left in the gripper";
        }
        EXPECT_EQ(cartridges, cfg.cartridges.size());
        const auto got = inv.to_json();
        if (got == expected) {
            // fine: the move in flight (if any) had not reached the journal
        } else if (report.in_flight && got == with_in_flight) {
            apply(model, robot, *report.in_flight);
            ++in_flight_included;
        } else {
            FAIL() << "the reopened inventory is neither the acknowledged state nor one move further\nacked "
                   << report.acked.size() << " moves; child output:\n" << output;
        }
    }
    std::printf("[ LibraryCrash ] seed %llu: %d kills (%zu while opening, %zu with a move in flight, of which %zu "
                "were found committed), %zu acknowledged moves\n",
                static_cast<unsigned long long>(seed), kIterations, during_startup, during_move, in_flight_included,
                total_acked);
}
