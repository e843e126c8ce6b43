// Cartridge store benchmark (not a test; scripts/bench runs it). Prints its figures next to the
// targets of issue 4:
//  - sequential WRITE and READ of 256 KiB records through the store against plain write()/read()
//    of the same bytes at the same block size in the same directory (the `dd` baseline), final
//    sync included for writes; reads from a cold cache and from a warm one (where the store's
//    CRC check of every record is the most visible: see MappedReader); baseline and store
//    alternate within each iteration and the best of each is kept;
//  - LOCATE to the middle of a 1,000,000-record cartridge, warm and right after a reopen with
//    the cartridge's files dropped from the page cache, and the reopen itself;
//  - peak RSS growth while streaming 8 MiB records in and out (compressed and not).
//
// VTL_BENCH_DIR picks the directory (default: a new one under $TMPDIR or /tmp); VTL_BENCH_MB the
// size of the sequential runs (default 1024).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "bench_main.h"
#include "storage/crc32c.h"
#include "storage/store.h"

using namespace vtl::storage;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kBlock = 256 * 1024;
constexpr uint64_t kLocateRecords = 1'000'000;

std::filesystem::path g_dir;
uint64_t g_bytes = 1024ull << 20;
std::map<std::string, double> g_best;  // seconds (or other figures) by name

void keep_best(const std::string& name, double value) {
    auto [it, fresh] = g_best.emplace(name, value);
    if (!fresh) it->second = std::min(it->second, value);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

const std::vector<uint8_t>& block_data() {
    static const std::vector<uint8_t> data = vtl::bench::random_bytes(kBlock, 1);
    return data;
}

void drop_cache(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY);
    if (fd < 0) return;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
}

std::unique_ptr<Store> open_store(bool mapped_reads = true) {
    StoreOptions options;
    options.cartridge.mapped_reads = mapped_reads;
    auto s = Store::open(g_dir / "store", options);
    if (!s.ok()) {
        std::fprintf(stderr, "store: %s\n", s.error().message.c_str());
        std::exit(1);
    }
    return std::move(*s);
}

std::unique_ptr<Cartridge> open_cartridge(Store& store, std::string_view barcode,
                                          Layout layout = Layout{1ull << 50, {}}) {
    auto c = store.open_cartridge(barcode, OpenOptions{true, layout});
    if (!c.ok() || (*c)->fence()) {
        std::fprintf(stderr, "cartridge %s: %s\n", std::string(barcode).c_str(),
                     c.ok() ? (*c)->fence()->message.c_str() : c.error().message.c_str());
        std::exit(1);
    }
    return std::move(*c);
}

void remove_cartridge(std::string_view barcode) {
    std::filesystem::remove_all(g_dir / "store" / "cartridges" / std::string(barcode));
}

// ---- Sequential write and read ----
//
// Each iteration runs the baseline and the store back to back, alternating which goes first,
// with the page cache in the same state for both, and the best time of each is kept: on a
// shared machine a burst of load then hits both sides alike instead of whichever ran alone.

double write_baseline() {
    const auto path = g_dir / "baseline.dat";
    const auto& data = block_data();
    std::filesystem::remove(path);
    const auto t = Clock::now();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (uint64_t done = 0; done < g_bytes; done += kBlock) {
        if (::write(fd, data.data(), kBlock) != static_cast<ssize_t>(kBlock)) std::abort();
    }
    ::fdatasync(fd);
    ::close(fd);
    return seconds_since(t);
}

double write_store(Store& store) {
    const auto& data = block_data();
    remove_cartridge("SEQ001L8");
    auto c = open_cartridge(store, "SEQ001L8");
    const auto t = Clock::now();
    for (uint64_t done = 0; done < g_bytes; done += kBlock) {
        if (!c->write_record(data).ok()) std::abort();
    }
    if (!c->write_filemarks(0).ok()) std::abort();  // the sync point
    return seconds_since(t);
}

double read_baseline(bool cold, std::vector<uint8_t>& buffer) {
    const auto path = g_dir / "baseline.dat";
    if (cold) drop_cache(path);
    const auto t = Clock::now();
    const int fd = ::open(path.c_str(), O_RDONLY);
    uint64_t total = 0;
    for (ssize_t n; (n = ::read(fd, buffer.data(), kBlock)) > 0;) total += static_cast<uint64_t>(n);
    ::close(fd);
    const double s = seconds_since(t);
    if (total != g_bytes) std::abort();
    return s;
}

double read_store(Store& store, bool cold, std::vector<uint8_t>& buffer) {
    const auto dir = g_dir / "store" / "cartridges" / "SEQ001L8";
    if (cold) {
        for (const char* f : {"p0.records", "p0.index", "p0.marks", "header"}) drop_cache(dir / f);
    }
    auto c = open_cartridge(store, "SEQ001L8");
    const auto t = Clock::now();
    uint64_t total = 0;
    for (;;) {
        auto r = c->read_next(buffer);  // every record's data CRC is checked
        if (!r.ok()) std::abort();
        if (r->kind == ReadKind::EndOfData) break;
        total += r->copied;
    }
    const double s = seconds_since(t);
    if (total != g_bytes) std::abort();
    return s;
}

