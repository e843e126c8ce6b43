// TOML -> Config. The only file that includes toml++ (it is slow to compile). Parsing stops at
// the first mistake and names it with the file, line and column of the offending node.
#include "config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace vtl::config {

namespace {

using Pos = toml::source_position;

constexpr Millis kMaxTiming = std::chrono::hours(1);
constexpr Millis kMinBridgeTimeout = std::chrono::seconds(1);
constexpr Millis kMaxBridgeTimeout = std::chrono::hours(24);
constexpr int kMinGeneration = 5;
constexpr int kMaxGeneration = 9;
const std::initializer_list<std::string_view> kCartridgeKeys = {"barcode", "first", "count",    "slot",
                                                                  "type",    "generation", "capacity", "write_protected"};
constexpr uint64_t kMinCapacity = 4096;                       // a few records: enough to reach EW and EOM
constexpr uint64_t kMaxCapacity = 1000ull * 1000 * 1000 * 1000 * 1000;  // 1 PB
constexpr int64_t kMaxCleaningInterval = 1'000'000;

bool known(Pos p) { return p.line > 0; }
bool before(Pos a, Pos b) { return a.line != b.line ? a.line < b.line : a.column < b.column; }

std::string type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        default: return "nothing";
    }
}

// The value itself when it is a scalar, else its type.
std::string got(const toml::node& n) {
    if (auto s = n.as_string()) return quote(s->get());
    if (auto i = n.as_integer()) return std::to_string(i->get());
    if (auto f = n.as_floating_point()) {
        std::string text = fmt::format("{}", f->get());
        if (text.find_first_of(".eni") == std::string::npos) text += ".0";  // 1.0, not 1
        return text;
    }
    if (auto b = n.as_boolean()) return b->get() ? "true" : "false";
    return type_name(n);
}

template <typename Range, typename Fn>
std::string join(const Range& items, Fn&& text) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += ", ";
        out += text(item);
    }
    return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

// One spelling per directory: "/a/b/", "/a//b" and "/a/./b" are all "/a/b".
std::string same_dir(const std::filesystem::path& dir) {
    std::string text = dir.lexically_normal().string();
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    return text;
}

class Parser;

// One TOML table being read: where it is, and how messages about it begin.
class Scope {
public:
    Scope(const Parser& parser, const toml::table& table, std::string context, Pos fallback, std::string key_prefix = {})
        : parser_(parser), table_(table), context_(std::move(context)), prefix_(std::move(key_prefix)),
          where_(known(table.source().begin) ? table.source().begin : fallback) {}

    void rename(std::string context) { context_ = std::move(context); }
    const std::string& context() const { return context_; }
    Pos where() const { return where_; }
    Pos where(std::string_view key) const {
        const toml::node* n = table_.get(key);
        return n && known(n->source().begin) ? n->source().begin : where_;
    }
    const toml::node* get(std::string_view key) const { return table_.get(key); }

    // "<context><prefix><key>: <message>" at the key's value, or at the table if it is absent.
    [[noreturn]] void fail(std::string_view key, const std::string& message) const;
    // "<context><prefix>: <message>" at the table.
    [[noreturn]] void fail_here(const std::string& message) const;

    void only(std::initializer_list<std::string_view> accepted) const;
    std::optional<std::string> string(std::string_view key) const;
    std::optional<bool> boolean(std::string_view key) const;
    // `hex_digits` > 0 shows the numbers in hex with at least that many digits.
    std::optional<int64_t> integer(std::string_view key, int64_t lo, int64_t hi, int hex_digits = 0) const;
    std::optional<Millis> duration(std::string_view key, Millis lo, Millis hi) const;
    std::optional<MotionTime> motion(std::string_view key, Millis hi) const;
    std::optional<uint64_t> size(std::string_view key, uint64_t lo, uint64_t hi) const;
    // A sub-table; its messages read "<context><key>.<subkey>".
    std::optional<Scope> table(std::string_view key) const;
    // An array of tables; `header` is how the file spells it, for the message.
    const toml::array* tables(std::string_view key, std::string_view header) const;
    Scope nested(const toml::table& t, std::string context) const { return Scope(parser_, t, std::move(context), where_); }

private:
    const Parser& parser_;
    const toml::table& table_;
    std::string context_;
    std::string prefix_;
    Pos where_;
};

