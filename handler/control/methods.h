// The registry of control methods. Each methods_*.cpp file adds one family (libraries and
// inventory, operator actions, faults, clock, stats and trace) with a register_* function; the
// server looks names up here and runs the handler on the library clock's thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "control/context.h"
#include "control/protocol.h"

namespace vtl::control {

// The far end of a streaming reply. push() is thread-safe and returns false once the client has
// gone; on_close callbacks run on the loop thread when it goes (or the server stops).
class Stream {
public:
    virtual ~Stream() = default;
    virtual bool push(std::string item_json) = 0;
    virtual void on_close(std::function<void()> fn) = 0;
};

class Methods {
public:
    // Runs on the loop thread; throws ControlError (or any exception: "internal").
    using Handler = std::function<nlohmann::json(Context&, const nlohmann::json& params)>;
    using StreamHandler =
        std::function<nlohmann::json(Context&, const nlohmann::json& params, const std::shared_ptr<Stream>&)>;

    void add(std::string name, std::string help, Handler handler);
    void add_stream(std::string name, std::string help, StreamHandler handler);

    struct Entry {
        std::string help;
        Handler handler;  // exactly one of these is set
        StreamHandler stream;
    };
    const Entry* find(std::string_view name) const;
    // {"name": "help", ...} for the "methods" method.
    nlohmann::json describe() const;

private:
    std::map<std::string, Entry, std::less<>> entries_;
};

// Every method vtld serves.
Methods all_methods();

void register_library_methods(Methods& m);    // libraries, devices
void register_lifecycle_methods(Methods& m);  // inventory, cartridges, images, reset, snapshots
void register_operator_methods(Methods& m);   // insert, take, door
void register_fault_methods(Methods& m);      // faults.*
void register_clock_methods(Methods& m);      // clock.*
void register_observe_methods(Methods& m);    // stats, trace.*

// Parameter helpers: throw ControlError(bad_params) naming the parameter.
namespace param {
void only(const nlohmann::json& params, std::initializer_list<std::string_view> allowed);
std::string string(const nlohmann::json& params, std::string_view name);
std::optional<std::string> opt_string(const nlohmann::json& params, std::string_view name);
uint64_t unsigned_int(const nlohmann::json& params, std::string_view name);
std::optional<uint64_t> opt_unsigned(const nlohmann::json& params, std::string_view name);
bool boolean(const nlohmann::json& params, std::string_view name, bool fallback);
}  // namespace param

}  // namespace vtl::control
