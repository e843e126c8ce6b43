#include "output.h"

#include <fmt/format.h>

#include <algorithm>

namespace vtlctl {

namespace {

std::string text(const nlohmann::json& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
    return v.dump();
}

std::string field(const nlohmann::json& obj, const char* key) {
    return obj.is_object() && obj.contains(key) ? text(obj[key]) : "-";
}

std::string libraries(const nlohmann::json& r) {
    std::vector<std::vector<std::string>> rows{
        {"LIBRARY", "PERSONALITY", "SERIAL", "DRIVES", "SLOTS", "I/E", "CARTRIDGES", "DOOR", "MOVES"}};
    for (const auto& l : r) {
        rows.push_back({field(l, "name"), field(l, "personality"), field(l, "serial"), field(l, "drives"),
                        field(l, "slots"), field(l, "ie_slots"), field(l, "cartridges"), field(l, "ie_door"),
                        field(l, "operations_in_flight")});
    }
    return table(rows);
}

std::string devices(const nlohmann::json& r) {
    std::vector<std::vector<std::string>> rows{{"DEVICE", "TYPE", "LUN", "VENDOR", "PRODUCT", "SERIAL", "TCMU"}};
    for (const auto& d : r) {
        rows.push_back({field(d, "path"), field(d, "type"), field(d, "lun"), field(d, "vendor"), field(d, "product"),
                        field(d, "serial"), field(d, "tcmu")});
    }
    return table(rows);
}

std::string element(const nlohmann::json& e) {
    const std::string type = field(e, "type");
    const std::string which = type == "drive" ? field(e, "name")
                              : type == "ie"  ? "I/E slot " + field(e, "index")
                                              : type + " " + field(e, "index");
    return fmt::format("{} (0x{:04X}): {}", which, e.value("address", 0),
                       e.value("full", false) ? field(e, "barcode") : "empty");
}

// Occupied elements, and every drive (empty ones too: their state matters).
std::string inventory(const nlohmann::json& r) {
    std::vector<std::vector<std::string>> rows{{"ADDRESS", "TYPE", "INDEX", "BARCODE", "SOURCE", "DRIVE"}};
    for (const auto& e : r.value("elements", nlohmann::json::array())) {
        const bool drive = e.value("type", "") == "drive";
        if (!e.value("full", false) && !drive) continue;
        const auto source = e.value("source", nlohmann::json());
        rows.push_back(
            {fmt::format("0x{:04X}", e.value("address", 0)), field(e, "type"), field(e, "index"),
             e.value("full", false) ? field(e, "barcode") : "-",
             source.is_number() ? fmt::format("0x{:04X}", source.get<int>()) : "-",
             drive ? fmt::format("{} {}", field(e, "name"), e.contains("drive") ? field(e["drive"], "state") : "")
                   : ""});
    }
    std::string out = table(rows);
    const auto shelf = r.value("store_only", nlohmann::json::array());
    if (!shelf.empty()) {
        out += "in the store only:";
        for (const auto& b : shelf) out += fmt::format(" {}", text(b));
        out += "\n";
    }
    return out;
}

std::string faults(const nlohmann::json& r) {
    std::vector<std::vector<std::string>> rows{{"ID", "FIRED", "RULE"}};
    for (const auto& f : r) {
        nlohmann::json rule = f;
        for (const char* k : {"id", "fired", "seen", "retired"}) rule.erase(k);
        rows.push_back({field(f, "id"), field(f, "fired"), rule.dump()});
    }
    return table(rows);
}

std::string clock(const nlohmann::json& r) {
    std::string s = fmt::format("clock: {}", field(r, "mode"));
    if (r.value("mode", "") == "scaled") s += fmt::format(" x{}", r.value("scale", 0.0));
    s += fmt::format(", wall time {}", field(r, "wall"));
    if (r.contains("advanced_ms")) s += fmt::format(" (advanced {} ms)", r["advanced_ms"].get<int64_t>());
    return s + "\n";
}

std::string stats(const nlohmann::json& r) {
    std::vector<std::vector<std::string>> rows{{"DEVICE", "COMMAND", "COUNT", "ERRORS", "MEAN µs"}};
    if (r.contains("devices")) {
        for (const auto& [dev, d] : r["devices"].items()) {
            if (!d.contains("commands")) continue;
            for (const auto& [name, c] : d["commands"].items()) {
                const double count = c.value("count", 0.0);
                const double sum = c.contains("latency_us") ? c["latency_us"].value("sum", 0.0) : 0.0;
                rows.push_back({dev, name, field(c, "count"), field(c, "errors"),
                                count > 0 ? fmt::format("{:.0f}", sum / count) : "-"});
            }
        }
    }
    std::string out = table(rows);
    if (r.contains("robots")) {
        for (const auto& [lib, q] : r["robots"].items()) {
            out += fmt::format("{}: robots busy {}, queued {}\n", lib, field(q, "busy"), field(q, "queued"));
        }
    }
    if (r.contains("faults")) out += fmt::format("faults fired: {}\n", field(r["faults"], "fired_total"));
    return out;
}

}  // namespace

std::string table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& row : rows) {
        width.resize(std::max(width.size(), row.size()));
        for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += i + 1 < row.size() ? fmt::format("{:<{}}  ", row[i], width[i]) : row[i];
        }
        out += line + "\n";
    }
    return out;
}

std::string human(const std::string& method, const nlohmann::json& r) {
    if (method == "libraries") return libraries(r);
    if (method == "devices") return devices(r);
    if (method == "inventory") return inventory(r);
    if (method == "insert") return "inserted: " + element(r) + "\n";
    if (method == "take") return fmt::format("took {}: {}\n", field(r, "taken"), element(r));
    if (method == "door") return fmt::format("{}: import/export door {}\n", field(r, "library"), field(r, "ie_door"));
    if (method == "faults.list") return faults(r);
    if (method == "faults.add") return fmt::format("added fault rule {}\n", field(r, "id"));
    if (method == "faults.load")
        return fmt::format("added fault rules {}\n", r.value("ids", nlohmann::json::array()).dump());
    if (method == "faults.remove") return fmt::format("removed fault rule {}\n", field(r, "removed"));
    if (method == "faults.clear") return fmt::format("removed {} fault rules\n", field(r, "removed"));
    if (method.rfind("clock", 0) == 0) return clock(r);
    if (method == "stats") return stats(r);
    if (method == "stats.prometheus" && r.is_string()) return r.get<std::string>();
    if (method.rfind("trace.", 0) == 0 && r.is_object() && r.contains("active")) {
        return r.value("active", false) ? fmt::format("tracing to {} ({} lines)\n", field(r, "file"), field(r, "lines"))
                                        : fmt::format("not tracing ({} lines written)\n", field(r, "lines"));
    }
    if (r.is_string()) {
        std::string s = r.get<std::string>();
        return s.empty() || s.back() == '\n' ? s : s + "\n";
    }
    return r.dump(2) + "\n";
}

}  // namespace vtlctl