class Parser {
public:
    explicit Parser(std::string_view file) : file_(file) {}

    [[noreturn]] void fail(Pos at, const std::string& message) const {
        throw ConfigError(fmt::format("{}:{}:{}: {}", file_, at.line, at.column, message));
    }

    Config parse(const toml::table& root);

private:
    struct Seen {
        Pos where;
        std::string who;
    };

    LibraryConfig library(const toml::table& t, size_t index, Pos fallback);
    void addresses(const Scope& s, LibraryConfig& lib);
    void timings(const Scope& s, LibraryConfig& lib);
    void bridge(const Scope& s, LibraryConfig& lib);
    void async_move(const Scope& s, LibraryConfig& lib);
    void drives(const Scope& s, LibraryConfig& lib);
    void check_ranges(const Scope& s, const LibraryConfig& lib);
    void cartridges(const Scope& s, LibraryConfig& lib);
    // Serials name devices to hosts (multipath keys on them): unique in the whole config.
    void claim_serial(const Scope& s, const std::string& serial, std::string who);

    std::string file_;
    std::map<std::string, Seen> libraries_;
    std::map<std::string, Seen> state_dirs_;  // by same_dir()
    std::map<std::string, Seen> serials_;
};

void Scope::fail(std::string_view key, const std::string& message) const {
    parser_.fail(where(key), fmt::format("{}{}{}: {}", context_, prefix_, key, message));
}

void Scope::fail_here(const std::string& message) const {
    std::string_view prefix = prefix_;
    if (prefix.ends_with('.')) prefix.remove_suffix(1);
    parser_.fail(where_, prefix.empty() ? context_ + message : fmt::format("{}{}: {}", context_, prefix, message));
}

void Scope::only(std::initializer_list<std::string_view> accepted) const {
    for (auto&& [key, node] : table_) {
        const std::string_view k = key.str();
        if (std::find(accepted.begin(), accepted.end(), k) != accepted.end()) continue;
        std::string hint;
        for (auto a : accepted) {
            if (edit_distance(k, a) <= 2 && edit_distance(k, a) < a.size()) {
                hint = fmt::format("; did you mean \"{}\"?", a);
                break;
            }
        }
        const Pos at = known(key.source().begin) ? key.source().begin : where(k);
        std::string_view prefix = prefix_;
        if (prefix.ends_with('.')) prefix.remove_suffix(1);
        parser_.fail(at, fmt::format("{}{}{}unknown key {}{} accepted keys: {}", context_, prefix,
                                     prefix.empty() ? "" : ": ", quote(k), hint.empty() ? ";" : hint,
                                     join(accepted, [](std::string_view a) { return std::string(a); })));
    }
}

std::optional<std::string> Scope::string(std::string_view key) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (auto s = n->as_string()) return s->get();
    fail(key, fmt::format("expected a string; got {}", got(*n)));
}

std::optional<bool> Scope::boolean(std::string_view key) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (auto b = n->as_boolean()) return b->get();
    fail(key, fmt::format("expected true or false; got {}", got(*n)));
}

std::optional<int64_t> Scope::integer(std::string_view key, int64_t lo, int64_t hi, int hex_digits) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    auto show = [&](int64_t v) { return hex_digits && v >= 0 ? fmt::format("0x{:0{}X}", v, hex_digits) : std::to_string(v); };
    const auto* i = n->as_integer();
    if (!i) fail(key, fmt::format("expected an integer {}..{}; got {}", show(lo), show(hi), got(*n)));
    const int64_t v = i->get();
    if (v < lo || v > hi) fail(key, fmt::format("expected {}..{}; got {}", show(lo), show(hi), show(v)));
    return v;
}

