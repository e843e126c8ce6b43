// Tape drive benchmark (not a test; scripts/bench runs it). Prints its figures next to targets:
//  - sequential WRITE(6) and READ(6) of 256 KiB variable-length records through the whole SCSI
//    path in process (fixtures::Initiator -> LogicalUnit -> TapeDrive -> store, inline executor,
//    VirtualClock) against the store API alone on the same filesystem in the same run: the
//    ratio is the cost of the SCSI layers (CDB decode, task, sense, the data-in copy the
//    in-process initiator makes, which the TCMU transport will make into its ring instead);
//  - one drive against four drives writing at once, each on its own I/O worker thread, the
//    library on a real EventLoop, one host thread per drive issuing WRITEs back to back (ending
//    with WRITE FILEMARKS IMMED, so the disk's flush is not timed): aggregate MB/s, the ratio
//    (issue 5: >= 1.6x, no global lock) and how many cores the process kept busy.
//
// VTL_BENCH_DIR picks the directory (default: a new one under $TMPDIR or /tmp); VTL_BENCH_MB the
// size of each sequential run (default 256).
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <span>
#include <string>
#include <thread>

#include "bench_main.h"
#include "cdb.h"
#include "core/event_loop.h"
#include "core/virtual_clock.h"
#include "device/tape_drive.h"
#include "initiator.h"
#include "library/library.h"
#include "storage/store.h"

using namespace vtl;
using WallClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kBlock = 256 * 1024;
constexpr uint64_t kCapacity = 1ull << 40;  // far beyond any run

std::filesystem::path g_dir;
uint64_t g_bytes = 256ull << 20;
std::map<std::string, double> g_best;  // seconds, by name

void keep_best(const std::string& name, double value) {
    auto [it, fresh] = g_best.emplace(name, value);
    if (!fresh) it->second = std::min(it->second, value);
}

double seconds_since(WallClock::time_point t) { return std::chrono::duration<double>(WallClock::now() - t).count(); }

// CPU seconds (user + system) this process has used: with wall time, it tells a lock (CPU idle,
// wall time long) from a machine out of cores (CPU = cores x wall time).
double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_tape_drive: %s\n", what.c_str());
    std::exit(1);
}

const std::vector<uint8_t>& block_data() {
    static const std::vector<uint8_t> data = vtl::bench::random_bytes(kBlock, 1);
    return data;
}

std::vector<uint8_t> cdb6(uint8_t op, uint8_t b1, uint32_t length) {
    return {op, b1, uint8_t(length >> 16), uint8_t(length >> 8), uint8_t(length), 0};
}

config::LibraryConfig library_config(const std::string& name, uint32_t drives) {
    auto lib = config::library_defaults(name);
    lib.state_dir = g_dir / name;
    lib.slots = 10;
    lib.timings = config::Timings{.pick = 0ms, .place = 0ms, .load = 0ms, .unload = 0ms, .slot_to_slot = 0ms,
                                  .ie_to_slot = 0ms};
    for (uint32_t i = 0; i < drives; ++i) {
        config::DriveConfig d;
        d.name = fmt::format("drive{}", i);
        d.serial = config::default_drive_serial(name, d.name);
        lib.drives.push_back(d);
        lib.cartridges.push_back(config::CartridgeConfig{.barcode = fmt::format("BEN{:03}L8", i),
                                                         .slot = i + 1,
                                                         .type = config::MediaType::Data,
                                                         .generation = 8,
                                                         .capacity = kCapacity});
    }
    return lib;
}

// Compression off (MODE SELECT page 0Fh, DCE 0): random records do not compress, and the store
// baseline does not try either.
std::vector<uint8_t> compression_off() {
    return {0, 0, 0, 0, 0x0F, 0x0E, 0x40, 0x80, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
}

// ---- The store API alone ----------------------------------------------------------------

std::unique_ptr<storage::Store> open_store() {
    auto s = storage::Store::open(g_dir / "store");
    if (!s.ok()) die(s.error().message);
    return std::move(*s);
}

void BM_StoreWrite(benchmark::State& state) {
    auto store = open_store();
    const auto& data = block_data();
    for (auto _ : state) {
        std::filesystem::remove_all(g_dir / "store" / "cartridges" / "API001L8");
        auto c = store->open_cartridge("API001L8", storage::OpenOptions{true, storage::Layout{kCapacity, {}}});
        if (!c.ok()) die(c.error().message);
        const auto t = WallClock::now();
        for (uint64_t done = 0; done < g_bytes; done += kBlock) {
            if (!(*c)->write_record(data).ok()) die("store write");
        }
        if (!(*c)->write_filemarks(1).ok()) die("store filemark");  // the sync point
        const double s = seconds_since(t);
        state.SetIterationTime(s);
        keep_best("store write", s);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_bytes));
}

