// Library reset, snapshot and restore (library/lifecycle.cpp) with 50 small cartridges (8 records
// of 16 KiB each) and 2 of 4 drives loaded, on a persistent library (state directory under the
// system temp directory). Baseline in the same run: std::filesystem::copy of the cartridge
// directory, the plain copy a snapshot makes besides its own bookkeeping. Target (issue 6):
// under a second each.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fs.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "config/config.h"
#include "core/virtual_clock.h"
#include "library/library.h"
#include "storage/store.h"

namespace {

using namespace vtl;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kCartridges = 50;
constexpr uint32_t kRecords = 8;
constexpr size_t kRecordBytes = 16 << 10;
constexpr double kTargetMs = 1000.0;

fs::path scratch() {
    static const fs::path root = [] {
        std::string pattern = (fs::temp_directory_path() / "vtl-bench-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        return fs::path(pattern);
    }();
    return root;
}

config::LibraryConfig bench_config() {
    auto c = config::library_defaults("reset0");
    c.slots = 60;
    c.state_dir = scratch() / "state";
    c.timings = config::Timings{.pick = std::chrono::milliseconds(0),
                                .place = std::chrono::milliseconds(0),
                                .load = std::chrono::milliseconds(0),
                                .unload = std::chrono::milliseconds(0),
                                .slot_to_slot = std::chrono::milliseconds(0),
                                .ie_to_slot = std::chrono::milliseconds(0)};
    for (int i = 0; i < 4; ++i) {
        config::DriveConfig d;
        d.name = fmt::format("drive{}", i);
        d.serial = config::default_drive_serial(c.name, d.name);
        c.drives.push_back(d);
    }
    for (uint32_t i = 0; i < kCartridges; ++i) {
        c.cartridges.push_back(config::CartridgeConfig{
            .barcode = fmt::format("R{:05}L8", i), .slot = i + 1, .generation = 8, .capacity = 64u << 20});
    }
    return c;
}

// A persistent library whose cartridges hold data, two of them in drives.
struct Rig {
    config::LibraryConfig config = bench_config();
    VirtualClock clock;
    std::unique_ptr<library::Library> lib;

    Rig() {
        fs::remove_all(config.state_dir);
        lib = std::make_unique<library::Library>(config, clock, library::Library::Options{.persist = true});
        fill();
    }

    void fill() {
        std::vector<uint8_t> record(kRecordBytes);
        for (size_t i = 0; i < record.size(); ++i) record[i] = static_cast<uint8_t>(i * 131 + 7);
        for (const auto& c : config.cartridges) {
            auto cartridge =
                lib->cartridge_store().open_cartridge(c.barcode, {.layout = storage::Layout{*c.capacity, {}}});
            if (!cartridge.ok()) throw std::runtime_error(cartridge.error().message);
            for (uint32_t r = 0; r < kRecords; ++r) (void)(*cartridge)->write_record(record);
            (void)(*cartridge)->write_filemarks(1);
        }
        for (uint16_t d = 0; d < 2; ++d) {
            bool done = false;
            lib->start_move(library::MoveRequest{.source = static_cast<uint16_t>(config.addresses.slot + d),
                                                 .destination = static_cast<uint16_t>(config.addresses.drive + d)},
                            [&](std::optional<scsi::Sense>) { done = true; });
            for (int i = 0;
                 i < 100 && (!done || lib->drive_at(static_cast<uint16_t>(config.addresses.drive + d))->state() !=
                                          DriveMechanism::State::Loaded);
                 ++i) {
                clock.advance(std::chrono::milliseconds(100));
            }
        }
    }
};

void check(const std::optional<std::string>& error) {
    if (error) throw std::runtime_error(*error);
}

void report(benchmark::State& state, double total_ms) {
    const double ms = total_ms / static_cast<double>(state.iterations());
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

double baseline_ms = 0;

// Baseline: a recursive copy of the cartridge directory, nothing else.
void BM_BaselineCopyCartridges(benchmark::State& state) {
    Rig rig;
    const fs::path target = scratch() / "copy";
    double total = 0;
    for (auto _ : state) {
        fs::remove_all(target);
        const double ms =
            timed_ms([&] { fs::copy(rig.lib->cartridge_store().directory(), target, fs::copy_options::recursive); });
        state.SetIterationTime(ms / 1000);
        total += ms;
    }
    fs::remove_all(target);
    baseline_ms = total / static_cast<double>(state.iterations());
    report(state, total);
}
BENCHMARK(BM_BaselineCopyCartridges)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(10);

void ratio(benchmark::State& state, double total) {
    report(state, total);
    if (baseline_ms > 0) state.counters["x_baseline"] = total / static_cast<double>(state.iterations()) / baseline_ms;
}

void BM_Snapshot(benchmark::State& state) {
    Rig rig;
    double total = 0;
    for (auto _ : state) {
        const double ms = timed_ms([&] { check(rig.lib->snapshot("bench")); });
        state.SetIterationTime(ms / 1000);
        total += ms;
        state.PauseTiming();
        check(rig.lib->delete_snapshot("bench"));
        state.ResumeTiming();
    }
    ratio(state, total);
}
BENCHMARK(BM_Snapshot)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(10);

void BM_Restore(benchmark::State& state) {
    Rig rig;
    check(rig.lib->snapshot("base"));
    double total = 0;
    for (auto _ : state) {
        const double ms = timed_ms([&] { check(rig.lib->restore("base")); });
        state.SetIterationTime(ms / 1000);
        total += ms;
    }
    ratio(state, total);
}
BENCHMARK(BM_Restore)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(10);

void BM_Reset(benchmark::State& state) {
    Rig rig;
    double total = 0;
    for (auto _ : state) {
        const double ms = timed_ms([&] { check(rig.lib->reset()); });
        state.SetIterationTime(ms / 1000);
        total += ms;
        state.PauseTiming();
        rig.fill();
        state.ResumeTiming();
    }
    ratio(state, total);
}
BENCHMARK(BM_Reset)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(10);

// Whether this file system shares extents (FICLONE): snapshots clone files there, copy elsewhere.
bool reflinks() {
    const fs::path a = scratch() / "ficlone-a", b = scratch() / "ficlone-b";
    const int fa = ::open(a.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    const int fb = ::open(b.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    const bool ok = fa >= 0 && fb >= 0 && ::write(fa, "x", 1) == 1 && ::ioctl(fb, FICLONE, fa) == 0;
    if (fa >= 0) ::close(fa);
    if (fb >= 0) ::close(fb);
    fs::remove(a);
    fs::remove(b);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    benchmark::Initialize(&argc, argv);
    std::printf(
        "Library reset/snapshot/restore, %u cartridges of %u x %zu KiB, 2 of 4 drives loaded, in %s "
        "(reflinks: %s); target < %.0f ms each (counter ms vs target_ms, x_baseline vs a plain copy)\n",
        kCartridges, kRecords, kRecordBytes >> 10, scratch().c_str(), reflinks() ? "yes" : "no, copies", kTargetMs);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::error_code ec;
    fs::remove_all(scratch(), ec);
    return 0;
}
