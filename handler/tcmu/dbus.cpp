#include "tcmu/dbus.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-bus.h>

namespace vtl::tcmu {

namespace {

constexpr const char* kManagerPath = "/org/kernel/TCMUService1/HandlerManager1";
constexpr const char* kManagerInterface = "org.kernel.TCMUService1.HandlerManager1";
constexpr const char* kBusDriver = "org.freedesktop.DBus";
constexpr const char* kBusDriverPath = "/org/freedesktop/DBus";

std::shared_ptr<spdlog::logger> logger() {
    auto log = spdlog::get("vtl");
    return log ? log : spdlog::default_logger();
}

std::string error_text(int negative_errno) { return std::strerror(-negative_errno); }

std::string error_text(const sd_bus_error& error, int r) {
    if (sd_bus_error_is_set(&error)) return fmt::format("{} ({})", error.message ? error.message : "", error.name);
    return error_text(r);
}

int open_bus(const std::string& address, sd_bus** out) {
    if (address.empty()) return sd_bus_open_system(out);
    sd_bus* bus = nullptr;
    int r = sd_bus_new(&bus);
    if (r < 0) return r;
    if ((r = sd_bus_set_address(bus, address.c_str())) < 0 || (r = sd_bus_set_bus_client(bus, 1)) < 0 ||
        (r = sd_bus_start(bus)) < 0) {
        sd_bus_unref(bus);
        return r;
    }
    *out = bus;
    return 0;
}

uint64_t monotonic_usec() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace

// One connection to the bus: everything sd-bus hands our callbacks. Lives on the thread's stack.
struct HandlerRegistration::Connection {
    enum class End { stopped, lost, give_up };

    HandlerRegistration& self;
    std::shared_ptr<spdlog::logger> log = logger();
    sd_bus* bus = nullptr;
    sd_bus_slot* object = nullptr;
    sd_bus_slot* match = nullptr;
    sd_bus_slot* call = nullptr;  // the RegisterHandler call in flight, if any

    explicit Connection(HandlerRegistration& registration) : self(registration) {}
    ~Connection() {
        sd_bus_slot_unref(call);
        sd_bus_slot_unref(match);
        sd_bus_slot_unref(object);
        sd_bus_flush_close_unref(bus);
    }

    End serve();
    bool setup();
    void send_register();

    static int on_check_config(sd_bus_message* m, void* userdata, sd_bus_error* error);
    static int on_config_desc(sd_bus* bus, const char* path, const char* interface, const char* property,
                              sd_bus_message* reply, void* userdata, sd_bus_error* error);
    static int on_register_reply(sd_bus_message* m, void* userdata, sd_bus_error* error);
    static int on_owner_changed(sd_bus_message* m, void* userdata, sd_bus_error* error);