std::optional<Millis> Scope::duration(std::string_view key, Millis lo, Millis hi) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    std::optional<Millis> d;
    if (auto i = n->as_integer()) {
        // Integer seconds; anything beyond `hi` is reported below, so clamp before converting.
        d = Millis(std::clamp<int64_t>(i->get(), -1, hi.count() / 1000 + 1) * 1000);
    } else if (auto s = n->as_string()) {
        std::string error;
        d = parse_duration(s->get(), error);
        if (!d) fail(key, fmt::format("{}: {}", quote(s->get()), error));
    } else {
        fail(key, fmt::format("expected a duration like \"15s\", \"2.5s\", \"500ms\", \"13min\", \"1h\" or integer seconds; got {}",
                              got(*n)));
    }
    if (*d < lo || *d > hi) {
        fail(key, fmt::format("expected {}..{}; got {}", format_duration(lo), format_duration(hi), got(*n)));
    }
    return d;
}

std::optional<MotionTime> Scope::motion(std::string_view key, Millis hi) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    std::optional<MotionTime> m;
    if (auto i = n->as_integer()) {
        m = MotionTime{Millis(std::clamp<int64_t>(i->get(), -1, hi.count() / 1000 + 1) * 1000), false};
    } else if (auto s = n->as_string()) {
        std::string error;
        m = parse_motion_time(s->get(), error);
        if (!m) fail(key, fmt::format("{}: {}", quote(s->get()), error));
    } else {
        fail(key, fmt::format("expected a duration like \"2s\" (fixed) or \"8ms/GB\" (per GB of tape passed over) or "
                              "integer seconds; got {}",
                              got(*n)));
    }
    if (m->time < Millis(0) || m->time > hi) {
        fail(key, fmt::format("expected 0s..{} (or per GB); got {}", format_duration(hi), got(*n)));
    }
    return m;
}

std::optional<uint64_t> Scope::size(std::string_view key, uint64_t lo, uint64_t hi) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    uint64_t v = 0;
    if (auto i = n->as_integer()) {
        if (i->get() < 0) fail(key, fmt::format("expected {}..{}; got {}", format_size(lo), format_size(hi), got(*n)));
        v = static_cast<uint64_t>(i->get());
    } else if (auto s = n->as_string()) {
        std::string error;
        auto parsed = parse_size(s->get(), error);
        if (!parsed) fail(key, fmt::format("{}: {}", quote(s->get()), error));
        v = *parsed;
    } else {
        fail(key, fmt::format("expected a size like \"64MiB\", \"800GB\" or integer bytes; got {}", got(*n)));
    }
    if (v < lo || v > hi) fail(key, fmt::format("expected {}..{}; got {}", format_size(lo), format_size(hi), got(*n)));
    return v;
}

std::optional<Scope> Scope::table(std::string_view key) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    const auto* t = n->as_table();
    if (!t) fail(key, fmt::format("expected a table; got {}", got(*n)));
    return Scope(parser_, *t, context_, where(key), fmt::format("{}{}.", prefix_, key));
}

const toml::array* Scope::tables(std::string_view key, std::string_view header) const {
    const toml::node* n = get(key);
    if (!n) return nullptr;
    const auto* a = n->as_array();
    const bool ok = a && std::all_of(a->begin(), a->end(), [](const toml::node& e) { return e.is_table(); });
    if (!ok) fail(key, fmt::format("expected an array of tables ({}); got {}", header, got(*n)));
    return a;
}

Config Parser::parse(const toml::table& root) {
    Scope top(*this, root, "", Pos{1, 1});
    top.only({"library"});
    const toml::array* libs = top.tables("library", "[[library]]");
    if (!libs || libs->empty()) fail(Pos{1, 1}, "no library declared; expected at least one [[library]] table");

    Config config;
    for (size_t i = 0; i < libs->size(); ++i) {
        config.libraries.push_back(library(*(*libs)[i].as_table(), i, top.where("library")));
    }
    return config;
}

