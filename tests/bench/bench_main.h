// The main() the storage benchmarks share: where they write (VTL_BENCH_DIR, else a fresh
// directory under TMPDIR or /tmp, removed afterwards) and how much (VTL_BENCH_MB).
#pragma once

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace vtl::bench {

// `size` (a multiple of 8) bytes from a generator seeded with `seed`: the same incompressible
// data on every run.
inline std::vector<uint8_t> random_bytes(size_t size, uint64_t seed) {
    std::vector<uint8_t> d(size);
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i + 8 <= d.size(); i += 8) {
        const uint64_t v = rng();
        std::memcpy(&d[i], &v, 8);
    }
    return d;
}

// `bytes` becomes VTL_BENCH_MB MiB when it is set, rounded down to a multiple of `unit`.
inline void bench_bytes_from_env(uint64_t& bytes, uint64_t unit) {
    if (const char* mb = std::getenv("VTL_BENCH_MB")) bytes = std::strtoull(mb, nullptr, 10) << 20;
    bytes -= bytes % unit;
}

// Sets `dir`, runs the benchmarks named on the command line, then `finish` (close what holds
// files there, print the summary) before a temporary directory is removed.
inline int run_benchmarks(int argc, char** argv, std::filesystem::path& dir, const std::function<void()>& finish) {
    bool temporary = false;
    if (const char* d = std::getenv("VTL_BENCH_DIR")) {
        dir = d;
        std::filesystem::create_directories(dir);
    } else {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/vtl-bench-XXXXXX";
        if (!mkdtemp(pattern.data())) return 1;
        dir = pattern;
        temporary = true;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    finish();
    if (temporary) std::filesystem::remove_all(dir);
    return 0;
}

}  // namespace vtl::bench
