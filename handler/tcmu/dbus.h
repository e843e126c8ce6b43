// Registration of vtld's TCMU subtype "vtl" with tcmu-runner's D-Bus handler manager, so that
// targetcli lists `user:vtl` backstores and checks their config strings with vtld before it
// creates them. Optional: without a system bus or without tcmu-runner vtld logs one line and
// serves LIO as before (the handler manager only answers tools; the kernel never asks it).
//
// The protocol (tcmu-runner 1.5, org.kernel.TCMUService1 on the system bus):
//  - the handler owns the bus name org.kernel.TCMUService1.HandlerManager1.<subtype> and serves
//    interface org.kernel.TCMUService1 (CheckConfig(s) -> (b, s), property ConfigDesc) at
//    /org/kernel/TCMUService1/HandlerManager1/<subtype>;
//  - it calls RegisterHandler(subtype, cfg_desc) -> (b, s) on org.kernel.TCMUService1,
//    /org/kernel/TCMUService1/HandlerManager1, interface org.kernel.TCMUService1.HandlerManager1;
//    tcmu-runner then watches that bus name, publishes /org/kernel/TCMUService1/<subtype> in its
//    ObjectManager (what targetcli lists) and forwards CheckConfig calls to the handler;
//  - when the handler's name goes, tcmu-runner forgets it; when tcmu-runner restarts, it has
//    forgotten every handler, so we register again on its NameOwnerChanged.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace vtl::tcmu {

inline constexpr std::string_view kTcmuService = "org.kernel.TCMUService1";

class HandlerRegistration {
public:
    // nullopt when `config` (the whole dev_config, "vtl/<library>/<device>") is one vtld would
    // serve, else the reason it would not. Called on the registration's own thread.
    using CheckConfig = std::function<std::optional<std::string>(std::string_view config)>;

    struct Options {
        std::string subtype = "vtl";
        std::string config_desc;  // what `targetcli ... help create` prints as CFGSTRING FORMAT
        std::string bus_address;  // empty: the system bus (tests give a private bus)
        // How often to look for a system bus that was not there (quietly after the first line).
        std::chrono::milliseconds reconnect_interval{10000};
    };

    HandlerRegistration(CheckConfig check, Options options);
    ~HandlerRegistration();
    HandlerRegistration(const HandlerRegistration&) = delete;
    HandlerRegistration& operator=(const HandlerRegistration&) = delete;

    void start();  // never blocks on the bus: everything runs on the registration's thread
    void stop();

    // tcmu-runner accepted our RegisterHandler and has not left the bus since.
    bool registered() const { return registered_; }
    // How many times tcmu-runner accepted it (a restart of tcmu-runner adds one).
    int registrations() const { return registrations_; }

    std::string bus_name() const;     // org.kernel.TCMUService1.HandlerManager1.<subtype>
    std::string object_path() const;  // /org/kernel/TCMUService1/HandlerManager1/<subtype>

private:
    struct Connection;

    void run();

    CheckConfig check_;
    Options options_;
    std::thread thread_;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> registered_{false};
    std::atomic<int> registrations_{0};
};

}  // namespace vtl::tcmu