void BM_StoreRead(benchmark::State& state) {
    auto store = open_store();
    std::vector<uint8_t> buffer(kBlock);
    for (auto _ : state) {
        auto c = store->open_cartridge("API001L8", storage::OpenOptions{false, std::nullopt});
        if (!c.ok()) die(c.error().message);
        const auto t = WallClock::now();
        uint64_t total = 0;
        for (;;) {
            auto r = (*c)->read_next(buffer);
            if (!r.ok()) die("store read");
            if (r->kind != storage::ReadKind::Record) break;
            total += r->copied;
        }
        const double s = seconds_since(t);
        if (total != g_bytes) die("store read: short");
        state.SetIterationTime(s);
        keep_best("store read", s);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_bytes));
}

// ---- The SCSI path, in process ----------------------------------------------------------

struct InProcess {
    VirtualClock clock;
    std::unique_ptr<library::Library> lib;
    std::unique_ptr<fixtures::Initiator> host;

    InProcess() {
        auto cfg = library_config("scsi", 1);
        std::filesystem::remove_all(cfg.state_dir);
        lib = std::make_unique<library::Library>(cfg, clock, library::Library::Options{.persist = true});
        host = std::make_unique<fixtures::Initiator>(*lib->find("drive0"), clock);
        host->clear_power_on_attention();
        lib->start_move(library::MoveRequest{.source = cfg.addresses.slot, .destination = cfg.addresses.drive}, nullptr);
        for (int i = 0; i < 100 && host->send(fixtures::test_unit_ready()).status != scsi::Status::Good; ++i) {
            clock.advance(100ms);
        }
        const auto page = compression_off();
        if (host->send(fixtures::mode_select6(true, false, uint8_t(page.size())), 0, page).status != scsi::Status::Good) {
            die("MODE SELECT");
        }
    }
};

// Built on first use, torn down before the directory is removed.
std::unique_ptr<InProcess> g_in_process;

InProcess& in_process() {
    if (!g_in_process) g_in_process = std::make_unique<InProcess>();
    return *g_in_process;
}

void BM_ScsiWrite(benchmark::State& state) {
    auto& rig = in_process();
    const auto& data = block_data();
    for (auto _ : state) {
        if (rig.host->send({0x01, 0, 0, 0, 0, 0}).status != scsi::Status::Good) die("REWIND");
        const auto t = WallClock::now();
        for (uint64_t done = 0; done < g_bytes; done += kBlock) {
            if (rig.host->send(cdb6(0x0A, 0, kBlock), 0, data).status != scsi::Status::Good) die("WRITE");
        }
        if (rig.host->send(cdb6(0x10, 0, 1)).status != scsi::Status::Good) die("WRITE FILEMARKS");
        const double s = seconds_since(t);
        state.SetIterationTime(s);
        keep_best("scsi write", s);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_bytes));
}

void BM_ScsiRead(benchmark::State& state) {
    auto& rig = in_process();
    for (auto _ : state) {
        if (rig.host->send({0x01, 0, 0, 0, 0, 0}).status != scsi::Status::Good) die("REWIND");
        const auto t = WallClock::now();
        uint64_t total = 0;
        for (;;) {
            const auto r = rig.host->send(cdb6(0x08, 0, kBlock), kBlock);
            if (r.status != scsi::Status::Good) break;  // the filemark
            total += r.data.size();
        }
        const double s = seconds_since(t);
        if (total != g_bytes) die("READ: short");
        state.SetIterationTime(s);
        keep_best("scsi read", s);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_bytes));
}

// ---- Drives in parallel on worker threads -------------------------------------------------

class Daemon {
public:
    explicit Daemon(uint32_t drives) : drives_(drives) {
        auto cfg = library_config(fmt::format("par{}", drives), drives);
        std::filesystem::remove_all(cfg.state_dir);
        loop_.start();
        on_loop([&] {
            lib_ = std::make_unique<library::Library>(
                cfg, loop_, library::Library::Options{.persist = true, .drive_io = library::Library::Options::DriveIo::Threads});
            for (uint32_t i = 0; i < drives; ++i) {
                lib_->start_move(library::MoveRequest{.source = uint16_t(cfg.addresses.slot + i),
                                                      .destination = uint16_t(cfg.addresses.drive + i)},
                                 nullptr);
            }
        });
        for (uint32_t i = 0; i < drives; ++i) {
            for (int n = 0; n < 500 && send(i, fixtures::test_unit_ready()) != scsi::Status::Good; ++n) {
                std::this_thread::sleep_for(5ms);
            }
            const auto page = compression_off();
            if (send(i, fixtures::mode_select6(true, false, uint8_t(page.size())), page) != scsi::Status::Good) {
                die("MODE SELECT");
            }
        }
    }
    ~Daemon() {
        on_loop([&] { lib_.reset(); });
        loop_.stop();
    }

