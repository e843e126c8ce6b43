// clock: the library clock's mode (real, scaled xN, virtual) and jumps of virtual time.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cmath>

#include "config/duration.h"
#include "control/methods.h"
#include "core/event_loop.h"

namespace vtl::control {

namespace {

nlohmann::json state_json(EventLoop& loop) {
    const ClockState s = loop.state();
    const auto wall = std::chrono::time_point_cast<std::chrono::milliseconds>(loop.wall_now());
    return {{"mode", to_string(s.mode)},
            {"scale", s.scale},
            {"now_ns", s.now.time_since_epoch().count()},
            {"wall", fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", wall)}};
}

// "12m" as well as the config's "12min"; "90s", "1.5h", "250ms".
Duration parse_advance(const std::string& text) {
    std::string t = text;
    if (t.size() >= 2 && t.back() == 'm' && std::isdigit(static_cast<unsigned char>(t[t.size() - 2]))) t += "in";
    std::string error;
    auto d = config::parse_duration(t, error);
    if (!d) throw ControlError(code::kBadParams, fmt::format("parameter \"duration\": {}", error));
    return std::chrono::duration_cast<Duration>(*d);
}

}  // namespace

void register_clock_methods(Methods& m) {
    m.add("clock", "the clock's mode, scale and time", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {});
        return state_json(ctx.loop);
    });
    m.add("clock.real", "run on real time", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {});
        ctx.loop.set_real();
        return state_json(ctx.loop);
    });
    m.add("clock.scale", "run N times faster than real time: {factor}", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {"factor"});
        auto f = p.find("factor");
        if (f == p.end() || !f->is_number() || !std::isfinite(f->get<double>()) || f->get<double>() <= 0) {
            throw ControlError(code::kBadParams, "parameter \"factor\": expected a number > 0");
        }
        ctx.loop.set_scaled(f->get<double>());
        return state_json(ctx.loop);
    });
    m.add("clock.virtual", "stop time; it moves only with clock.advance", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {});
        ctx.loop.set_virtual();
        return state_json(ctx.loop);
    });
    m.add("clock.advance", "jump time forward, running every timer due: {duration: \"12m\"}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"duration"});
              const Duration d = parse_advance(param::string(p, "duration"));
              // On the loop thread: advance() runs the due timers (and what they post) itself.
              ctx.loop.advance(d);
              auto out = state_json(ctx.loop);
              out["advanced_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
              return out;
          });
}

}  // namespace vtl::control