void BM_WritePair(benchmark::State& state) {
    auto store = open_store();
    bool store_first = false;
    for (auto _ : state) {
        double base = 0, mine = 0;
        if (store_first) mine = write_store(*store);
        base = write_baseline();
        if (!store_first) mine = write_store(*store);
        store_first = !store_first;
        keep_best("write baseline", base);
        keep_best("write store", mine);
        state.SetIterationTime(base + mine);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_bytes * 2));
}

// Arg: 1 cold cache, 0 warm, 2 warm with the store reading by pread only (for comparison).
void BM_ReadPair(benchmark::State& state) {
    const bool cold = state.range(0) == 1;
    const bool pread_only = state.range(0) == 2;
    const std::string kind = cold ? "cold" : pread_only ? "warm pread" : "warm";
    auto store = open_store(!pread_only);
    std::vector<uint8_t> buffer(kBlock);
    // Warm: both files read once so that both are in the page cache.
    if (!cold) read_baseline(false, buffer), read_store(*store, false, buffer);
    bool store_first = false;
    for (auto _ : state) {
        double base = 0, mine = 0;
        if (store_first) mine = read_store(*store, cold, buffer);
        base = read_baseline(cold, buffer);
        if (!store_first) mine = read_store(*store, cold, buffer);
        store_first = !store_first;
        keep_best("read " + kind + " baseline", base);
        keep_best("read " + kind + " store", mine);
        state.SetIterationTime(base + mine);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_bytes * 2));
}

// ---- LOCATE in a 1,000,000-record cartridge ----

void build_locate_cartridge(Store& store) {
    if (g_best.count("build 1M")) return;
    remove_cartridge("LOC001L8");
    auto c = open_cartridge(store, "LOC001L8");
    std::vector<uint8_t> record(64);
    const auto t = Clock::now();
    for (uint64_t i = 0; i < kLocateRecords; ++i) {
        std::memcpy(record.data(), &i, sizeof i);
        if (!c->write_record(record).ok()) std::abort();
        if (i % 10000 == 9999 && !c->write_filemarks(1, false).ok()) std::abort();
    }
    if (!c->sync().ok()) std::abort();
    keep_best("build 1M", seconds_since(t));
}

void BM_LocateMiddle(benchmark::State& state) {
    auto store = open_store();
    build_locate_cartridge(*store);
    auto c = open_cartridge(*store, "LOC001L8");
    const uint64_t objects = c->eod();
    std::mt19937_64 rng(5);
    std::vector<uint8_t> buffer(64);
    double total = 0;
    int64_t n = 0;
    for (auto _ : state) {
        // Around the middle, a different index block each time, then read what is there.
        const uint64_t target = objects / 2 - 50000 + rng() % 100000;
        const auto t = Clock::now();
        if (!c->locate(0, target).ok()) std::abort();
        auto r = c->read_next(buffer);
        const double s = seconds_since(t);
        if (!r.ok()) std::abort();
        state.SetIterationTime(s);
        total += s;
        ++n;
    }
    keep_best("locate warm", total / static_cast<double>(n));
}

void BM_ReopenAndLocateCold(benchmark::State& state) {
    auto store = open_store();
    build_locate_cartridge(*store);
    const auto dir = g_dir / "store" / "cartridges" / "LOC001L8";
    std::vector<uint8_t> buffer(64);
    for (auto _ : state) {
        for (const char* f : {"p0.records", "p0.index", "p0.marks", "header"}) drop_cache(dir / f);
        const auto t = Clock::now();
        auto c = open_cartridge(*store, "LOC001L8");
        const double opened = seconds_since(t);
        const auto t2 = Clock::now();
        if (!c->locate(0, c->eod() / 2).ok()) std::abort();
        auto r = c->read_next(buffer);
        if (!r.ok()) std::abort();
        const double located = seconds_since(t2);
        state.SetIterationTime(opened + located);
        keep_best("reopen cold", opened);
        keep_best("locate cold", located);
    }
}

void BM_SpaceFilemarksAcross(benchmark::State& state) {
    auto store = open_store();
    build_locate_cartridge(*store);
    auto c = open_cartridge(*store, "LOC001L8");
    double total = 0;
    int64_t n = 0;
    for (auto _ : state) {
        if (!c->locate(0, 0).ok()) std::abort();
        const auto t = Clock::now();
        auto r = c->space_filemarks(50);  // to the middle, counting filemarks
        const double s = seconds_since(t);
        if (!r.ok() || r->done != 50) std::abort();
        state.SetIterationTime(s);
        total += s;
        ++n;
    }
    keep_best("space 50 filemarks", total / static_cast<double>(n));
}

// ---- Memory while streaming 8 MiB records ----

