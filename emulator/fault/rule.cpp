#include "fault/rule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "config/duration.h"

namespace vtl::fault {

namespace {

using json = nlohmann::json;

struct ActionInfo {
    Action action;
    const char* name;
    std::vector<const char*> fields;  // besides the common match and limit fields
};

const std::vector<ActionInfo>& actions() {
    static const std::vector<ActionInfo> table = {
        {Action::Delay, "delay", {"delay"}},
        {Action::Hang, "hang", {"ignore_aborts"}},
        {Action::CheckCondition, "check_condition", {"sense", "information"}},
        {Action::Busy, "busy", {}},
        {Action::TaskSetFull, "task_set_full", {}},
        {Action::ReservationConflict, "reservation_conflict", {}},
        {Action::UnitAttention, "unit_attention", {"asc", "nexus"}},
        {Action::NotReady, "not_ready", {"asc", "duration"}},
        {Action::Offline, "offline", {"duration", "changer_sense"}},
        {Action::MediumError, "medium_error", {}},
        {Action::EarlyEom, "early_eom", {"warning_at", "end_at"}},
        {Action::Corrupt, "corrupt", {"bits"}},
        {Action::RefuseLoad, "refuse_load", {"recovery", "sense"}},
        {Action::RefuseUnload, "refuse_unload", {"recovery", "sense"}},
        {Action::Door, "door", {"door", "duration", "asc"}},
        {Action::TapeAlert, "tape_alert", {"flags"}},
        {Action::RobotRecovery, "robot_recovery", {"recovery", "sense"}},
    };
    return table;
}

const std::set<std::string> kCommonFields = {"name",  "device", "command",   "element", "slot",  "drive",
                                             "ie",    "blocks", "initiator", "nth",     "every", "probability",
                                             "after", "before", "for",       "at",      "count", "action"};

[[noreturn]] void fail(const std::string& field, const std::string& what) { throw FaultError(field + ": " + what); }

std::string type_name(const json& v) { return v.type_name(); }

uint64_t get_uint(const json& rule, const char* field, uint64_t min = 0, uint64_t max = UINT64_MAX) {
    const json& v = rule.at(field);
    if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0)) {
        fail(field, fmt::format("expected a non-negative integer, got {}", v.dump()));
    }
    const uint64_t n = v.get<uint64_t>();
    if (n < min || n > max) fail(field, fmt::format("{} is out of range {}..{}", n, min, max));
    return n;
}

std::string get_string(const json& rule, const char* field) {
    const json& v = rule.at(field);
    if (!v.is_string()) fail(field, fmt::format("expected a string, got {} {}", type_name(v), v.dump()));
    return v.get<std::string>();
}

// "15s", "2.5s", "500ms", "13min", "1h", or a number of seconds (fractions allowed).
Duration get_duration(const json& rule, const char* field) {
    const json& v = rule.at(field);
    if (v.is_number()) {
        const double s = v.get<double>();
        if (!(s >= 0) || s > 1e9) fail(field, fmt::format("expected a duration >= 0, got {}", v.dump()));
        return Duration(static_cast<int64_t>(std::llround(s * 1e9)));
    }
    if (!v.is_string()) fail(field, fmt::format("expected a duration such as \"30s\", got {}", v.dump()));
    std::string error;
    auto d = config::parse_duration(v.get<std::string>(), error);
    if (!d) fail(field, error.empty() ? "invalid duration" : error);
    return std::chrono::duration_cast<Duration>(*d);
}

// An element address or selector number: integer, or "0x1000" string.
uint32_t address_value(const json& v, const std::string& field) {
    if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
        const uint64_t n = v.get<uint64_t>();
        if (n > 0xFFFF) fail(field, fmt::format("{} is not a 16-bit element address", n));
        return static_cast<uint32_t>(n);
    }
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        try {
            size_t used = 0;
            const unsigned long n = std::stoul(s, &used, 0);
            if (used == s.size() && n <= 0xFFFF) return static_cast<uint32_t>(n);
        } catch (const std::exception&) {
        }
    }
    fail(field, fmt::format("expected an element address (integer or \"0x1000\"), got {}", v.dump()));
}

void get_addresses(const json& rule, const char* field, AddressSel::Kind kind, std::vector<AddressSel>& out) {
    if (!rule.contains(field)) return;
    const json& v = rule.at(field);
    auto one = [&](const json& x, const std::string& path) {
        const uint32_t n = address_value(x, path);
        if (kind != AddressSel::Kind::Element && kind != AddressSel::Kind::Drive && n == 0) {
            fail(path, "slots and I/E slots are numbered from 1");
        }
        out.push_back({kind, n});
    };
    if (v.is_array()) {
        if (v.empty()) fail(field, "empty list");
        for (size_t i = 0; i < v.size(); ++i) one(v[i], fmt::format("{}[{}]", field, i));
    } else {
        one(v, field);
    }
}

