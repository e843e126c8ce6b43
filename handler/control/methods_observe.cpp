// stats and trace: per-command statistics (JSON, Prometheus text) and the JSONL command trace.
#include <fmt/format.h>

#include <filesystem>

#include "control/methods.h"
#include "fault/fault_plan.h"
#include "observe/stats.h"
#include "observe/trace.h"

namespace vtl::control {

namespace {

observe::Stats& stats(Context& ctx) {
    if (!ctx.stats) throw ControlError(code::kUnavailable, "this daemon keeps no statistics");
    return *ctx.stats;
}

observe::Trace& trace(Context& ctx) {
    if (!ctx.trace) throw ControlError(code::kUnavailable, "this daemon has no command trace");
    return *ctx.trace;
}

}  // namespace

void register_observe_methods(Methods& m) {
    m.add("stats", "per-device, per-opcode counts and latency histograms; robot queues; faults fired",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {});
              nlohmann::json out = stats(ctx).to_json();
              if (ctx.faults) out["faults"] = ctx.faults->stats();
              return out;
          });
    m.add("stats.prometheus", "the statistics in Prometheus text format", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {});
        return nlohmann::json(stats(ctx).prometheus());
    });
    m.add("stats.reset", "zero every counter", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {});
        stats(ctx).reset();
        return nlohmann::json{{"reset", true}};
    });
    m.add("trace.start", "append every command to a JSONL file: {file: absolute path}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"file"});
              const std::filesystem::path file = param::string(p, "file");
              if (!file.is_absolute())
                  throw ControlError(code::kBadParams, "parameter \"file\": expected an absolute path");
              try {
                  trace(ctx).start(file);
              } catch (const std::runtime_error& e) {
                  throw ControlError(code::kRefused, e.what());
              }
              return trace(ctx).status();
          });
    m.add("trace.stop", "stop writing the trace file", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {});
        trace(ctx).stop();
        return trace(ctx).status();
    });
    m.add("trace.status", "whether a trace file is written, and how many lines",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {});
              return trace(ctx).status();
          });
    m.add_stream("trace.follow", "stream every command as it completes, one JSON line each, until the client hangs up",
                 [](Context& ctx, const nlohmann::json& p, const std::shared_ptr<Stream>& stream) {
                     param::only(p, {});
                     auto& t = trace(ctx);
                     const uint64_t id = t.subscribe([stream](const std::string& line) { stream->push(line); });
                     stream->on_close([&t, id] { t.unsubscribe(id); });
                     return nlohmann::json{{"following", true}};
                 });
}

}  // namespace vtl::control