uint64_t status_kib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field, 0) == 0) return std::strtoull(line.c_str() + std::strlen(field), nullptr, 10);
    }
    return 0;
}

void BM_Stream8MiB(benchmark::State& state) {
    const bool compress = state.range(0);
    constexpr size_t kBig = 8u << 20;
    constexpr int kRecords = 48;
    std::vector<uint8_t> data(kBig), buffer(kBig);
    std::mt19937_64 rng(9);
    for (size_t i = 0; i < kBig; i += 8) {
        const uint64_t v = compress ? rng() % 16 : rng();  // compressible, or not at all
        std::memcpy(&data[i], &v, 8);
    }
    std::memset(buffer.data(), 1, buffer.size());
    auto store = open_store();
    for (auto _ : state) {
        remove_cartridge("BIG001L8");
        auto c = open_cartridge(*store, "BIG001L8");
        {
            std::ofstream reset("/proc/self/clear_refs");
            reset << "5";  // resets VmHWM to the current RSS
        }
        const uint64_t before = status_kib("VmRSS:");
        const auto t = Clock::now();
        for (int i = 0; i < kRecords; ++i) {
            data[0] = static_cast<uint8_t>(i);
            if (!c->write_record(data, compress).ok()) std::abort();
        }
        if (!c->sync().ok() || !c->locate(0, 0).ok()) std::abort();
        for (int i = 0; i < kRecords; ++i) {
            auto r = c->read_next(buffer);
            if (!r.ok() || r->length != kBig) std::abort();
        }
        state.SetIterationTime(seconds_since(t));
        const double growth = static_cast<double>(status_kib("VmHWM:") - before) * 1024.0;
        keep_best(compress ? "rss compressed" : "rss raw", growth);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kRecords * kBig * 2);
}

std::string rate(double seconds) { return fmt::format("{:7.0f} MB/s", static_cast<double>(g_bytes) / seconds / 1e6); }

void print_summary() {
    auto get = [](const char* name) {
        auto it = g_best.find(name);
        return it == g_best.end() ? 0.0 : it->second;
    };
    std::printf("\n==== cartridge store: %llu MiB of %zu KiB records in %s (CRC32C: %s)\n",
                static_cast<unsigned long long>(g_bytes >> 20), kBlock / 1024, g_dir.c_str(), crc32c_implementation());
    struct Row {
        const char* label;
        const char* store;
        const char* baseline;
        const char* note;
    };
    const Row rows[] = {
        {"write", "write store", "write baseline", "(target >= 0.90)"},
        {"read (cold cache)", "read cold store", "read cold baseline", "(target >= 0.90)"},
        {"read (warm cache)", "read warm store", "read warm baseline",
         "(target >= 0.90; every record's CRC is checked as it is copied from the mapping)"},
        {"  by pread instead", "read warm pread store", "read warm pread baseline",
         "(not a target: the store's pread path, CRC checked after the copy)"},
    };
    for (const Row& row : rows) {
        const double store = get(row.store);
        const double base = get(row.baseline);
        if (store == 0 || base == 0) continue;
        std::printf("%-18s store %s   dd-style %s   ratio %.2f   %s\n", row.label, rate(store).c_str(),
                    rate(base).c_str(), base / store, row.note);
    }
    if (get("build 1M") > 0) {
        std::printf("1,000,000-record cartridge (written in %.1f s):\n", get("build 1M"));
        std::printf("  locate to the middle + read, warm      %9.1f us   (target <= 1000 us)\n",
                    get("locate warm") * 1e6);
        std::printf("  reopen, files dropped from the cache   %9.1f us\n", get("reopen cold") * 1e6);
        std::printf("  then locate to the middle + read, cold %9.1f us   (target <= 1000 us)\n",
                    get("locate cold") * 1e6);
        std::printf("  space 50 filemarks from BOP            %9.1f us\n", get("space 50 filemarks") * 1e6);
    }
    for (const char* kind : {"raw", "compressed"}) {
        const std::string name = fmt::format("rss {}", kind);
        if (!g_best.count(name)) continue;
        const double growth = get(name.c_str());
        std::printf(
            "8 MiB records, %-10s peak RSS growth %6.1f MiB = %.2f x the record   (target: a small multiple, "
            "<= 3)\n",
            kind, growth / (1 << 20), growth / (8 << 20));
    }
}

}  // namespace

BENCHMARK(BM_WritePair)->Iterations(4)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadPair)->Arg(1)->Iterations(4)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadPair)->Arg(0)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadPair)->Arg(2)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LocateMiddle)->Iterations(2000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ReopenAndLocateCold)->Iterations(5)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SpaceFilemarksAcross)->Iterations(1000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Stream8MiB)->Arg(0)->Arg(1)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    vtl::bench::bench_bytes_from_env(g_bytes, kBlock);
    return vtl::bench::run_benchmarks(argc, argv, g_dir, [] { print_summary(); });
}
