// The fixed cost of one tape command on vtld's own path (not a test; scripts/bench runs it):
// the library of the kernel-path benchmark (tests/vm/configs/bench.toml) on a started EventLoop
// with the daemon's hooks (fault plan, statistics, trace), and one "device thread" that runs
// each command as the TCMU transport does: EventLoop::execute -> LogicalUnit::submit ->
// TapeDrive -> the drive's thread executor (store I/O deferred to this thread, off the lock).
// Only the ring is missing. It prints microseconds per command for WRITE(6) and READ(6) of
// 4 KiB and 256 KiB random records, compression on and off, next to the store API alone on the
// same records: the difference is what the SCSI and library layers cost per command, the figure
// the VM benchmark multiplies by TCG's slowdown. A profiler run on this binary
// (`perf record -g build/release/tests/bench_command_path`) shows where that cost goes.
//
// VTL_BENCH_DIR picks the directory (default: a new one under $TMPDIR or /tmp); VTL_BENCH_MB the
// bytes each run moves (default 64).
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include "bench_main.h"
#include "config/config.h"
#include "core/event_loop.h"
#include "core/logging.h"
#include "core/logical_unit.h"
#include "core/task.h"
#include "fault/fault_plan.h"
#include "library/emulator.h"
#include "library/library.h"
#include "observe/stats.h"
#include "observe/trace.h"
#include "storage/store.h"

using namespace vtl;
using WallClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::filesystem::path g_dir;
uint64_t g_bytes = 64ull << 20;
std::map<std::string, double> g_best;  // microseconds per command, by name

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_command_path: %s\n", what.c_str());
    std::exit(1);
}

double seconds_since(WallClock::time_point t) { return std::chrono::duration<double>(WallClock::now() - t).count(); }

void keep_best(const std::string& name, double value) {
    auto [it, fresh] = g_best.emplace(name, value);
    if (!fresh) it->second = std::min(it->second, value);
}

const std::vector<uint8_t>& random_data() {
    static const std::vector<uint8_t> data = vtl::bench::random_bytes(256 * 1024, 7);
    return data;
}

std::vector<uint8_t> cdb6(uint8_t op, uint8_t b1, uint32_t length) {
    return {op, b1, uint8_t(length >> 16), uint8_t(length >> 8), uint8_t(length), 0};
}

// MODE SELECT(6) page 0Fh with DCE (data compression enable) on or off.
std::vector<uint8_t> compression_page(bool on) {
    return {0, 0, 0, 0, 0x0F, 0x0E, uint8_t(0x40 | (on ? 0x80 : 0)), 0x80, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
}

// The daemon's objects, as handler/main.cpp builds them, and a device thread's way of running a
// command.
class Daemon {
public:
    Daemon() {
        auto config = config::load_config(std::filesystem::path(__FILE__).parent_path() / "../vm/configs/bench.toml");
        for (auto& lib : config.libraries) {
            lib.state_dir = g_dir / lib.name;
            std::filesystem::remove_all(lib.state_dir);
            std::filesystem::create_directories(lib.state_dir);
        }
        emulator_ = std::make_unique<library::Emulator>(config, loop_, library::Library::Options{.persist = true});
        faults_ = std::make_unique<fault::FaultPlan>(*emulator_, loop_);
        stats_ = std::make_unique<observe::Stats>(*emulator_);
        trace_ = std::make_unique<observe::Trace>(*emulator_);
        loop_.start();
        lu_ = emulator_->find("bench/drive0");
        if (!lu_) die("no bench/drive0");
        const auto addresses = config.libraries[0].addresses;
        std::promise<void> moved;
        loop_.post([&] {
            emulator_->libraries()[0]->start_move(
                library::MoveRequest{.source = addresses.slot, .destination = addresses.drive}, nullptr);
            moved.set_value();
        });
        moved.get_future().get();
        for (int i = 0; i < 500 && send({0, 0, 0, 0, 0, 0}) != scsi::Status::Good; ++i)
            std::this_thread::sleep_for(5ms);
        if (send({0, 0, 0, 0, 0, 0}) != scsi::Status::Good) die("the drive never became ready");
        if (send(cdb6(0x10, 0, 0)) != scsi::Status::Good) die("WRITE FILEMARKS 0");
    }
    ~Daemon() {
        loop_.stop();
        trace_.reset();
        stats_.reset();
        faults_.reset();
        emulator_.reset();
    }

    // One command the way tcmu::Device::take runs it; waits for its completion, which comes on
    // this thread unless the command waited for the clock.
    scsi::Status send(std::vector<uint8_t> cdb, std::span<const uint8_t> out = {}, std::span<uint8_t> in = {}) {
        Command cmd;
        cmd.tag = ++tag_;
        cmd.nexus.initiator = "iqn.bench:host";
        cmd.cdb = std::move(cdb);
        cmd.data_out = out;
        cmd.data_in_buffer = in;
        cmd.data_in_length = static_cast<uint32_t>(in.size());
        {
            std::lock_guard lock(mutex_);
            done_ = false;
        }
        auto task = std::make_shared<Task>(std::move(cmd), [this](Task& t) {
            std::lock_guard lock(mutex_);
            status_ = t.status();
            done_ = true;
            cv_.notify_one();
        });
        loop_.execute([lu = lu_, task] { lu->submit(task); });
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return done_; });
        return status_;
    }

    void compression(bool on) {
        const auto page = compression_page(on);
        if (send({0x15, 0x10, 0, 0, uint8_t(page.size()), 0}, page) != scsi::Status::Good) die("MODE SELECT");
    }