CommandSel command_sel(const json& v, const std::string& field) {
    CommandSel c;
    if (v.is_number_integer()) {
        const int64_t n = v.get<int64_t>();
        if (n < 0 || n > 0xFF) fail(field, fmt::format("opcode {} is not 00h-FFh", n));
        c.opcode = static_cast<uint8_t>(n);
        return c;
    }
    if (!v.is_string() || v.get<std::string>().empty()) {
        fail(field, fmt::format("expected a command name (\"READ(6)\") or opcode (8, \"0x08\"), got {}", v.dump()));
    }
    const std::string s = v.get<std::string>();
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        try {
            size_t used = 0;
            const unsigned long n = std::stoul(s, &used, 16);
            if (used == s.size() && n <= 0xFF) {
                c.opcode = static_cast<uint8_t>(n);
                return c;
            }
        } catch (const std::exception&) {
        }
        fail(field, fmt::format("\"{}\" is not an opcode 0x00-0xFF", s));
    }
    c.name = s;
    std::transform(c.name.begin(), c.name.end(), c.name.begin(), [](unsigned char ch) { return std::toupper(ch); });
    return c;
}

unsigned hex_part(const std::string& s, size_t& pos, bool last, bool& ok) {
    const size_t end = s.find('/', pos);
    const std::string part = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (part.empty() || part.size() > 2 || (last != (end == std::string::npos)) ||
        !std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isxdigit(c); })) {
        ok = false;
        return 0;
    }
    pos = end == std::string::npos ? s.size() : end + 1;
    return static_cast<unsigned>(std::stoul(part, nullptr, 16));
}

scsi::Sense get_sense(const json& rule, const char* field) {
    const std::string s = get_string(rule, field);
    auto sense = parse_sense(s);
    if (!sense) fail(field, fmt::format("expected \"KEY/ASC/ASCQ\" in hex such as \"3/11/00\", got \"{}\"", s));
    return *sense;
}

scsi::Asc get_asc(const json& rule, const char* field) {
    const std::string s = get_string(rule, field);
    auto a = parse_asc(s);
    if (!a) fail(field, fmt::format("expected \"ASC/ASCQ\" in hex such as \"29/00\", got \"{}\"", s));
    return *a;
}

}  // namespace

const char* to_string(Action a) {
    for (const auto& i : actions()) {
        if (i.action == a) return i.name;
    }
    return "?";
}

bool is_motion_action(Action a) {
    return a == Action::RobotRecovery || a == Action::RefuseLoad || a == Action::RefuseUnload;
}

std::optional<scsi::Sense> parse_sense(const std::string& text) {
    bool ok = true;
    size_t pos = 0;
    const unsigned key = hex_part(text, pos, false, ok);
    const unsigned asc = ok ? hex_part(text, pos, false, ok) : 0;
    const unsigned ascq = ok ? hex_part(text, pos, true, ok) : 0;
    if (!ok || key > 0xF) return std::nullopt;
    return scsi::Sense(static_cast<scsi::SenseKey>(key), scsi::Asc{uint8_t(asc), uint8_t(ascq)});
}

std::optional<scsi::Asc> parse_asc(const std::string& text) {
    bool ok = true;
    size_t pos = 0;
    const unsigned asc = hex_part(text, pos, false, ok);
    const unsigned ascq = ok ? hex_part(text, pos, true, ok) : 0;
    if (!ok) return std::nullopt;
    return scsi::Asc{uint8_t(asc), uint8_t(ascq)};
}

std::string format_sense(const scsi::Sense& s) {
    return fmt::format("{:X}/{:02X}/{:02X}", static_cast<int>(s.key()), s.code().asc, s.code().ascq);
}

