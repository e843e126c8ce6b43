// READ ELEMENT STATUS of every element of a 50,000-slot, 200-drive library with volume tags,
// through the logical unit as a host sends it; a one-element READ ELEMENT STATUS in the same run
// is the baseline. Target (issue 3): <= 20 ms for the full report.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cdb.h"
#include "config/config.h"
#include "core/virtual_clock.h"
#include "initiator.h"
#include "library/library.h"

namespace {

using namespace vtl;

constexpr uint32_t kSlots = 50'000;
constexpr uint32_t kDrives = 200;
constexpr uint32_t kCartridges = 45'000;  // most slots full, some empty, as in a working library
constexpr double kTargetMs = 20.0;

struct BigLibrary {
    VirtualClock clock;
    std::unique_ptr<library::Library> lib;
    std::unique_ptr<fixtures::Initiator> host;
    uint32_t elements = 0;

    BigLibrary() {
        auto c = config::library_defaults("big0");
        c.robots = 4;
        c.slots = kSlots;
        c.ie_slots = 240;
        for (uint32_t i = 0; i < kDrives; ++i) {
            config::DriveConfig d;
            d.name = fmt::format("drive{}", i);
            d.serial = config::default_drive_serial(c.name, d.name);
            c.drives.push_back(d);
        }
        for (uint32_t i = 0; i < kCartridges; ++i) {
            c.cartridges.push_back(config::CartridgeConfig{.barcode = fmt::format("B{:05}L8", i),
                                                           .slot = i + 1,
                                                           .type = config::MediaType::Data,
                                                           .generation = 8});
        }
        elements = c.robots + c.slots + c.ie_slots + kDrives;
        lib = std::make_unique<library::Library>(c, clock, library::Library::Options{});
        host = std::make_unique<fixtures::Initiator>(lib->changer(), clock);
        host->clear_power_on_attention();
    }
};

BigLibrary& big() {
    static BigLibrary b;
    return b;
}

void BM_ReadElementStatusAll(benchmark::State& state) {
    auto& b = big();
    const auto cdb = fixtures::read_element_status(true, 0, 0, 0xFFFF, 0xFFFFFF);
    size_t bytes = 0;
    for (auto _ : state) {
        auto r = b.host->send(cdb, 0xFFFFFF);
        bytes = r.data.size();
        benchmark::DoNotOptimize(r.data.data());
    }
    state.SetLabel(fmt::format("{} elements, {} bytes; target <= {} ms", b.elements, bytes, kTargetMs));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_ReadElementStatusOne(benchmark::State& state) {
    auto& b = big();
    const auto cdb = fixtures::read_element_status(true, 4, 0x0100, 1, 1024);
    for (auto _ : state) {
        auto r = b.host->send(cdb, 1024);
        benchmark::DoNotOptimize(r.data.data());
    }
    state.SetLabel("baseline: one DTE");
}

BENCHMARK(BM_ReadElementStatusOne)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ReadElementStatusAll)->Unit(benchmark::kMillisecond);

// Keeps each benchmark's time per iteration for the summary line.
class Reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& r : runs) {
            if (r.run_type == Run::RT_Iteration && !r.error_occurred) {
                seconds_[r.benchmark_name()] = r.GetAdjustedRealTime() *
                                               (r.time_unit == benchmark::kMillisecond   ? 1e-3
                                                : r.time_unit == benchmark::kMicrosecond ? 1e-6
                                                : r.time_unit == benchmark::kNanosecond  ? 1e-9
                                                                                         : 1.0);
            }
        }
        ConsoleReporter::ReportRuns(runs);
    }
    std::map<std::string, double> seconds_;
};

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    big();  // build the library before timing
    Reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    const auto all = reporter.seconds_.find("BM_ReadElementStatusAll");
    const auto one = reporter.seconds_.find("BM_ReadElementStatusOne");
    if (all != reporter.seconds_.end()) {
        const double ms = all->second * 1e3;
        std::printf("READ ELEMENT STATUS, all %u elements with volume tags: %.2f ms (target <= %.0f ms: %s)",
                    big().elements, ms, kTargetMs, ms <= kTargetMs ? "met" : "MISSED");
        if (one != reporter.seconds_.end() && one->second > 0) {
            std::printf("; %.0fx the one-element baseline (%.1f us)", all->second / one->second, one->second * 1e6);
        }
        std::printf("\n");
    }
    benchmark::Shutdown();
    return 0;
}
