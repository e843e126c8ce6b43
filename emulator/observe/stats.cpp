#include "observe/stats.h"

#include <fmt/format.h>

#include "library/emulator.h"
#include "observe/describe.h"

namespace vtl::observe {

namespace {

// "lib0/drive0" -> {"lib0", "drive0"}.
std::pair<std::string_view, std::string_view> split(std::string_view name) {
    const auto slash = name.find('/');
    if (slash == std::string_view::npos) return {"", name};
    return {name.substr(0, slash), name.substr(slash + 1)};
}

// Label values: backslash, double quote and line feed escaped (exposition format 0.0.4).
std::string escaped(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string labels(std::string_view device, std::string_view command) {
    const auto [lib, dev] = split(device);
    return fmt::format("library=\"{}\",device=\"{}\",command=\"{}\"", escaped(lib), escaped(dev), escaped(command));
}

void family(std::string& out, const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// Shortest decimal form that reads back as the same double ("1e-05", "0.0003", "3000").
std::string number(double v) { return fmt::format("{}", v); }

}  // namespace

void LatencyHistogram::add(Duration d) {
    const auto ns = static_cast<uint64_t>(std::max<Duration::rep>(d.count(), 0));
    size_t i = 0;
    while (i < kLatencyBucketsUs.size() && ns > kLatencyBucketsUs[i] * 1000) ++i;  // le: upper bound included
    ++counts[i];
    sum_ns += ns;
}

uint64_t LatencyHistogram::count() const {
    uint64_t n = 0;
    for (uint64_t c : counts) n += c;
    return n;
}

Stats::Stats(library::Emulator& emulator) : emulator_(emulator) {
    for (const auto& lib : emulator.libraries()) {
        for (const auto& dev : lib->devices()) attach(dev.lu);
    }
}

Stats::~Stats() {
    for (const auto& [lu, commands] : attached_) lu->remove_hooks(this);
}

void Stats::attach(LogicalUnit& lu) {
    if (attached_.contains(&lu)) return;
    attached_.emplace(&lu, &devices_[lu.name()]);
    lu.add_hooks(this);
}

void Stats::detach(LogicalUnit& lu) {
    if (attached_.erase(&lu) > 0) lu.remove_hooks(this);
}

void Stats::completed(LogicalUnit& lu, const Task& task) {
    auto it = attached_.find(&lu);
    Commands& commands = it != attached_.end() ? *it->second : devices_[lu.name()];
    CommandStats& s = commands[command_name(lu, task)];
    ++s.count;
    const auto status = task.status();
    if (status != scsi::Status::Good && status != scsi::Status::ConditionMet) {
        ++s.errors;
        ++s.errors_by_status[status_name(status)];
        if (status == scsi::Status::CheckCondition) {
            if (auto code = sense_code(task.sense_data())) ++s.sense[code->text()];
        }
    }
    s.latency.add(latency(lu, task));
    s.bytes_in += task.data_in().size();
    s.bytes_out += task.command().data_out.size();
}

const CommandStats* Stats::find(const std::string& device, const std::string& command) const {
    auto d = devices_.find(device);
    if (d == devices_.end()) return nullptr;
    auto c = d->second.find(command);
    return c == d->second.end() ? nullptr : &c->second;
}

void Stats::reset() {
    for (auto& [name, commands] : devices_) commands.clear();
}

nlohmann::json Stats::to_json() const {
    nlohmann::json devices = nlohmann::json::object();
    const std::vector<uint64_t> bounds(kLatencyBucketsUs.begin(), kLatencyBucketsUs.end());
    for (const auto& [device, commands] : devices_) {
        nlohmann::json cmds = nlohmann::json::object();
        for (const auto& [name, s] : commands) {
            cmds[name] = {{"count", s.count},
                          {"errors", s.errors},
                          {"errors_by_status", s.errors_by_status},
                          {"sense", s.sense},
                          {"bytes_in", s.bytes_in},
                          {"bytes_out", s.bytes_out},
                          {"latency_us",
                           {{"buckets", bounds},
                            {"counts", s.latency.counts},
                            {"sum", static_cast<double>(s.latency.sum_ns) / 1e3}}}};
        }
        devices[device] = {{"commands", std::move(cmds)}};
    }
    nlohmann::json robots = nlohmann::json::object();
    for (const auto& lib : emulator_.libraries()) {
        auto& r = lib->robots();
        robots[lib->name()] = {{"robots", r.addresses().size()}, {"queued", r.queued()}, {"busy", r.busy()}};
    }
    return {{"devices", std::move(devices)}, {"robots", std::move(robots)}};
}

std::string Stats::prometheus() const {
    std::string out;
    auto each = [&](auto&& fn) {
        for (const auto& [device, commands] : devices_) {
            for (const auto& [name, s] : commands) fn(labels(device, name), s);
        }
    };

    family(out, "vtl_commands_total", "counter", "Commands completed, by device and command.");
    each([&](const std::string& l, const CommandStats& s) {
        out += fmt::format("vtl_commands_total{{{}}} {}\n", l, s.count);
    });

    family(out, "vtl_command_errors_total", "counter",
           "Commands completed with a status other than GOOD or CONDITION MET, by status.");
    each([&](const std::string& l, const CommandStats& s) {
        for (const auto& [status, n] : s.errors_by_status) {
            out += fmt::format("vtl_command_errors_total{{{},status=\"{}\"}} {}\n", l, escaped(status), n);
        }
    });

    family(out, "vtl_command_check_conditions_total", "counter", "CHECK CONDITION answers, by sense key/ASC/ASCQ.");
    each([&](const std::string& l, const CommandStats& s) {
        for (const auto& [code, n] : s.sense) {
            out += fmt::format("vtl_command_check_conditions_total{{{},sense=\"{}\"}} {}\n", l, escaped(code), n);
        }
    });

    family(out, "vtl_command_data_in_bytes_total", "counter", "Data-in bytes returned to initiators.");
    each([&](const std::string& l, const CommandStats& s) {
        out += fmt::format("vtl_command_data_in_bytes_total{{{}}} {}\n", l, s.bytes_in);
    });
    family(out, "vtl_command_data_out_bytes_total", "counter", "Data-out bytes received from initiators.");
    each([&](const std::string& l, const CommandStats& s) {
        out += fmt::format("vtl_command_data_out_bytes_total{{{}}} {}\n", l, s.bytes_out);
    });

    family(out, "vtl_command_duration_seconds", "histogram",
           "Time from a command's receipt to its completion, on the library clock.");
    each([&](const std::string& l, const CommandStats& s) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i < kLatencyBucketsUs.size(); ++i) {
            cumulative += s.latency.counts[i];
            out += fmt::format("vtl_command_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", l,
                               number(static_cast<double>(kLatencyBucketsUs[i]) / 1e6), cumulative);
        }
        cumulative += s.latency.counts.back();
        out += fmt::format("vtl_command_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", l, cumulative);
        out += fmt::format("vtl_command_duration_seconds_sum{{{}}} {}\n", l,
                           number(static_cast<double>(s.latency.sum_ns) / 1e9));
        out += fmt::format("vtl_command_duration_seconds_count{{{}}} {}\n", l, cumulative);
    });

    family(out, "vtl_robots", "gauge", "Robots (medium transport elements) in the library.");
    for (const auto& lib : emulator_.libraries()) {
        out += fmt::format("vtl_robots{{library=\"{}\"}} {}\n", escaped(lib->name()), lib->robots().addresses().size());
    }
    family(out, "vtl_robots_busy", "gauge", "Robots working on a motion.");
    for (const auto& lib : emulator_.libraries()) {
        out += fmt::format("vtl_robots_busy{{library=\"{}\"}} {}\n", escaped(lib->name()), lib->robots().busy());
    }
    family(out, "vtl_robot_motions_queued", "gauge", "Motions waiting for a free robot.");
    for (const auto& lib : emulator_.libraries()) {
        out += fmt::format("vtl_robot_motions_queued{{library=\"{}\"}} {}\n", escaped(lib->name()),
                           lib->robots().queued());
    }
    return out;
}

}  // namespace vtl::observe