LibraryConfig Parser::library(const toml::table& t, size_t index, Pos fallback) {
    Scope s(*this, t, fmt::format("library #{}: ", index + 1), fallback);
    // The name first, so every later message can say which library it is about.
    const std::string name = s.string("name").value_or(fmt::format("lib{}", index));
    if (auto why = name_error(name)) s.fail("name", fmt::format("{}; got {}", *why, quote(name)));
    s.rename(fmt::format("library \"{}\": ", name));
    if (auto [it, fresh] = libraries_.try_emplace(name, Seen{s.where("name"), name}); !fresh) {
        s.fail("name", fmt::format("{} is already the name of the library at line {}", quote(name), it->second.where.line));
    }
    s.only({"name", "personality", "serial", "state_dir", "changer", "robots", "slots", "ie_slots", "addresses",
            "timings", "bridge", "async_move", "drives", "cartridges"});

    Personality personality = Personality::Generic;
    if (auto p = s.string("personality")) {
        auto found = personality_from_string(*p);
        if (!found) {
            s.fail("personality", fmt::format("expected one of {}; got {}",
                                              join(personalities(), [](Personality x) { return std::string(to_string(x)); }),
                                              quote(*p)));
        }
        personality = *found;
    }
    LibraryConfig lib = library_defaults(name, personality);

    if (auto serial = s.string("serial")) {
        if (auto why = serial_error(*serial)) s.fail("serial", fmt::format("{}; got {}", *why, quote(*serial)));
        lib.serial = *serial;
    }
    if (auto dir = s.string("state_dir")) {
        if (dir->empty() || dir->front() != '/' || dir->find('\0') != std::string::npos) {
            s.fail("state_dir", fmt::format("expected an absolute path; got {}", quote(*dir)));
        }
        lib.state_dir = *dir;
    }
    // Two libraries in one directory would overwrite each other's state.
    if (auto [it, fresh] = state_dirs_.try_emplace(same_dir(lib.state_dir), Seen{s.where("state_dir"), name}); !fresh) {
        s.fail("state_dir", fmt::format("{} is also the state directory of library \"{}\" (line {})",
                                        quote(lib.state_dir.string()), it->second.who, it->second.where.line));
    }
    if (auto changer = s.string("changer")) {
        if (auto why = name_error(*changer)) s.fail("changer", fmt::format("{}; got {}", *why, quote(*changer)));
        lib.changer = *changer;
    }
    lib.robots = static_cast<uint32_t>(s.integer("robots", 1, kMaxRobots).value_or(lib.robots));
    lib.slots = static_cast<uint32_t>(s.integer("slots", 1, kMaxSlots).value_or(lib.slots));
    lib.ie_slots = static_cast<uint32_t>(s.integer("ie_slots", 0, kMaxIeSlots).value_or(lib.ie_slots));

    if (auto a = s.table("addresses")) addresses(*a, lib);
    if (auto a = s.table("timings")) timings(*a, lib);
    if (auto a = s.table("bridge")) bridge(*a, lib);
    if (auto a = s.table("async_move")) async_move(*a, lib);

    claim_serial(s, lib.serial, fmt::format("{}/{}", lib.name, lib.changer));
    drives(s, lib);
    check_ranges(s, lib);
    cartridges(s, lib);
    return lib;
}

void Parser::addresses(const Scope& s, LibraryConfig& lib) {
    s.only({"transport", "ie", "drive", "slot"});
    auto read = [&](std::string_view key, uint16_t& base) {
        if (auto v = s.integer(key, 0, 0xFFFF, 4)) base = static_cast<uint16_t>(*v);
    };
    read("transport", lib.addresses.transport);
    read("ie", lib.addresses.ie);
    read("drive", lib.addresses.drive);
    read("slot", lib.addresses.slot);
}

void Parser::timings(const Scope& s, LibraryConfig& lib) {
    s.only({"pick", "place", "load", "unload", "slot_to_slot", "ie_to_slot", "rewind", "locate"});
    auto read = [&](std::string_view key, Millis& d) { d = s.duration(key, Millis(0), kMaxTiming).value_or(d); };
    read("pick", lib.timings.pick);
    read("place", lib.timings.place);
    read("load", lib.timings.load);
    read("unload", lib.timings.unload);
    read("slot_to_slot", lib.timings.slot_to_slot);
    read("ie_to_slot", lib.timings.ie_to_slot);
    lib.timings.rewind = s.motion("rewind", kMaxTiming).value_or(lib.timings.rewind);
    lib.timings.locate = s.motion("locate", kMaxTiming).value_or(lib.timings.locate);
}

