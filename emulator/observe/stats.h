// Command statistics for every logical unit of an emulator: per device and command name, the
// count, the errors by status and sense code, a latency histogram on the injected clock (from
// Task::submitted() to completion) and the bytes moved; per library, the robots' queue and how
// many are busy. Read as JSON (the control socket's `stats`) or in the Prometheus text format.
// Everything, reads included, runs on the library clock's thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/lu_hooks.h"

namespace vtl::library {
class Emulator;
}

namespace vtl::observe {

// Upper bounds of the latency buckets in microseconds (a 1-3-10 log scale from 10 us to 50 min);
// one more bucket above the last takes the rest (+Inf).
inline constexpr std::array<uint64_t, 18> kLatencyBucketsUs = {
    10,      30,        100,       300,        1'000,      3'000,       10'000,      30'000,        100'000,
    300'000, 1'000'000, 3'000'000, 10'000'000, 30'000'000, 100'000'000, 300'000'000, 1'000'000'000, 3'000'000'000};

struct LatencyHistogram {
    std::array<uint64_t, kLatencyBucketsUs.size() + 1> counts{};  // per bucket, not cumulative
    uint64_t sum_ns = 0;
    void add(Duration d);
    uint64_t count() const;
};

struct CommandStats {
    uint64_t count = 0;
    uint64_t errors = 0;                               // any status but GOOD and CONDITION MET
    std::map<std::string, uint64_t> errors_by_status;  // "CHECK CONDITION", "TASK ABORTED" ...
    std::map<std::string, uint64_t> sense;             // CHECK CONDITION by "key/ASC/ASCQ"
    LatencyHistogram latency;
    uint64_t bytes_in = 0;   // data-in returned to the initiator
    uint64_t bytes_out = 0;  // data-out the initiator sent
};

class Stats final : public LuHooks {
public:
    // Adds itself to every logical unit of `emulator`; removes itself from all it is attached to
    // in ~Stats (so destroy it before the emulator).
    explicit Stats(library::Emulator& emulator);
    ~Stats() override;
    Stats(const Stats&) = delete;
    Stats& operator=(const Stats&) = delete;

    // Logical units added later (a drive's bridged LUN 1): attach before its first command,
    // detach before destroying it. Its figures stay until reset().
    void attach(LogicalUnit& lu);
    void detach(LogicalUnit& lu);

    // {"devices": {"lib0/drive0": {"commands": {"READ(6)": {"count", "errors", "errors_by_status",
    //   "sense", "bytes_in", "bytes_out", "latency_us": {"buckets": [upper bounds, us],
    //   "counts": [per bucket, the last one above every bound], "sum": us}}}}},
    //  "robots": {"lib0": {"robots": n, "queued": n, "busy": n}}}
    nlohmann::json to_json() const;
    // Prometheus text exposition format 0.0.4 (metric names in the .cpp, latency in seconds).
    std::string prometheus() const;
    // Zeroes every figure (devices stay attached).
    void reset();

    // The figures of one command of one device ("lib0/drive0", "READ(6)"); nullptr if none yet.
    const CommandStats* find(const std::string& device, const std::string& command) const;

    void completed(LogicalUnit& lu, const Task& task) override;

private:
    using Commands = std::map<std::string, CommandStats>;

    library::Emulator& emulator_;
    std::map<std::string, Commands> devices_;               // by logical unit name, sorted for output
    std::unordered_map<LogicalUnit*, Commands*> attached_;  // into devices_
};

}  // namespace vtl::observe
