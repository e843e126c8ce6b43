// faults: the fault plan's rules (emulator/fault, docs/faults.md).
#include <fmt/format.h>

#include "control/methods.h"
#include "fault/fault_plan.h"

namespace vtl::control {

namespace {

fault::FaultPlan& plan(Context& ctx) {
    if (!ctx.faults) throw ControlError(code::kUnavailable, "this daemon runs without a fault plan");
    return *ctx.faults;
}

template <typename F>
auto checked(F&& f) {
    try {
        return f();
    } catch (const fault::FaultError& e) {
        throw ControlError(code::kBadParams, e.what());
    }
}

}  // namespace

void register_fault_methods(Methods& m) {
    m.add("faults.add", "add one rule: {rule: {...}} (docs/faults.md)", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {"rule"});
        auto rule = p.find("rule");
        if (rule == p.end() || !rule->is_object())
            throw ControlError(code::kBadParams, "parameter \"rule\": expected an object");
        const uint64_t id = checked([&] { return plan(ctx).add(*rule); });
        return nlohmann::json{{"id", id}};
    });
    // The client reads the file and sends its text: the daemon opens no path a client names.
    m.add("faults.load", "add the [[fault]] rules of a TOML plan: {toml: text, source: name for messages}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"toml", "source"});
              const std::string toml = param::string(p, "toml");
              const std::string source = param::opt_string(p, "source").value_or("control");
              std::vector<uint64_t> ids = checked([&] { return plan(ctx).load_toml(toml, source); });
              return nlohmann::json{{"ids", ids}};
          });
    m.add("faults.list", "every rule with its counters", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {});
        return plan(ctx).list();
    });
    m.add("faults.remove", "remove one rule: {id}", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {"id"});
        const uint64_t id = param::unsigned_int(p, "id");
        if (!plan(ctx).remove(id)) throw ControlError(code::kNotFound, fmt::format("no fault rule {}", id));
        return nlohmann::json{{"removed", id}};
    });
    m.add("faults.clear", "remove every rule", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {});
        const size_t n = plan(ctx).list().size();
        plan(ctx).clear();
        return nlohmann::json{{"removed", n}};
    });
    m.add("faults.stats", "faults fired, by action and by rule", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {});
        return plan(ctx).stats();
    });
}

}  // namespace vtl::control