void Parser::bridge(const Scope& s, LibraryConfig& lib) {
    s.only({"timeout", "abort_policy"});
    lib.bridge.timeout = s.duration("timeout", kMinBridgeTimeout, kMaxBridgeTimeout).value_or(lib.bridge.timeout);
    if (auto policy = s.string("abort_policy")) {
        if (*policy == to_string(AbortPolicy::Complete)) {
            lib.bridge.abort_policy = AbortPolicy::Complete;
        } else if (*policy == to_string(AbortPolicy::ReturnToSource)) {
            lib.bridge.abort_policy = AbortPolicy::ReturnToSource;
        } else {
            s.fail("abort_policy", fmt::format("expected \"complete\" or \"return-to-source\"; got {}", quote(*policy)));
        }
    }
}

void Parser::async_move(const Scope& s, LibraryConfig& lib) {
    s.only({"move_opcode", "query_opcode"});
    auto read = [&](std::string_view key, uint8_t& opcode) {
        const auto v = s.integer(key, kFirstVendorOpcode, 0xFF, 2);
        if (!v) return;
        if (*v == kReservedVendorOpcode) {
            s.fail(key, fmt::format("expected 0x{:02X}..0xFF other than 0x{:02X}; got 0x{:02X}", kFirstVendorOpcode,
                                    kReservedVendorOpcode, *v));
        }
        opcode = static_cast<uint8_t>(*v);
    };
    read("move_opcode", lib.async_move.move_opcode);
    read("query_opcode", lib.async_move.query_opcode);
    if (lib.async_move.move_opcode == lib.async_move.query_opcode) {
        s.fail(s.get("query_opcode") ? "query_opcode" : "move_opcode",
               fmt::format("move_opcode and query_opcode must differ; both are 0x{:02X}", lib.async_move.move_opcode));
    }
}

void Parser::claim_serial(const Scope& s, const std::string& serial, std::string who) {
    auto [it, fresh] = serials_.try_emplace(serial, Seen{s.where("serial"), who});
    if (!fresh) {
        s.fail("serial", fmt::format("{} is already the serial of {} (line {})", quote(serial), it->second.who,
                                     it->second.where.line));
    }
}

void Parser::drives(const Scope& s, LibraryConfig& lib) {
    const toml::array* arr = s.tables("drives", "[[library.drives]]");
    if (!arr) return;
    std::map<std::string, Pos> names{{lib.changer, s.where("changer")}};
    for (size_t i = 0; i < arr->size(); ++i) {
        Scope d = s.nested(*(*arr)[i].as_table(), fmt::format("{}drive #{}: ", s.context(), i + 1));
        DriveConfig drive;
        drive.name = d.string("name").value_or(fmt::format("drive{}", i));
        if (auto why = name_error(drive.name)) d.fail("name", fmt::format("{}; got {}", *why, quote(drive.name)));
        d.rename(fmt::format("{}drive \"{}\": ", s.context(), drive.name));
        d.only({"name", "model", "serial", "bridge", "clean_after_loads", "clean_after_gb"});
        if (auto [it, fresh] = names.try_emplace(drive.name, d.where("name")); !fresh) {
            d.fail("name", drive.name == lib.changer
                               ? fmt::format("{} is already the changer's name", quote(drive.name))
                               : fmt::format("{} is already the name of the drive at line {}", quote(drive.name),
                                             it->second.line));
        }
        if (auto model = d.string("model")) {
            if (!find_drive_model(*model)) {
                d.fail("model", fmt::format("expected one of {}; got {}",
                                            join(drive_models(), [](const DriveModel& m) { return std::string(m.name); }),
                                            quote(*model)));
            }
            drive.model = *model;
        }
        drive.serial = default_drive_serial(lib.name, drive.name);
        if (auto serial = d.string("serial")) {
            if (auto why = serial_error(*serial)) d.fail("serial", fmt::format("{}; got {}", *why, quote(*serial)));
            drive.serial = *serial;
        }
        claim_serial(d, drive.serial, fmt::format("{}/{}", lib.name, drive.name));
        drive.bridge = d.boolean("bridge").value_or(false);
        drive.clean_after_loads = static_cast<uint32_t>(d.integer("clean_after_loads", 0, kMaxCleaningInterval).value_or(0));
        drive.clean_after_gb = static_cast<uint32_t>(d.integer("clean_after_gb", 0, kMaxCleaningInterval).value_or(0));
        lib.drives.push_back(std::move(drive));
    }
}

