#include "control/methods.h"

#include <fmt/format.h>

namespace vtl::control {

void Methods::add(std::string name, std::string help, Handler handler) {
    entries_[std::move(name)] = Entry{std::move(help), std::move(handler), nullptr};
}

void Methods::add_stream(std::string name, std::string help, StreamHandler handler) {
    entries_[std::move(name)] = Entry{std::move(help), nullptr, std::move(handler)};
}

const Methods::Entry* Methods::find(std::string_view name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
}

nlohmann::json Methods::describe() const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, e] : entries_) out[name] = e.help;
    return out;
}

Methods all_methods() {
    Methods m;
    register_library_methods(m);
    register_operator_methods(m);
    register_lifecycle_methods(m);
    register_fault_methods(m);
    register_clock_methods(m);
    register_observe_methods(m);
    return m;
}

namespace param {

namespace {

const nlohmann::json* get(const nlohmann::json& params, std::string_view name) {
    auto it = params.find(name);
    return it == params.end() || it->is_null() ? nullptr : &*it;
}

[[noreturn]] void bad(std::string_view name, std::string_view expected) {
    throw ControlError(code::kBadParams, fmt::format("parameter \"{}\": expected {}", name, expected));
}

}  // namespace

void only(const nlohmann::json& params, std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : params.items()) {
        bool known = false;
        for (auto a : allowed) known = known || a == key;
        if (!known) {
            std::string list;
            for (auto a : allowed) list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
            throw ControlError(code::kBadParams, fmt::format("unknown parameter \"{}\" (expected: {})", key,
                                                             list.empty() ? "none" : list));
        }
    }
}

std::string string(const nlohmann::json& params, std::string_view name) {
    auto v = opt_string(params, name);
    if (!v) bad(name, "a string");
    return *v;
}

std::optional<std::string> opt_string(const nlohmann::json& params, std::string_view name) {
    const auto* v = get(params, name);
    if (!v) return std::nullopt;
    if (!v->is_string()) bad(name, "a string");
    return v->get<std::string>();
}

uint64_t unsigned_int(const nlohmann::json& params, std::string_view name) {
    auto v = opt_unsigned(params, name);
    if (!v) bad(name, "a non-negative integer");
    return *v;
}

std::optional<uint64_t> opt_unsigned(const nlohmann::json& params, std::string_view name) {
    const auto* v = get(params, name);
    if (!v) return std::nullopt;
    if (!v->is_number_unsigned()) bad(name, "a non-negative integer");
    return v->get<uint64_t>();
}

bool boolean(const nlohmann::json& params, std::string_view name, bool fallback) {
    const auto* v = get(params, name);
    if (!v) return fallback;
    if (!v->is_boolean()) bad(name, "true or false");
    return v->get<bool>();
}

}  // namespace param

}  // namespace vtl::control
