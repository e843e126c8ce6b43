// [[fault]] tables: TOML is converted to the JSON the control socket takes, so both go through
// one parser; its errors are then pointed at the TOML node they are about.
#include <fmt/format.h>
#include <toml++/toml.h>

#include "fault/fault_plan.h"

namespace vtl::fault {

namespace {

std::string at(const std::string& source, const toml::source_region& where) {
    return fmt::format("{}:{}:{}", source, where.begin.line, where.begin.column);
}

nlohmann::json to_json(const toml::node& n, const std::string& source) {
    switch (n.type()) {
        case toml::node_type::table: {
            auto o = nlohmann::json::object();
            for (const auto& [k, v] : *n.as_table()) o[std::string(k.str())] = to_json(v, source);
            return o;
        }
        case toml::node_type::array: {
            auto a = nlohmann::json::array();
            for (const auto& v : *n.as_array()) a.push_back(to_json(v, source));
            return a;
        }
        case toml::node_type::string:
            return n.as_string()->get();
        case toml::node_type::integer:
            return n.as_integer()->get();
        case toml::node_type::floating_point:
            return n.as_floating_point()->get();
        case toml::node_type::boolean:
            return n.as_boolean()->get();
        default:
            throw FaultError(
                fmt::format("{}: dates and times are not fault rule values (durations are strings: \"30s\")",
                            at(source, n.source())));
    }
}

// The node a parse_rule message ("field[2]: ...", "field: ...") is about, else the table.
const toml::node& node_of(const toml::table& t, const std::string& message) {
    const auto end = message.find_first_of(":[");
    const toml::node* n = t.get(message.substr(0, end));
    if (!n) return t;
    if (end != std::string::npos && message[end] == '[' && n->is_array()) {
        const size_t index = std::strtoul(message.c_str() + end + 1, nullptr, 10);
        if (const toml::node* e = n->as_array()->get(index)) return *e;
    }
    return *n;
}

}  // namespace

std::vector<uint64_t> FaultPlan::load_toml(std::string_view text, const std::string& source) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        throw FaultError(fmt::format("{}: {}", at(source, e.source()), e.description()));
    }
    std::vector<std::pair<nlohmann::json, const toml::table*>> rules;
    for (const auto& [key, node] : root) {
        if (key.str() != "fault") {
            throw FaultError(fmt::format("{}: unknown key \"{}\" (a fault plan holds [[fault]] tables)",
                                         at(source, node.source()), key.str()));
        }
        const toml::array* list = node.as_array();
        if (!list || !list->is_array_of_tables()) {
            throw FaultError(fmt::format("{}: fault: expected [[fault]] tables", at(source, node.source())));
        }
        for (const auto& t : *list) rules.emplace_back(to_json(t, source), t.as_table());
    }
    // Every rule is checked before any is added: a plan loads whole or not at all.
    for (size_t i = 0; i < rules.size(); ++i) {
        try {
            parse_rule(rules[i].first);
        } catch (const FaultError& e) {
            throw FaultError(
                fmt::format("{}: fault[{}].{}", at(source, node_of(*rules[i].second, e.what()).source()), i, e.what()));
        }
    }
    std::vector<uint64_t> ids;
    try {
        for (auto& [json, table] : rules) ids.push_back(add(json));
    } catch (const FaultError& e) {
        // Names a library or device this daemon does not have.
        for (uint64_t id : ids) remove(id);
        throw FaultError(
            fmt::format("{}: fault[{}].{}", at(source, rules[ids.size()].second->source()), ids.size(), e.what()));
    }
    return ids;
}

}  // namespace vtl::fault
