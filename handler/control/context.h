// What the control methods act on. Everything here is touched on the library clock's thread
// only (methods run there); optional parts are null when the daemon runs without them.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace vtl {
class EventLoop;
namespace library {
class Emulator;
}
namespace fault {
class FaultPlan;
}
namespace observe {
class Stats;
class Trace;
}  // namespace observe
}  // namespace vtl

namespace vtl::control {

struct Context {
    library::Emulator& emulator;
    EventLoop& loop;
    fault::FaultPlan* faults = nullptr;
    observe::Stats* stats = nullptr;
    observe::Trace* trace = nullptr;
    // "library/device" -> its TCMU state: "attached", "detached", "disabled" (--no-tcmu) or
    // "unknown" (the transport cannot tell). Called on the loop thread; must be thread-safe.
    std::function<std::string(std::string_view path)> tcmu_state;
};

}  // namespace vtl::control