    // One command from a host thread: posted to the library's loop, answered by its completion.
    scsi::Status send(uint32_t drive, std::vector<uint8_t> cdb, std::span<const uint8_t> out = {}) {
        std::promise<scsi::Status> done;
        auto future = done.get_future();
        loop_.post([&, drive] {
            Command cmd;
            cmd.tag = ++tag_;
            cmd.nexus.initiator = fmt::format("iqn.bench:host{}", drive);
            cmd.cdb = cdb;
            cmd.data_out = out;
            auto task = std::make_shared<Task>(std::move(cmd), [&done](Task& t) { done.set_value(t.status()); });
            lib_->find(fmt::format("drive{}", drive))->submit(task);
        });
        return future.get();
    }

    // Every drive writes `bytes` at once; returns the wall time.
    double write_all(uint64_t bytes) {
        for (uint32_t i = 0; i < drives_; ++i) {
            if (send(i, {0x01, 0, 0, 0, 0, 0}) != scsi::Status::Good) die("REWIND");
        }
        const auto& data = block_data();
        const auto t = WallClock::now();
        std::vector<std::thread> hosts;
        for (uint32_t i = 0; i < drives_; ++i) {
            hosts.emplace_back([&, i] {
                for (uint64_t done = 0; done < bytes; done += kBlock) {
                    if (send(i, cdb6(0x0A, 0, kBlock), data) != scsi::Status::Good) die("WRITE");
                }
                // IMMED: the streaming rate, not the disk's; the store's own 256 MiB sync
                // points are the drive's buffer filling.
                if (send(i, cdb6(0x10, 1, 1)) != scsi::Status::Good) die("WRITE FILEMARKS");
            });
        }
        for (auto& h : hosts) h.join();
        return seconds_since(t);
    }

private:
    template <typename F>
    void on_loop(F f) {
        std::promise<void> done;
        loop_.post([&] {
            f();
            done.set_value();
        });
        done.get_future().get();
    }

    uint32_t drives_;
    EventLoop loop_;
    std::unique_ptr<library::Library> lib_;
    std::atomic<uint64_t> tag_{0};
};

void BM_DrivesInParallel(benchmark::State& state) {
    const auto drives = static_cast<uint32_t>(state.range(0));
    Daemon daemon(drives);
    // Each drive writes the same amount whatever their number: the aggregate then compares
    // like with like.
    const uint64_t per_drive = g_bytes / 2 / kBlock * kBlock;
    for (auto _ : state) {
        const double cpu = cpu_seconds();
        const double s = daemon.write_all(per_drive);
        state.SetIterationTime(s);
        const double bytes = static_cast<double>(per_drive * drives);
        const std::string name = fmt::format("parallel {}", drives);
        const double cores = (cpu_seconds() - cpu) / s;
        if (!g_best.count(name) || s / bytes < g_best[name]) g_best[name + " cpu"] = cores;  // of the best run
        keep_best(name, s / bytes);  // seconds per byte
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * per_drive * drives));
}

double mb_per_s(double seconds, uint64_t bytes) { return static_cast<double>(bytes) / seconds / 1e6; }

void print_summary() {
    auto get = [](const std::string& name) {
        auto it = g_best.find(name);
        return it == g_best.end() ? 0.0 : it->second;
    };
    std::printf("\n==== tape drive: %llu MiB of %u KiB variable records in %s\n",
                static_cast<unsigned long long>(g_bytes >> 20), kBlock / 1024, g_dir.c_str());
    for (const char* op : {"write", "read"}) {
        const double scsi = get(fmt::format("scsi {}", op));
        const double api = get(fmt::format("store {}", op));
        if (scsi == 0 || api == 0) continue;
        std::printf("%-6s SCSI path %7.0f MB/s   store API %7.0f MB/s   ratio %.2f   (the SCSI path's overhead: no "
                    "target here; issue 5 sets >= 0.70 through the kernel)\n",
                    op, mb_per_s(scsi, g_bytes), mb_per_s(api, g_bytes), api / scsi);
    }
    const double one = get("parallel 1"), four = get("parallel 4");
    if (one > 0 && four > 0) {
        std::printf("write, thread executors: 1 drive %7.0f MB/s   4 drives %7.0f MB/s aggregate   ratio %.2fx   "
                    "(target >= 1.6x)\n",
                    1e-6 / one, 1e-6 / four, one / four);
        std::printf("  cores this process kept busy: 1 drive %.2f, 4 drives %.2f, of %u CPUs (a lock would leave "
                    "them idle)\n",
                    get("parallel 1 cpu"), get("parallel 4 cpu"), std::thread::hardware_concurrency());
    }
}

}  // namespace

BENCHMARK(BM_StoreWrite)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScsiWrite)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StoreRead)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScsiRead)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DrivesInParallel)->Arg(1)->Arg(4)->Iterations(5)->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    vtl::bench::bench_bytes_from_env(g_bytes, 4 * kBlock);
    return vtl::bench::run_benchmarks(argc, argv, g_dir, [] {
        g_in_process.reset();
        print_summary();
    });
}
