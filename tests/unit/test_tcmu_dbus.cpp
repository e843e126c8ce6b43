// vtld's registration with tcmu-runner's D-Bus handler manager (handler/tcmu/dbus.h), on a
// private dbus-daemon with a stand-in for tcmu-runner that behaves as tcmu-runner 1.5 does: it
// owns org.kernel.TCMUService1, and answers RegisterHandler(subtype, cfg_desc) with success only
// when the handler already owns org.kernel.TCMUService1.HandlerManager1.<subtype>. The test then
// calls the handler's CheckConfig the way tcmu-runner forwards targetcli's call. The real
// tcmu-runner and targetcli are exercised in the VM (tests/vm/58-dbus-targetcli.sh).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "config/config.h"
#include "core/virtual_clock.h"
#include "library/emulator.h"
#include "tcmu/dbus.h"
#include "tcmu/transport.h"

namespace vtl::tcmu {
namespace {

using namespace std::chrono_literals;

constexpr const char* kHandlerName = "org.kernel.TCMUService1.HandlerManager1.vtl";
constexpr const char* kHandlerPath = "/org/kernel/TCMUService1/HandlerManager1/vtl";

template <typename F>
bool eventually(F condition, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

sd_bus* connect(const std::string& address) {
    sd_bus* bus = nullptr;
    if (sd_bus_new(&bus) < 0) return nullptr;
    if (sd_bus_set_address(bus, address.c_str()) < 0 || sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0) {
        sd_bus_unref(bus);
        return nullptr;
    }
    return bus;
}

// A dbus-daemon of our own, listening on a socket in a temporary directory.
class PrivateBus {
public:
    PrivateBus() {
        char tmpl[] = "/tmp/vtl-dbus-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        address_ = "unix:path=" + (dir_ / "bus").string();
    }
    ~PrivateBus() {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    void start() {
        const std::string arg = "--address=" + address_;
        pid_ = ::fork();
        if (pid_ == 0) {
            const int null = ::open("/dev/null", O_WRONLY);  // its fd-limit warning is noise here
            if (null >= 0) ::dup2(null, STDERR_FILENO);
            ::execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", arg.c_str(), nullptr);
            ::_exit(127);
        }
        ASSERT_GT(pid_, 0);
        ASSERT_TRUE(eventually([&] { return std::filesystem::exists(dir_ / "bus"); }, 5s))
            << "dbus-daemon did not start (scripts/setup installs the dbus package)";
    }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        std::error_code ec;
        std::filesystem::remove(dir_ / "bus", ec);
    }

    const std::string& address() const { return address_; }

private:
    std::filesystem::path dir_;
    std::string address_;
    pid_t pid_ = -1;
};

// A client such as targetcli or tcmu-runner: asks the bus and the handler.
class Client {
public:
    explicit Client(const std::string& address) : bus_(connect(address)) {}
    ~Client() { sd_bus_flush_close_unref(bus_); }
    bool connected() const { return bus_ != nullptr; }

    bool has_owner(const char* name) {
        sd_bus_message* reply = nullptr;
        int owned = 0;
        if (sd_bus_call_method(bus_, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", nullptr, &reply, "s", name) >= 0) {
            sd_bus_message_read(reply, "b", &owned);
        }
        sd_bus_message_unref(reply);
        return owned != 0;
    }

    // CheckConfig(s) -> (b, s) on the handler, as tcmu-runner forwards it; nullopt if the call failed.
    std::optional<std::pair<bool, std::string>> check_config(const std::string& config) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message* reply = nullptr;
        std::optional<std::pair<bool, std::string>> result;
        if (sd_bus_call_method(bus_, kHandlerName, kHandlerPath, "org.kernel.TCMUService1", "CheckConfig", &error,
                               &reply, "s", config.c_str()) >= 0) {
            int ok = 0;
            const char* message = nullptr;
            if (sd_bus_message_read(reply, "bs", &ok, &message) >= 0) result.emplace(ok != 0, message);
        }
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return result;
    }

    std::string config_desc() {
        char* value = nullptr;
        std::string out;
        if (sd_bus_get_property_string(bus_, kHandlerName, kHandlerPath, "org.kernel.TCMUService1", "ConfigDesc",
                                       nullptr, &value) >= 0) {
            out = value;
        }
        std::free(value);
        return out;
    }

private:
    sd_bus* bus_;
};

// Stand-in for tcmu-runner's handler manager.
class FakeRunner {
public:
    explicit FakeRunner(const std::string& address) : bus_(connect(address)) {
        if (!bus_) throw std::runtime_error("FakeRunner: cannot connect");
        sd_bus_add_object_vtable(bus_, nullptr, "/org/kernel/TCMUService1/HandlerManager1",
                                 "org.kernel.TCMUService1.HandlerManager1", kVtable, this);
        if (sd_bus_request_name(bus_, "org.kernel.TCMUService1", 0) < 0) {
            throw std::runtime_error("FakeRunner: cannot own org.kernel.TCMUService1");
        }
        thread_ = std::thread([this] {
            while (!stop_) {
                if (sd_bus_process(bus_, nullptr) > 0) continue;
                sd_bus_wait(bus_, 20000);
            }
        });
    }
    ~FakeRunner() {
        stop_ = true;
        thread_.join();
        sd_bus_flush_close_unref(bus_);  // leaving the bus gives up org.kernel.TCMUService1
    }

    std::vector<std::pair<std::string, std::string>> registrations() {
        std::lock_guard lock(mutex_);
        return registrations_;
    }

private:
    static int on_register(sd_bus_message* m, void* userdata, sd_bus_error*) {
        auto& self = *static_cast<FakeRunner*>(userdata);
        const char* subtype = nullptr;
        const char* desc = nullptr;
        if (int r = sd_bus_message_read(m, "ss", &subtype, &desc); r < 0) return r;
        const std::string name = std::string("org.kernel.TCMUService1.HandlerManager1.") + subtype;
        sd_bus_message* reply = nullptr;
        int owned = 0;
        if (sd_bus_call_method(self.bus_, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", nullptr, &reply, "s", name.c_str()) >= 0) {
            sd_bus_message_read(reply, "b", &owned);
        }
        sd_bus_message_unref(reply);
        if (owned) {
            std::lock_guard lock(self.mutex_);
            self.registrations_.emplace_back(subtype, desc);
        }
        const std::string refusal = "Cannot find handler bus name: " + name;
        return sd_bus_reply_method_return(m, "bs", owned, owned ? "succeeded" : refusal.c_str());
    }

    static const sd_bus_vtable kVtable[];

    sd_bus* bus_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::vector<std::pair<std::string, std::string>> registrations_;
};

const sd_bus_vtable FakeRunner::kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("RegisterHandler", "ss", "bs", FakeRunner::on_register, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

HandlerRegistration::Options options_for(const PrivateBus& bus) {
    HandlerRegistration::Options o;
    o.subtype = "vtl";
    o.config_desc = "vtl/<library>/<device>";
    o.bus_address = bus.address();
    o.reconnect_interval = 50ms;
    return o;
}

std::optional<std::string> only_drive0(std::string_view config) {
    if (config == "vtl/lib0/drive0") return std::nullopt;
    return "not served: " + std::string(config);
}

TEST(TcmuDbus, RegistersWithTcmuRunnerAndAnswersCheckConfig) {
    PrivateBus bus;
    ASSERT_NO_FATAL_FAILURE(bus.start());
    FakeRunner runner(bus.address());
    HandlerRegistration registration(only_drive0, options_for(bus));
    registration.start();
    ASSERT_TRUE(eventually([&] { return registration.registered(); }));
    EXPECT_EQ(registration.registrations(), 1);
    using Entry = std::pair<std::string, std::string>;
    EXPECT_EQ(runner.registrations(), (std::vector<Entry>{{"vtl", "vtl/<library>/<device>"}}));

    Client client(bus.address());
    ASSERT_TRUE(client.connected());
    EXPECT_EQ(client.check_config("vtl/lib0/drive0"), std::make_pair(true, std::string("success")));
    EXPECT_EQ(client.check_config("vtl/lib0/drive9"),
              std::make_pair(false, std::string("not served: vtl/lib0/drive9")));
    EXPECT_EQ(client.config_desc(), "vtl/<library>/<device>");

    // Leaving the bus drops the name: that is how tcmu-runner learns the handler is gone.
    registration.stop();
    EXPECT_FALSE(registration.registered());
    EXPECT_TRUE(eventually([&] { return !client.has_owner(kHandlerName); }));
}

TEST(TcmuDbus, RegistersWhenTcmuRunnerStartsAndAgainAfterItRestarts) {
    PrivateBus bus;
    ASSERT_NO_FATAL_FAILURE(bus.start());
    HandlerRegistration registration(only_drive0, options_for(bus));
    registration.start();
    Client client(bus.address());
    ASSERT_TRUE(eventually([&] { return client.has_owner(kHandlerName); }));
    EXPECT_FALSE(registration.registered());
    EXPECT_EQ(client.check_config("vtl/lib0/drive0"), std::make_pair(true, std::string("success")))
        << "CheckConfig answers even before tcmu-runner is there";

    auto runner = std::make_unique<FakeRunner>(bus.address());
    ASSERT_TRUE(eventually([&] { return registration.registered(); }));
    EXPECT_EQ(registration.registrations(), 1);
    EXPECT_EQ(runner->registrations().size(), 1u);

    runner.reset();  // tcmu-runner stops: it forgets every D-Bus handler
    ASSERT_TRUE(eventually([&] { return !registration.registered(); }));

    runner = std::make_unique<FakeRunner>(bus.address());
    ASSERT_TRUE(eventually([&] { return registration.registered(); }));
    EXPECT_EQ(registration.registrations(), 2);
    EXPECT_EQ(runner->registrations().size(), 1u);
}

TEST(TcmuDbus, CarriesOnWithoutABusAndRegistersOnceOneAppears) {
    PrivateBus bus;  // not started: nothing listens at its address yet
    HandlerRegistration registration(only_drive0, options_for(bus));
    registration.start();
    std::this_thread::sleep_for(200ms);  // several reconnect attempts
    EXPECT_FALSE(registration.registered());

    ASSERT_NO_FATAL_FAILURE(bus.start());
    FakeRunner runner(bus.address());
    ASSERT_TRUE(eventually([&] { return registration.registered(); }));

    // The bus goes away and comes back (dbus-daemon restarted): registered again.
    bus.stop();
    ASSERT_TRUE(eventually([&] { return !registration.registered(); }));
    ASSERT_NO_FATAL_FAILURE(bus.start());
    FakeRunner runner2(bus.address());
    ASSERT_TRUE(eventually([&] { return registration.registered(); }));
    EXPECT_EQ(registration.registrations(), 2);
    registration.stop();
}

TEST(TcmuDbus, TransportChecksConfigStringsAgainstItsLibraries) {
    PrivateBus bus;
    ASSERT_NO_FATAL_FAILURE(bus.start());
    char tmpl[] = "/tmp/vtl-sysfs-XXXXXX";
    const std::filesystem::path empty = ::mkdtemp(tmpl);

    VirtualClock clock;
    library::Emulator emulator(config::default_config(), clock);
    Transport::Options options;
    options.sysfs_uio = empty;
    options.dev_dir = empty;
    options.configfs_core = empty;
    options.dbus_address = bus.address();
    Transport transport([&](std::string_view path) { return emulator.find(path); }, options);
    transport.start();

    Client client(bus.address());
    ASSERT_TRUE(eventually([&] { return client.has_owner(kHandlerName); }));
    const auto ok = std::make_pair(true, std::string("success"));
    EXPECT_EQ(client.check_config("vtl/lib0/drive0"), ok);
    EXPECT_EQ(client.check_config("vtl/lib0/changer"), ok);
    EXPECT_EQ(client.check_config("vtl/vtl/lib0/drive3"), ok) << "the form with the subtype repeated, as LIO names it";
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"vtl/lib0/drive9", "'vtl/lib0/drive9': vtld's configuration has no library/device 'lib0/drive9'"},
        {"vtl/lib1/drive0", "'vtl/lib1/drive0': vtld's configuration has no library/device 'lib1/drive0'"},
        {"vtl/lib0", "'vtl/lib0' is not vtl/<library>/<device> (such as vtl/lib0/drive0)"},
        {"vtl/lib0/drive0/x", "'vtl/lib0/drive0/x' is not vtl/<library>/<device> (such as vtl/lib0/drive0)"},
        {"vtl//drive0", "'vtl//drive0' is not vtl/<library>/<device> (such as vtl/lib0/drive0)"},
        {"file/lib0/drive0",
         "'file/lib0/drive0' is not for handler vtl: expected vtl/<library>/<device>, such as vtl/lib0/drive0"},
    };
    for (const auto& [config, message] : refused) {
        EXPECT_EQ(client.check_config(config), std::make_pair(false, message)) << config;
        EXPECT_EQ(transport.check_config(config), message) << config;
    }
    EXPECT_EQ(transport.check_config("vtl/lib0/drive0"), std::nullopt);
    transport.stop();
    std::filesystem::remove_all(empty);
}

}  // namespace
}  // namespace vtl::tcmu