void Parser::check_ranges(const Scope& s, const LibraryConfig& lib) {
    struct Range {
        std::string_view name;
        uint32_t first;
        uint32_t count;
        std::string_view unit;
        Pos where;
    };
    const auto a = s.table("addresses");
    // Point at the address if the file sets it, else at the count, else at the library.
    auto where = [&](std::string_view address_key, std::string_view count_key) {
        if (a && a->get(address_key)) return a->where(address_key);
        return s.where(count_key);
    };
    const Range ranges[] = {
        {"transport", lib.addresses.transport, lib.robots, "robots", where("transport", "robots")},
        {"ie", lib.addresses.ie, lib.ie_slots, "ie_slots", where("ie", "ie_slots")},
        {"drive", lib.addresses.drive, static_cast<uint32_t>(lib.drives.size()), "drives", where("drive", "drives")},
        {"slot", lib.addresses.slot, lib.slots, "slots", where("slot", "slots")},
    };
    auto text = [](const Range& r) {
        return fmt::format("{} range 0x{:04X}..0x{:04X} ({} = {})", r.name, r.first, r.first + r.count - 1, r.unit, r.count);
    };
    const std::string context = s.context() + "addresses: ";
    for (const auto& r : ranges) {
        if (r.count > 0 && r.first + r.count - 1 > 0xFFFF) fail(r.where, fmt::format("{}{} goes beyond 0xFFFF", context, text(r)));
    }
    for (size_t i = 0; i < std::size(ranges); ++i) {
        for (size_t j = i + 1; j < std::size(ranges); ++j) {
            const Range &x = ranges[i], &y = ranges[j];
            if (x.count == 0 || y.count == 0) continue;
            if (x.first + x.count <= y.first || y.first + y.count <= x.first) continue;
            fail(before(x.where, y.where) ? y.where : x.where,
                 fmt::format("{}{} overlaps {}", context, text(x), text(y)));
        }
    }
}

