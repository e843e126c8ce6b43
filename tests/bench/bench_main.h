// The main() the storage benchmarks share: where they write (VTL_BENCH_DIR, else a fresh
// directory under TMPDIR or /tmp, removed afterwards) and how much (VTL_BENCH_MB).
#pragma once

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace vtl::bench {

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