private:
    EventLoop loop_;
    std::unique_ptr<library::Emulator> emulator_;
    std::unique_ptr<fault::FaultPlan> faults_;
    std::unique_ptr<observe::Stats> stats_;
    std::unique_ptr<observe::Trace> trace_;
    LogicalUnit* lu_ = nullptr;
    uint32_t tag_ = 0;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    scsi::Status status_ = scsi::Status::Good;
};

std::unique_ptr<Daemon> g_daemon;

Daemon& daemon() {
    if (!g_daemon) g_daemon = std::make_unique<Daemon>();
    return *g_daemon;
}

// Args: record size in KiB, compression (0/1). Writes g_bytes in records from BOT, then a
// filemark (not timed), then reads them back.
void BM_WriteRead(benchmark::State& state) {
    auto& d = daemon();
    const uint32_t record = static_cast<uint32_t>(state.range(0)) * 1024;
    const bool compress = state.range(1) != 0;
    const uint64_t count = std::max<uint64_t>(1, g_bytes / record);
    const auto data = std::span(random_data()).first(record);
    std::vector<uint8_t> buffer(record);
    d.compression(compress);
    const std::string tag = fmt::format("{} KiB, compression {}", record / 1024, compress ? "on" : "off");
    for (auto _ : state) {
        if (d.send({0x01, 0, 0, 0, 0, 0}) != scsi::Status::Good) die("REWIND");
        auto t = WallClock::now();
        for (uint64_t i = 0; i < count; ++i) {
            if (d.send(cdb6(0x0A, 0, record), data) != scsi::Status::Good) die("WRITE");
        }
        const double w = seconds_since(t);
        if (d.send(cdb6(0x10, 0, 1)) != scsi::Status::Good) die("WRITE FILEMARKS");
        if (d.send({0x01, 0, 0, 0, 0, 0}) != scsi::Status::Good) die("REWIND");
        t = WallClock::now();
        for (uint64_t i = 0; i < count; ++i) {
            if (d.send(cdb6(0x08, 0, record), {}, buffer) != scsi::Status::Good) die("READ");
        }
        const double r = seconds_since(t);
        if (std::memcmp(buffer.data(), data.data(), record) != 0) die("READ: the last record differs");
        state.SetIterationTime(w + r);
        keep_best("write, " + tag, w * 1e6 / double(count));
        keep_best("read, " + tag, r * 1e6 / double(count));
    }
}

// The store API alone on the same records (no compression): the floor under the SCSI path.
void BM_StoreAlone(benchmark::State& state) {
    const uint32_t record = static_cast<uint32_t>(state.range(0)) * 1024;
    const uint64_t count = std::max<uint64_t>(1, g_bytes / record);
    const auto data = std::span(random_data()).first(record);
    std::vector<uint8_t> buffer(record);
    auto store = storage::Store::open(g_dir / "store");
    if (!store.ok()) die(store.error().message);
    for (auto _ : state) {
        std::filesystem::remove_all(g_dir / "store" / "cartridges" / "API001L8");
        auto c = (*store)->open_cartridge("API001L8", storage::OpenOptions{true, storage::Layout{1ull << 32, {}}});
        if (!c.ok()) die(c.error().message);
        auto t = WallClock::now();
        for (uint64_t i = 0; i < count; ++i) {
            if (!(*c)->write_record(data).ok()) die("store write");
        }
        const double w = seconds_since(t);
        if (!(*c)->write_filemarks(1).ok()) die("store filemark");
        if (!(*c)->locate(0, 0).ok()) die("store rewind");
        t = WallClock::now();
        for (uint64_t i = 0; i < count; ++i) {
            auto r = (*c)->read_next(buffer);
            if (!r.ok() || r->kind != storage::ReadKind::Record) die("store read");
        }
        const double r = seconds_since(t);
        state.SetIterationTime(w + r);
        const std::string tag = fmt::format("{} KiB", record / 1024);
        keep_best("store write, " + tag, w * 1e6 / double(count));
        keep_best("store read, " + tag, r * 1e6 / double(count));
    }
}

void print_summary() {
    std::printf("\n==== one tape command on vtld's path (best of the iterations), microseconds per command\n");
    for (const auto& [name, us] : g_best) std::printf("  %-36s %9.1f us\n", name.c_str(), us);
}

}  // namespace

BENCHMARK(BM_WriteRead)
    ->Args({4, 0})
    ->Args({4, 1})
    ->Args({256, 0})
    ->Args({256, 1})
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StoreAlone)->Arg(4)->Arg(256)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    // vtld's level in the kernel-path benchmark: what an installation runs with.
    init_logging(spdlog::level::info, false);
    vtl::bench::bench_bytes_from_env(g_bytes, 1);
    return vtl::bench::run_benchmarks(argc, argv, g_dir, [] {
        g_daemon.reset();
        print_summary();
    });
}
