// Library start-up with 50,000 slots, 200 drives and 50,000 cartridges: fresh from the config
// (which writes the first snapshot), and reopening a state directory holding a snapshot plus a
// journal of 10,000 moves. Baselines in the same run: building the empty inventory, and the
// in-memory library without persistence. Target (issue 3): <= 1 s to start.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/config.h"
#include "core/virtual_clock.h"
#include "library/library.h"
#include "library/state_store.h"
#include "smc/inventory.h"

namespace {

using namespace vtl;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kSlots = 50'000;
constexpr uint32_t kDrives = 200;
constexpr uint32_t kJournalMoves = 10'000;
constexpr double kTargetMs = 1000.0;

fs::path scratch() {
    static const fs::path root = [] {
        std::string pattern = (fs::temp_directory_path() / "vtl-bench-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        return fs::path(pattern);
    }();
    return root;
}

// Robots, I/E, drives and slots fill 0x0000..0xC74F: 4 robots at 0, 240 I/E at 0x10, 200 drives
// at 0x100, 50,000 slots at 0x400.
config::LibraryConfig big_config(uint32_t cartridges) {
    auto c = config::library_defaults("big0");
    c.robots = 4;
    c.slots = kSlots;
    c.ie_slots = 240;
    c.addresses = config::AddressBases{.transport = 0x0000, .ie = 0x0010, .drive = 0x0100, .slot = 0x0400};
    c.state_dir = scratch() / "state";
    for (uint32_t i = 0; i < kDrives; ++i) {
        config::DriveConfig d;
        d.name = fmt::format("drive{}", i);
        d.serial = config::default_drive_serial(c.name, d.name);
        c.drives.push_back(d);
    }
    for (uint32_t i = 0; i < cartridges; ++i) {
        c.cartridges.push_back(config::CartridgeConfig{
            .barcode = fmt::format("B{:05}L8", i), .slot = i + 1, .type = config::MediaType::Data, .generation = 8});
    }
    return c;
}

const config::LibraryConfig& full_config() {
    static const auto c = big_config(kSlots);
    return c;
}

void report(benchmark::State& state, double total_ms, int64_t runs) {
    const double ms = total_ms / static_cast<double>(runs);
    state.counters["ms"] = ms;
    state.counters["target_ms"] = kTargetMs;
    state.counters["within_target"] = ms <= kTargetMs ? 1 : 0;
}

template <typename F>
double timed_ms(F&& f) {
    const auto t0 = Clock::now();
    f();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Baseline: the element table alone (65,536-entry index, 50,440 elements), no cartridges.
void BM_EmptyInventory(benchmark::State& state) {
    const auto c = big_config(0);
    for (auto _ : state) {
        smc::Inventory inv(c);
        benchmark::DoNotOptimize(inv.all().data());
    }
}
BENCHMARK(BM_EmptyInventory)->Unit(benchmark::kMillisecond);

// Baseline: the whole library in memory (logical units, drives, 50,000 cartridges), no disk.
void BM_StartInMemory(benchmark::State& state) {
    const auto& c = full_config();
    double total = 0;
    for (auto _ : state) {
        VirtualClock clock;
        std::unique_ptr<library::Library> lib;
        const double ms = timed_ms([&] { lib = std::make_unique<library::Library>(c, clock); });
        state.SetIterationTime(ms / 1000);
        total += ms;
        state.PauseTiming();
        lib.reset();
        state.ResumeTiming();
    }
    report(state, total, state.iterations());
}
BENCHMARK(BM_StartInMemory)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);

// First start: the config's inventory is written as the first snapshot (fsync'd).
void BM_StartFresh(benchmark::State& state) {
    const auto& c = full_config();
    double total = 0;
    for (auto _ : state) {
        fs::remove_all(c.state_dir);
        VirtualClock clock;
        std::unique_ptr<library::Library> lib;
        const double ms = timed_ms([&] {
            lib = std::make_unique<library::Library>(c, clock, library::Library::Options{.persist = true});
        });
        state.SetIterationTime(ms / 1000);
        total += ms;
        lib.reset();
    }
    report(state, total, state.iterations());
}
BENCHMARK(BM_StartFresh)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);

// A state directory with a snapshot and 10,000 journaled moves, made once and copied per run
// (a library that shuts down cleanly compacts, so the files are copied before that).
const fs::path& golden_state() {
    static const fs::path golden = [] {
        const auto& c = full_config();
        fs::remove_all(c.state_dir);
        {
            VirtualClock clock;
            library::Library lib(c, clock, library::Library::Options{.persist = true, .compact_after = kJournalMoves * 2});
            std::mt19937 rng(42);
            // Shuffle cartridges between the last 1,000 slots' worth of room: free some slots first.
            std::uniform_int_distribution<uint32_t> any(0, kSlots - 1);
            const uint16_t first = c.addresses.slot;
            for (uint32_t n = 0; n < kJournalMoves; ++n) {
                library::MoveRequest m;
                do {
                    m.source = static_cast<uint16_t>(first + any(rng));
                    m.destination = static_cast<uint16_t>(c.addresses.drive + any(rng) % kDrives);
                    if (lib.inventory().at(m.destination)->full()) std::swap(m.source, m.destination);
                } while (lib.check_move(m));
                bool done = false;
                lib.start_move(m, [&](std::optional<scsi::Sense>) { done = true; });
                while (!done) clock.advance(std::chrono::minutes(1));
            }
            fs::copy(c.state_dir, scratch() / "golden");
        }
        return scratch() / "golden";
    }();
    return golden;
}

void BM_ReopenSnapshotPlusJournal(benchmark::State& state) {
    const auto& c = full_config();
    const auto& golden = golden_state();
    double total = 0;
    for (auto _ : state) {
        state.PauseTiming();
        fs::remove_all(c.state_dir);
        fs::copy(golden, c.state_dir);
        state.ResumeTiming();
        VirtualClock clock;
        std::unique_ptr<library::Library> lib;
        const double ms = timed_ms([&] {
            lib = std::make_unique<library::Library>(c, clock, library::Library::Options{.persist = true});
        });
        state.SetIterationTime(ms / 1000);
        total += ms;
        state.PauseTiming();
        lib.reset();
        state.ResumeTiming();
    }
    state.counters["journal_records"] = kJournalMoves;
    report(state, total, state.iterations());
}
BENCHMARK(BM_ReopenSnapshotPlusJournal)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    benchmark::Initialize(&argc, argv);
    std::printf("Library start-up, %u slots, %u drives, %u cartridges; target <= %.0f ms (counter ms vs target_ms)\n",
                kSlots, kDrives, kSlots, kTargetMs);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::error_code ec;
    fs::remove_all(scratch(), ec);
    return 0;
}