void Parser::cartridges(const Scope& s, LibraryConfig& lib) {
    const toml::array* arr = s.tables("cartridges", "[[library.cartridges]]");
    if (!arr) return;
    struct Holder {
        std::string barcode;
        Pos where;
    };
    std::map<std::string, Pos> barcodes;
    std::map<uint32_t, Holder> occupied;
    std::vector<CartridgeConfig> unplaced;  // no slot given: the lowest free ones, in file order
    uint32_t total = 0;

    for (size_t i = 0; i < arr->size(); ++i) {
        Scope c = s.nested(*(*arr)[i].as_table(), fmt::format("{}cartridge #{}: ", s.context(), i + 1));
        const auto single = c.string("barcode");
        const auto first = c.string("first");
        const auto count = c.integer("count", 1, kMaxSlots);
        if (single && first) c.fail("first", "give either barcode (one cartridge) or first and count (a range), not both");
        if (!single && !first) {
            c.only(kCartridgeKeys);  // a misspelt "barcode" is the likelier mistake
            c.fail_here("expected barcode (one cartridge) or first and count (a range)");
        }
        if (single && count) c.fail("count", "count goes with first (a range), not with barcode");
        if (first && !count) c.fail("first", "a range needs count");
        const std::string_view code_key = single ? "barcode" : "first";

        std::vector<std::string> codes;
        if (single) {
            if (auto why = barcode_error(*single)) c.fail("barcode", fmt::format("invalid barcode {}: {}", quote(*single), *why));
            codes.push_back(*single);
            c.rename(fmt::format("{}cartridge \"{}\": ", s.context(), *single));
        } else {
            std::string error;
            codes = expand_barcode_range(*first, static_cast<uint32_t>(*count), error);
            if (codes.empty()) c.fail("first", error);
            c.rename(fmt::format("{}cartridges \"{}\"..\"{}\": ", s.context(), codes.front(), codes.back()));
        }
        c.only(kCartridgeKeys);

        std::optional<MediaType> type;
        if (auto t = c.string("type")) {
            type = media_type_from_string(*t);
            if (!type) c.fail("type", fmt::format("expected one of data, cleaning, worm, diagnostic; got {}", quote(*t)));
        }
        std::optional<int> generation;
        if (auto g = c.integer("generation", kMinGeneration, kMaxGeneration)) generation = static_cast<int>(*g);
        const std::optional<uint64_t> capacity = c.size("capacity", kMinCapacity, kMaxCapacity);
        const bool write_protected = c.boolean("write_protected").value_or(false);

        total += static_cast<uint32_t>(codes.size());
        if (total > lib.slots) {
            c.fail_here(fmt::format("{} cartridges declared so far but the library has only {} storage slots", total, lib.slots));
        }
        std::optional<uint32_t> slot;
        if (auto v = c.integer("slot", 1, kMaxSlots)) {
            slot = static_cast<uint32_t>(*v);
            const uint32_t last = *slot + static_cast<uint32_t>(codes.size()) - 1;
            if (last > lib.slots) {
                c.fail("slot", codes.size() == 1
                                   ? fmt::format("slot {} is beyond the library's {} storage slots", *slot, lib.slots)
                                   : fmt::format("slots {}..{} go beyond the library's {} storage slots", *slot, last, lib.slots));
            }
        }

        for (size_t k = 0; k < codes.size(); ++k) {
            const std::string& code = codes[k];
            const BarcodeInfo info = *parse_barcode(code);
            if (type && info.type && *type != *info.type) {
                c.fail("type", fmt::format("{} conflicts with barcode {}, whose suffix means {}", quote(to_string(*type)),
                                           quote(code), describe(info)));
            }
            if (generation && info.generation && *generation != *info.generation) {
                c.fail("generation", fmt::format("{} conflicts with barcode {}, whose suffix means {}", *generation,
                                                 quote(code), describe(info)));
            }
            if (auto [it, fresh] = barcodes.try_emplace(code, c.where(code_key)); !fresh) {
                c.fail(code_key, fmt::format("barcode {} is already declared at line {}", quote(code), it->second.line));
            }
            CartridgeConfig cart{.barcode = code,
                                 .slot = 0,
                                 .type = type.value_or(info.type.value_or(MediaType::Data)),
                                 .generation = generation ? generation : info.generation,
                                 .capacity = capacity,
                                 .write_protected = write_protected};
            if (!slot) {
                unplaced.push_back(std::move(cart));
                continue;
            }
            cart.slot = *slot + static_cast<uint32_t>(k);
            if (auto [it, fresh] = occupied.try_emplace(cart.slot, Holder{code, c.where("slot")}); !fresh) {
                c.fail("slot", fmt::format("slot {} already holds {} (line {})", cart.slot, quote(it->second.barcode),
                                           it->second.where.line));
            }
            lib.cartridges.push_back(std::move(cart));
        }
    }

    uint32_t next = 1;
    for (auto& cart : unplaced) {
        while (occupied.contains(next)) ++next;
        cart.slot = next++;
        lib.cartridges.push_back(std::move(cart));
    }
    std::sort(lib.cartridges.begin(), lib.cartridges.end(),
              [](const CartridgeConfig& a, const CartridgeConfig& b) { return a.slot < b.slot; });
}

}  // namespace

Config parse_config(std::string_view text, std::string_view source_name) {
    toml::table root;
    try {
        root = toml::parse(text, source_name);
    } catch (const toml::parse_error& e) {
        throw ConfigError(fmt::format("{}:{}:{}: TOML syntax error: {}", source_name, e.source().begin.line,
                                      e.source().begin.column, e.description()));
    }
    return Parser(source_name).parse(root);
}

Config load_config(const std::filesystem::path& file) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) throw ConfigError(fmt::format("{}: is a directory", file.string()));
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError(fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
    return parse_config(text.str(), file.string());
}

}  // namespace vtl::config
