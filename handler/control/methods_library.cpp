// libraries, devices: what the daemon serves, with identities and TCMU state.
#include <fmt/format.h>

#include "control/lookup.h"
#include "control/methods.h"
#include "device/device.h"
#include "library/identities.h"

namespace vtl::control {

namespace {

nlohmann::json library_json(library::Library& lib) {
    const auto& c = lib.config();
    const auto& inv = lib.inventory();
    size_t cartridges = 0;
    for (const auto& e : inv.all()) cartridges += e.full() ? 1 : 0;
    return {{"name", c.name},
            {"personality", config::to_string(c.personality)},
            {"serial", c.serial},
            {"state_dir", c.state_dir.string()},
            {"robots", c.robots},
            {"drives", c.drives.size()},
            {"slots", c.slots},
            {"ie_slots", c.ie_slots},
            {"cartridges", cartridges},
            {"ie_door", lib.ie_door_open() ? "open" : "closed"},
            {"ie_locked", lib.ie_locked()},
            {"operations_in_flight", lib.operations_in_flight()},
            {"robots_queued", lib.robots().queued()},
            {"robots_busy", lib.robots().busy()}};
}

nlohmann::json device_json(Context& ctx, library::Library& lib, const std::string& name, LogicalUnit& lu) {
    const auto& id = lu.device().identity();
    const bool changer = id.type == PeripheralType::MediumChanger;
    nlohmann::json out = {{"library", lib.name()},
                          {"name", name},
                          {"path", lu.name()},
                          {"type", changer ? "changer" : "tape"},
                          {"lun", 0},
                          {"vendor", library::trimmed(id.vendor)},
                          {"product", library::trimmed(id.product)},
                          {"revision", library::trimmed(id.revision)},
                          {"serial", id.serial},
                          {"naa", fmt::format("{:016x}", id.naa)},
                          {"tcmu", ctx.tcmu_state ? ctx.tcmu_state(lu.name()) : "unknown"}};
    // A bridging drive's changer LUN 1 ("drive0-changer") sits behind that drive.
    for (const auto& d : lib.config().drives) {
        if (d.bridge && name == d.name + "-changer") {
            out["lun"] = 1;
            out["drive"] = d.name;
        }
    }
    return out;
}

}  // namespace

void register_library_methods(Methods& m) {
    m.add("libraries", "every library: layout, cartridges, I/E door, robots",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {});
              nlohmann::json out = nlohmann::json::array();
              for (const auto& lib : ctx.emulator.libraries()) out.push_back(library_json(*lib));
              return out;
          });
    m.add("devices", "every device (or one library's): type, LUN, INQUIRY identity, TCMU state",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"library"});
              nlohmann::json out = nlohmann::json::array();
              for (const auto& lib : ctx.emulator.libraries()) {
                  if (auto want = param::opt_string(p, "library"); want && *want != lib->name()) continue;
                  for (auto& dev : lib->devices()) out.push_back(device_json(ctx, *lib, dev.name, dev.lu));
              }
              if (out.empty() && p.contains("library")) {
                  library_param(ctx, p);  // throws not_found for an unknown name
              }
              return out;
          });
}

}  // namespace vtl::control