Rule parse_rule(const json& j) {
    if (!j.is_object()) throw FaultError(fmt::format("a fault rule must be an object, got {}", j.type_name()));
    Rule r;
    r.given = j;

    if (!j.contains("action")) fail("action", "missing (one of delay, hang, check_condition, ...)");
    const std::string action = get_string(j, "action");
    const auto ai =
        std::find_if(actions().begin(), actions().end(), [&](const ActionInfo& i) { return action == i.name; });
    if (ai == actions().end()) {
        std::string names;
        for (const auto& i : actions()) names += (names.empty() ? "" : ", ") + std::string(i.name);
        fail("action", fmt::format("unknown action \"{}\" (one of {})", action, names));
    }
    r.action = ai->action;
    for (const auto& item : j.items()) {
        const std::string& key = item.key();  // not a structured binding: clang 14 cannot capture those
        const bool own = std::any_of(ai->fields.begin(), ai->fields.end(), [&](const char* f) { return key == f; });
        if (!own && !kCommonFields.contains(key)) {
            fail(key, fmt::format("unknown field for action \"{}\"", action));
        }
    }
    auto has = [&](const char* f) { return j.contains(f); };

    // ---- match
    if (has("name")) get_string(j, "name");
    if (has("device")) {
        const std::string d = get_string(j, "device");
        const auto slash = d.find('/');
        r.library = d.substr(0, slash);
        if (slash != std::string::npos) r.device = d.substr(slash + 1);
        if (r.device == "*") r.device.clear();
        if (r.library.empty() || r.library == "*" || (slash != std::string::npos && d.size() == slash + 1) ||
            r.device.find('/') != std::string::npos) {
            fail("device", fmt::format("expected \"library\" or \"library/device\", got \"{}\"", d));
        }
    }
    if (has("command")) {
        const json& v = j.at("command");
        if (v.is_array()) {
            if (v.empty()) fail("command", "empty list");
            for (size_t i = 0; i < v.size(); ++i)
                r.commands.push_back(command_sel(v[i], fmt::format("command[{}]", i)));
        } else {
            r.commands.push_back(command_sel(v, "command"));
        }
    }
    get_addresses(j, "element", AddressSel::Kind::Element, r.elements);
    get_addresses(j, "slot", AddressSel::Kind::Slot, r.elements);
    get_addresses(j, "drive", AddressSel::Kind::Drive, r.elements);
    get_addresses(j, "ie", AddressSel::Kind::Ie, r.elements);
    if (has("blocks")) {
        const json& v = j.at("blocks");
        auto block = [&](const json& x, const std::string& path) {
            if (!x.is_number_integer() || x.get<int64_t>() < 0) {
                fail(path, fmt::format("expected a logical block number >= 0, got {}", x.dump()));
            }
            return x.get<uint64_t>();
        };
        if (v.is_array()) {
            if (v.size() != 2) fail("blocks", "expected [first, last]");
            r.blocks = {block(v[0], "blocks[0]"), block(v[1], "blocks[1]")};
            if (r.blocks->second < r.blocks->first) fail("blocks", "last is before first");
        } else {
            const uint64_t b = block(v, "blocks");
            r.blocks = {b, b};
        }
    }
    if (has("initiator")) r.initiator = get_string(j, "initiator");
    if (has("nth")) r.nth = get_uint(j, "nth", 1);
    if (has("every")) r.every = get_uint(j, "every", 1);
    if (r.nth && r.every) fail("every", "nth and every exclude each other");
    if (has("probability")) {
        const json& v = j.at("probability");
        if (!v.is_number() || !(v.get<double>() >= 0.0 && v.get<double>() <= 1.0)) {
            fail("probability", fmt::format("expected a number from 0 to 1, got {}", v.dump()));
        }
        r.probability = v.get<double>();
    }
    if (has("after")) r.after = get_duration(j, "after");
    if (has("before")) r.before = get_duration(j, "before");
    if (r.after && r.before && *r.before <= *r.after) fail("before", "must be later than after");
    if (has("for")) r.window = get_duration(j, "for");
    if (has("at")) r.at = get_duration(j, "at");
    if (has("count")) r.count = get_uint(j, "count", 1);

    // ---- action parameters
    switch (r.action) {
        case Action::Delay:
            if (!has("delay")) fail("delay", "missing (how long, such as \"30s\")");
            r.duration = get_duration(j, "delay");
            r.has_duration = true;
            break;
        case Action::Hang:
            if (has("ignore_aborts")) {
                const json& v = j.at("ignore_aborts");
                if (!v.is_boolean()) fail("ignore_aborts", fmt::format("expected true or false, got {}", v.dump()));
                r.ignore_aborts = v.get<bool>();
            }
            break;
        case Action::CheckCondition:
            if (!has("sense")) fail("sense", "missing (\"KEY/ASC/ASCQ\" such as \"3/11/00\")");
            r.sense = get_sense(j, "sense");
            if (has("information")) r.sense->information(get_uint(j, "information"));
            break;
        case Action::UnitAttention:
            if (!has("asc")) fail("asc", "missing (\"ASC/ASCQ\" such as \"29/00\")");
            r.asc = get_asc(j, "asc");
            if (has("nexus")) {
                const std::string n = get_string(j, "nexus");
                if (n != "one" && n != "all") fail("nexus", fmt::format("expected \"one\" or \"all\", got \"{}\"", n));
                r.all_nexuses = n == "all";
            }
            break;
        case Action::NotReady:
            r.asc = has("asc") ? get_asc(j, "asc") : scsi::asc::kNotReadyCauseNotReportable;
            [[fallthrough]];
        case Action::Offline:
            if (has("duration")) {
                r.duration = get_duration(j, "duration");
                r.has_duration = r.duration > Duration::zero();
            }
            if (has("changer_sense")) r.changer_sense = get_sense(j, "changer_sense");
            break;
        case Action::Door:
            if (has("door")) {
                const std::string d = get_string(j, "door");
                if (d != "library" && d != "ie")
                    fail("door", fmt::format("expected \"library\" or \"ie\", got \"{}\"", d));
                r.ie_door = d == "ie";
            }
            if (has("asc")) {
                if (r.ie_door) fail("asc", "the I/E door reports the library's own 02/04/03 and 28/01");
                r.asc = get_asc(j, "asc");
            }
            if (has("duration")) {
                r.duration = get_duration(j, "duration");
                r.has_duration = r.duration > Duration::zero();
            }
            if (r.device.size() && r.device != "changer")
                fail("device", "a door belongs to a library: name \"lib\" or \"lib/changer\"");
            break;
        case Action::MediumError:
            if (!r.blocks) fail("blocks", "missing: medium_error needs the damaged block range");
            break;
        case Action::EarlyEom:
            if (!has("warning_at")) fail("warning_at", "missing (the logical block where early warning starts)");
            r.warning_at = get_uint(j, "warning_at");
            if (has("end_at")) {
                r.end_at = get_uint(j, "end_at");
                if (*r.end_at < *r.warning_at) fail("end_at", "must not be before warning_at");
            }
            break;
        case Action::Corrupt:
            if (has("bits")) r.bits = static_cast<uint32_t>(get_uint(j, "bits", 1, 4096));
            break;
        case Action::RefuseLoad:
        case Action::RefuseUnload:
            r.sense = has("sense") ? get_sense(j, "sense")
                                   : scsi::Sense(scsi::SenseKey::HardwareError, scsi::asc::kMediaLoadOrEjectFailed);
            if (has("recovery")) r.duration = get_duration(j, "recovery");
            break;
        case Action::RobotRecovery:
            if (!has("recovery")) fail("recovery", "missing (how long the library recovers, such as \"13min\")");
            r.duration = get_duration(j, "recovery");
            if (has("sense")) r.sense = get_sense(j, "sense");
            break;
        case Action::TapeAlert: {
            if (!has("flags")) fail("flags", "missing (TapeAlert flag numbers 1-64, such as [0x14])");
            const json& v = j.at("flags");
            const json list = v.is_array() ? v : json::array({v});
            if (list.empty()) fail("flags", "empty list");
            for (size_t i = 0; i < list.size(); ++i) {
                const json& f = list[i];
                if (!f.is_number_integer() || f.get<int64_t>() < 1 || f.get<int64_t>() > 64) {
                    fail(v.is_array() ? fmt::format("flags[{}]", i) : "flags",
                         fmt::format("expected a TapeAlert flag 1-64, got {}", f.dump()));
                }
                r.flags.push_back(static_cast<uint8_t>(f.get<int>()));
            }
            break;
        }
        case Action::Busy:
        case Action::TaskSetFull:
        case Action::ReservationConflict:
            break;
    }

    // ---- what applies where
    if (is_motion_action(r.action)) {
        for (const char* f : {"command", "blocks", "initiator", "at"}) {
            if (has(f)) fail(f, fmt::format("does not apply to {}: it acts on robot motions", action));
        }
        if ((r.action == Action::RefuseLoad || r.action == Action::RefuseUnload) && r.device == "changer") {
            fail("device", "name the drive that refuses (\"lib0/drive0\"), or the library with drive = N");
        }
    }
    if (r.at) {
        const bool event = r.action == Action::UnitAttention || r.action == Action::NotReady ||
                           r.action == Action::Offline || r.action == Action::Door || r.action == Action::TapeAlert;
        if (!event)
            fail("at", fmt::format("only unit_attention, not_ready, offline, door and tape_alert happen at a time; {} "
                                   "acts on commands",
                                   action));
        if (r.library.empty()) fail("device", "an event rule (at) names its library or device");
        for (const char* f : {"command", "blocks", "initiator", "element", "slot", "drive", "ie", "nth", "every"}) {
            if (has(f)) fail(f, "does not apply to an event rule (at): no command is matched");
        }
    }
    return r;
}

}  // namespace vtl::fault