    static const sd_bus_vtable kVtable[];
};

const sd_bus_vtable HandlerRegistration::Connection::kVtable[] = {
    SD_BUS_VTABLE_START(0),
    // Read-only questions, asked by tcmu-runner on behalf of whoever runs targetcli.
    SD_BUS_METHOD("CheckConfig", "s", "bs", on_check_config, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("ConfigDesc", "s", on_config_desc, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_VTABLE_END,
};

int HandlerRegistration::Connection::on_check_config(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto& c = *static_cast<Connection*>(userdata);
    const char* config = nullptr;
    const int r = sd_bus_message_read(m, "s", &config);
    if (r < 0) return r;
    std::optional<std::string> problem;
    try {
        problem = c.self.check_(config);
    } catch (const std::exception& e) {
        problem = fmt::format("vtld could not check '{}': {}", config, e.what());
    }
    if (problem) {
        c.log->info("[vtld] D-Bus CheckConfig '{}': refused: {}", config, *problem);
    } else {
        c.log->info("[vtld] D-Bus CheckConfig '{}': accepted", config);
    }
    return sd_bus_reply_method_return(m, "bs", problem ? 0 : 1, problem ? problem->c_str() : "success");
}

int HandlerRegistration::Connection::on_config_desc(sd_bus*, const char*, const char*, const char*,
                                                    sd_bus_message* reply, void* userdata, sd_bus_error*) {
    auto& c = *static_cast<Connection*>(userdata);
    return sd_bus_message_append(reply, "s", c.self.options_.config_desc.c_str());
}

void HandlerRegistration::Connection::send_register() {
    call = sd_bus_slot_unref(call);  // a reply to an earlier call (an earlier tcmu-runner) no longer matters
    const int r = sd_bus_call_method_async(bus, &call, kTcmuService.data(), kManagerPath, kManagerInterface,
                                           "RegisterHandler", on_register_reply, this, "ss",
                                           self.options_.subtype.c_str(), self.options_.config_desc.c_str());
    if (r < 0) log->warn("[vtld] D-Bus: cannot call RegisterHandler: {}", error_text(r));
}

int HandlerRegistration::Connection::on_register_reply(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto& c = *static_cast<Connection*>(userdata);
    const auto& subtype = c.self.options_.subtype;
    if (sd_bus_message_is_method_error(m, nullptr)) {
        const sd_bus_error* e = sd_bus_message_get_error(m);
        c.log->warn("[vtld] D-Bus: tcmu-runner's RegisterHandler('{}') failed: {}", subtype,
                    e ? error_text(*e, -EIO) : std::string("unknown error"));
        return 0;
    }
    int ok = 0;
    const char* message = "";
    const int r = sd_bus_message_read(m, "bs", &ok, &message);
    if (r < 0) {
        c.log->warn("[vtld] D-Bus: unexpected RegisterHandler reply: {}", error_text(r));
    } else if (!ok) {
        c.log->warn("[vtld] D-Bus: tcmu-runner refused TCMU handler '{}': {}", subtype, message);
    } else {
        c.self.registered_ = true;
        ++c.self.registrations_;
        c.log->info(
            "[vtld] D-Bus: registered TCMU handler '{}' with tcmu-runner ({}): targetcli lists user:{} "
            "backstores and checks their config strings with vtld",
            subtype, message, subtype);
    }
    return 0;
}

int HandlerRegistration::Connection::on_owner_changed(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto& c = *static_cast<Connection*>(userdata);
    const char* name = nullptr;
    const char* old_owner = nullptr;
    const char* new_owner = nullptr;
    if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0) return 0;
    if (kTcmuService != name) return 0;
    if (new_owner && *new_owner) {
        c.log->info("[vtld] D-Bus: tcmu-runner appeared ({}): registering TCMU handler '{}'", new_owner,
                    c.self.options_.subtype);
        c.self.registered_ = false;
        c.send_register();
    } else {
        c.self.registered_ = false;
        c.call = sd_bus_slot_unref(c.call);
        c.log->info("[vtld] D-Bus: tcmu-runner left the bus; registering again when it returns");
    }
    return 0;
}

// Name, object and watch, then the first registration if tcmu-runner is already there. False
// when this connection cannot register at all (the name is another process's, or not allowed).
bool HandlerRegistration::Connection::setup() {
    const std::string path = self.object_path();
    int r = sd_bus_add_object_vtable(bus, &object, path.c_str(), kTcmuService.data(), kVtable, this);
    if (r < 0) {
        log->warn("[vtld] D-Bus: cannot export {}: {}", path, error_text(r));
        return false;
    }
    // Watch tcmu-runner before asking whether it is there, so a start in between is not missed.
    const std::string rule =
        fmt::format("type='signal',sender='{}',path='{}',interface='{}',member='NameOwnerChanged',arg0='{}'",
                    kBusDriver, kBusDriverPath, kBusDriver, kTcmuService);
    r = sd_bus_add_match(bus, &match, rule.c_str(), on_owner_changed, this);
    if (r < 0) {
        log->warn("[vtld] D-Bus: cannot watch {}: {}", kTcmuService, error_text(r));
        return false;
    }
    // tcmu-runner looks for this name when we register: own it first.
    const std::string name = self.bus_name();
    r = sd_bus_request_name(bus, name.c_str(), 0);
    if (r < 0) {
        log->warn("[vtld] D-Bus: cannot own {}: {}{}; not registering with tcmu-runner", name, error_text(r),
                  r == -EEXIST ? " (another vtld?)"
                  : r == -EACCES
                      ? " (the system bus allows it with tcmu-runner's policy, /etc/dbus-1/system.d/tcmu-runner.conf)"
                      : "");
        return false;
    }
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    r = sd_bus_call_method(bus, kBusDriver, kBusDriverPath, kBusDriver, "NameHasOwner", &error, &reply, "s",
                           kTcmuService.data());
    int present = 0;
    if (r >= 0) r = sd_bus_message_read(reply, "b", &present);
    if (r < 0) log->warn("[vtld] D-Bus: NameHasOwner({}): {}", kTcmuService, error_text(error, r));
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    if (present) {
        send_register();
    } else {
        log->info(
            "[vtld] D-Bus: tcmu-runner ({}) is not on the bus: registering TCMU handler '{}' when it "
            "starts; LIO backstores work without it",
            kTcmuService, self.options_.subtype);
    }
    return true;
}

HandlerRegistration::Connection::End HandlerRegistration::Connection::serve() {
    if (!setup()) return End::give_up;
    while (!self.stopping_) {
        const int r = sd_bus_process(bus, nullptr);
        if (r < 0 || sd_bus_is_open(bus) <= 0) {
            log->info("[vtld] D-Bus: connection to the bus lost ({}); reconnecting",
                      r < 0 ? error_text(r) : std::string("closed"));
            return End::lost;
        }
        if (r > 0) continue;  // more may be queued
        uint64_t until = UINT64_MAX;
        sd_bus_get_timeout(bus, &until);
        int timeout_ms = -1;
        if (until != UINT64_MAX) {
            const uint64_t now = monotonic_usec();
            timeout_ms = until <= now ? 0 : static_cast<int>(std::min<uint64_t>((until - now + 999) / 1000, 60000));
        }
        const int events = sd_bus_get_events(bus);
        pollfd fds[2] = {{self.wake_fd_, POLLIN, 0},
                         {sd_bus_get_fd(bus), static_cast<short>(events < 0 ? POLLIN : events), 0}};
        if (::poll(fds, 2, timeout_ms) < 0 && errno != EINTR) {
            log->error("[vtld] D-Bus poll: {}", std::strerror(errno));
            return End::give_up;
        }
    }
    return End::stopped;
}

HandlerRegistration::HandlerRegistration(CheckConfig check, Options options)
    : check_(std::move(check)), options_(std::move(options)) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
}

HandlerRegistration::~HandlerRegistration() {
    stop();
    ::close(wake_fd_);
}

std::string HandlerRegistration::bus_name() const {
    return fmt::format("org.kernel.TCMUService1.HandlerManager1.{}", options_.subtype);
}

std::string HandlerRegistration::object_path() const {
    return fmt::format("/org/kernel/TCMUService1/HandlerManager1/{}", options_.subtype);
}

void HandlerRegistration::start() {
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void HandlerRegistration::stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
    uint64_t drained = 0;
    [[maybe_unused]] auto m = ::read(wake_fd_, &drained, sizeof drained);
    registered_ = false;
}

void HandlerRegistration::run() {
    auto log = logger();
    const std::string where =
        options_.bus_address.empty() ? std::string("system bus") : fmt::format("bus at {}", options_.bus_address);
    bool said_absent = false;
    while (!stopping_) {
        Connection connection(*this);
        const int r = open_bus(options_.bus_address, &connection.bus);
        if (r < 0) {
            if (!said_absent) {
                log->info(
                    "[vtld] D-Bus: no {} ({}): not registering TCMU handler '{}' with tcmu-runner, so "
                    "targetcli will not list user:{}; LIO backstores work without it",
                    where, error_text(r), options_.subtype, options_.subtype);
                said_absent = true;
            }
        } else {
            said_absent = false;
            const auto end = connection.serve();
            registered_ = false;
            if (end != Connection::End::lost) return;
        }
        pollfd wake{wake_fd_, POLLIN, 0};
        ::poll(&wake, 1, static_cast<int>(options_.reconnect_interval.count()));
    }
}

}  // namespace vtl::tcmu
