#include "control/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <mutex>
#include <vector>

#include "core/event_loop.h"
#include "core/logging.h"

namespace vtl::control {

namespace {

// Lines a streaming client has not read yet are dropped beyond this.
constexpr size_t kMaxPendingOutput = 64u << 20;
constexpr size_t kMaxHttpRequest = 8192;

std::runtime_error sys_error(const std::string& what) {
    return std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

spdlog::logger& log() {
    static auto logger = spdlog::get("vtl");
    if (!logger) logger = spdlog::default_logger();
    return *logger;
}

int listen_unix(const std::filesystem::path& path, mode_t mode) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = path.string();
    if (p.size() >= sizeof(addr.sun_path)) throw std::runtime_error(fmt::format("{}: socket path too long", p));
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);

    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) throw std::runtime_error(fmt::format("{} exists and is not a socket", p));
        // A socket file left by a vtld that died: take it over, unless something still answers.
        const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const bool alive = probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        if (probe >= 0) ::close(probe);
        if (alive) throw std::runtime_error(fmt::format("{}: another vtld is serving this control socket", p));
        ::unlink(p.c_str());
    }
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);

    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw sys_error("socket");
    // The file is created with the umask's mode; nobody can connect before listen(), and chmod
    // comes first.
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        auto e = sys_error(fmt::format("bind {}", p));
        ::close(fd);
        throw e;
    }
    if (::chmod(p.c_str(), mode) != 0 || ::listen(fd, 16) != 0) {
        auto e = sys_error(fmt::format("control socket {}", p));
        ::close(fd);
        ::unlink(p.c_str());
        throw e;
    }
    return fd;
}

int listen_localhost(uint16_t port, uint16_t& bound, const char* what) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw sys_error("socket");
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        auto e = sys_error(fmt::format("{} on 127.0.0.1:{}", what, port));
        ::close(fd);
        throw e;
    }
    bound = ntohs(addr.sin_port);
    return fd;
}

bool same_token(std::string_view a, std::string_view b) {
    // Constant time in the length of the expected token.
    unsigned diff = a.size() != b.size();
    for (size_t i = 0; i < b.size(); ++i) diff |= static_cast<unsigned>(b[i] ^ (i < a.size() ? a[i] : 0));
    return diff == 0;
}

}  // namespace

std::filesystem::path default_socket_path(const std::filesystem::path& state_root) {
    std::error_code ec;
    std::filesystem::create_directories("/run/vtl", ec);
    if (!ec && ::access("/run/vtl", W_OK | X_OK) == 0) return "/run/vtl/vtld.sock";
    return state_root / "vtld.sock";
}

enum class Kind { Unix, Tcp, Http };

// One client. The I/O thread owns fd and input; output and the close callbacks are shared with
// the loop thread (replies, stream lines) under `mutex`.
struct Server::Connection : std::enable_shared_from_this<Connection> {
    int fd = -1;
    Kind kind = Kind::Unix;
    bool authenticated = false;
    std::string input;
    int wake_fd = -1;

    std::mutex mutex;
    std::string output;
    bool closed = false;
    bool close_after_write = false;
    bool eof = false;  // the client sent everything; answer what it asked, then close
    int pending = 0;   // requests posted to the loop and not answered yet
    uint64_t dropped = 0;
    std::vector<std::function<void()>> on_close;

    void send(const std::string& line, bool then_close = false) {
        std::lock_guard lock(mutex);
        if (closed) return;
        output += line;
        output += '\n';
        close_after_write = close_after_write || then_close;
        const uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof(one));
    }
};

namespace {

class StreamSink final : public Stream {
public:
    StreamSink(std::weak_ptr<void> conn, std::function<bool(std::string)> push,
               std::function<void(std::function<void()>)> on_close)
        : conn_(std::move(conn)), push_(std::move(push)), on_close_(std::move(on_close)) {}
    bool push(std::string item) override { return push_(std::move(item)); }
    void on_close(std::function<void()> fn) override { on_close_(std::move(fn)); }

private:
    std::weak_ptr<void> conn_;
    std::function<bool(std::string)> push_;
    std::function<void(std::function<void()>)> on_close_;
};

}  // namespace

struct Server::Io {
    int wake_fd = -1;
    int unix_fd = -1;
    int tcp_fd = -1;
    int metrics_fd = -1;
    std::vector<std::shared_ptr<Connection>> connections;

    ~Io() {
        for (int fd : {wake_fd, unix_fd, tcp_fd, metrics_fd}) {
            if (fd >= 0) ::close(fd);
        }
    }
};

Server::Server(Context context, Methods methods, ServerOptions options)
    : context_(std::move(context)),
      methods_(std::move(methods)),
      options_(std::move(options)),
      io_(std::make_unique<Io>()) {
    if (options_.tcp_port && options_.token.empty()) {
        throw std::runtime_error("--control-tcp needs a token (--control-token-file): refusing an open TCP port");
    }
    io_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (io_->wake_fd < 0) throw sys_error("eventfd");
    if (options_.tcp_port) io_->tcp_fd = listen_localhost(*options_.tcp_port, tcp_port_, "control TCP port");
    if (options_.metrics_port)
        io_->metrics_fd = listen_localhost(*options_.metrics_port, metrics_port_, "metrics port");
    if (!options_.socket.empty()) {
        io_->unix_fd = listen_unix(options_.socket, options_.socket_mode);
        socket_bound_ = true;
    }
}

Server::~Server() { stop(); }

void Server::start() {
    if (thread_.joinable()) return;
    if (!options_.socket.empty()) log().info("[control] listening on {}", options_.socket.string());
    if (io_->tcp_fd >= 0) log().info("[control] listening on 127.0.0.1:{} (token required)", tcp_port_);
    if (io_->metrics_fd >= 0) log().info("[control] metrics on http://127.0.0.1:{}/metrics", metrics_port_);
    thread_ = std::thread([this] { run(); });
}

void Server::stop() {
    if (stopping_.exchange(true)) return;
    if (thread_.joinable()) {
        const uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(io_->wake_fd, &one, sizeof(one));
        thread_.join();
    }
    // Close every connection: their close callbacks (trace unsubscribe) run on the loop; then
    // wait for the loop to pass everything posted so far.
    std::vector<std::function<void()>> callbacks;
    for (auto& c : io_->connections) {
        std::lock_guard lock(c->mutex);
        c->closed = true;
        for (auto& fn : c->on_close) callbacks.push_back(std::move(fn));
        c->on_close.clear();
        ::close(c->fd);
    }
    io_->connections.clear();
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    context_.loop.post([callbacks = std::move(callbacks), done] {
        for (auto& fn : callbacks) fn();
        done->set_value();
    });
    if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
        log().warn("[control] the clock thread did not answer within 5 s while stopping");
    }
    if (socket_bound_) ::unlink(options_.socket.c_str());
    socket_bound_ = false;
}

void Server::run() {
    auto& io = *io_;
    std::vector<pollfd> fds;

    auto close_connection = [&](const std::shared_ptr<Connection>& c) {
        std::vector<std::function<void()>> callbacks;
        {
            std::lock_guard lock(c->mutex);
            c->closed = true;
            callbacks.swap(c->on_close);
        }
        ::close(c->fd);
        c->fd = -1;
        if (!callbacks.empty()) {
            context_.loop.post([callbacks = std::move(callbacks)] {
                for (auto& fn : callbacks) fn();
            });
        }
    };

    // A request line: built-in methods and protocol errors are answered here; the rest run on
    // the loop thread.
    auto handle_line = [&](const std::shared_ptr<Connection>& c, std::string_view line) {
        if (line.empty()) return;
        auto request = nlohmann::json::parse(line, nullptr, false);
        if (request.is_discarded()) return c->send(make_error(nullptr, code::kParse, "the request is not JSON").dump());
        if (!request.is_object())
            return c->send(make_error(nullptr, code::kInvalid, "the request is not an object").dump());
        nlohmann::json id = request.value("id", nlohmann::json());
        if (!id.is_null() && !id.is_number_integer() && !id.is_string()) {
            return c->send(make_error(nullptr, code::kInvalid, "\"id\" must be an integer or a string").dump());
        }
        auto method = request.find("method");
        if (method == request.end() || !method->is_string()) {
            return c->send(make_error(id, code::kInvalid, "\"method\" must be a string").dump());
        }
        nlohmann::json params = request.value("params", nlohmann::json::object());
        if (!params.is_object())
            return c->send(make_error(id, code::kBadParams, "\"params\" must be an object").dump());
        const std::string name = method->get<std::string>();

        if (c->kind == Kind::Tcp && !c->authenticated) {
            const bool ok = name == "auth" && params.value("token", nlohmann::json()).is_string() &&
                            same_token(params["token"].get<std::string>(), options_.token);
            if (!ok) {
                log().warn("[control] TCP client failed to authenticate");
                return c->send(make_error(id, code::kUnauthorized,
                                          "authenticate first: {\"method\":\"auth\",\"params\":{\"token\":...}}")
                                   .dump(),
                               true);
            }
            c->authenticated = true;
            return c->send(make_result(id, {{"authenticated", true}}).dump());
        }
        if (name == "auth") return c->send(make_result(id, {{"authenticated", true}}).dump());
        if (name == "methods") return c->send(make_result(id, methods_.describe()).dump());
        const Methods::Entry* entry = methods_.find(name);
        if (!entry) {
            return c->send(
                make_error(id, code::kUnknownMethod, fmt::format("no method \"{}\" (see \"methods\")", name)).dump());
        }
        {
            std::lock_guard lock(c->mutex);
            ++c->pending;
        }
        context_.loop.post([this, c, entry, id, params = std::move(params), name] {
            nlohmann::json reply;
            try {
                if (entry->handler) {
                    reply = make_result(id, entry->handler(context_, params));
                } else {
                    std::weak_ptr<Connection> weak = c;
                    const std::string prefix = fmt::format("{{\"id\":{},\"stream\":", id.dump());
                    auto sink = std::make_shared<StreamSink>(
                        c,
                        [weak, prefix](std::string item) {
                            auto conn = weak.lock();
                            if (!conn) return false;
                            std::lock_guard lock(conn->mutex);
                            if (conn->closed) return false;
                            if (conn->output.size() > kMaxPendingOutput) {
                                ++conn->dropped;
                                return true;
                            }
                            conn->output += prefix;
                            conn->output += item;
                            conn->output += "}\n";
                            const uint64_t one = 1;
                            [[maybe_unused]] auto n = ::write(conn->wake_fd, &one, sizeof(one));
                            return true;
                        },
                        [weak, this](std::function<void()> fn) {
                            auto conn = weak.lock();
                            bool run_now = !conn;
                            if (conn) {
                                std::lock_guard lock(conn->mutex);
                                if (conn->closed) {
                                    run_now = true;
                                } else {
                                    conn->on_close.push_back(std::move(fn));
                                }
                            }
                            if (run_now && fn) context_.loop.post(std::move(fn));
                        });
                    reply = make_result(id, entry->stream(context_, params, sink));
                }
            } catch (const ControlError& e) {
                reply = make_error(id, e.code(), e.what());
            } catch (const std::exception& e) {
                reply = make_error(id, code::kInternal, e.what());
            }
            // Stream lines come from the loop thread too, so none can precede this reply.
            std::lock_guard lock(c->mutex);
            --c->pending;
            if (c->closed) return;
            c->output += reply.dump();
            c->output += '\n';
            const uint64_t one = 1;
            [[maybe_unused]] auto n = ::write(c->wake_fd, &one, sizeof(one));
        });
    };

    auto handle_http = [&](const std::shared_ptr<Connection>& c) {
        auto end = c->input.find("\r\n\r\n");
        if (end == std::string::npos) end = c->input.find("\n\n");
        if (end == std::string::npos) {
            if (c->input.size() > kMaxHttpRequest)
                c->send("HTTP/1.0 431 Request Header Fields Too Large\r\n\r\n", true);
            return;
        }
        const std::string first = c->input.substr(0, c->input.find_first_of("\r\n"));
        c->input.clear();
        auto respond = [c](int status, std::string_view reason, std::string_view type, const std::string& body) {
            std::lock_guard lock(c->mutex);
            if (c->closed) return;
            c->output += fmt::format("HTTP/1.0 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{}", status,
                                     reason, type, body.size(), body);
            c->close_after_write = true;
            const uint64_t one = 1;
            [[maybe_unused]] auto n = ::write(c->wake_fd, &one, sizeof(one));
        };
        if (first.rfind("GET /metrics ", 0) != 0 && first != "GET /metrics") {
            return respond(404, "Not Found", "text/plain", "only GET /metrics is served here\n");
        }
        {
            std::lock_guard lock(c->mutex);
            ++c->pending;
        }
        context_.loop.post([this, c, respond] {
            struct Done {
                Connection& c;
                ~Done() {
                    std::lock_guard lock(c.mutex);
                    --c.pending;
                }
            } done{*c};
            const Methods::Entry* e = methods_.find("stats.prometheus");
            try {
                if (!e || !e->handler) throw ControlError(code::kUnavailable, "no statistics");
                auto text = e->handler(context_, nlohmann::json::object());
                respond(200, "OK", "text/plain; version=0.0.4", text.get<std::string>());
            } catch (const std::exception& ex) {
                respond(503, "Service Unavailable", "text/plain", std::string(ex.what()) + "\n");
            }
        });
    };

    auto accept_on = [&](int listen_fd, Kind kind) {
        for (;;) {
            const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) return;
            auto c = std::make_shared<Connection>();
            c->fd = fd;
            c->kind = kind;
            c->wake_fd = io.wake_fd;
            io.connections.push_back(std::move(c));
        }
    };

    while (!stopping_) {
        fds.clear();
        fds.push_back({io.wake_fd, POLLIN, 0});
        for (int fd : {io.unix_fd, io.tcp_fd, io.metrics_fd})
            fds.push_back({fd, static_cast<short>(fd >= 0 ? POLLIN : 0), 0});
        for (auto& c : io.connections) {
            short events = c->eof ? 0 : POLLIN;
            {
                std::lock_guard lock(c->mutex);
                if (!c->output.empty()) events |= POLLOUT;
            }
            fds.push_back({c->fd, events, 0});
        }
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
            log().error("[control] poll: {}", std::strerror(errno));
            return;
        }
        if (fds[0].revents & POLLIN) {
            uint64_t v;
            [[maybe_unused]] auto n = ::read(io.wake_fd, &v, sizeof(v));
        }
        if (stopping_) break;
        const size_t n_existing = fds.size() - 4;
        std::vector<std::shared_ptr<Connection>> gone;
        for (size_t i = 0; i < n_existing; ++i) {
            auto c = io.connections[i];
            const short re = fds[4 + i].revents;
            bool drop = false;
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                char buf[65536];
                for (;;) {
                    const ssize_t n = ::recv(c->fd, buf, sizeof(buf), 0);
                    if (n > 0) {
                        c->input.append(buf, static_cast<size_t>(n));
                        continue;
                    }
                    if (n == 0) {
                        c->eof = true;
                    } else if (errno != EAGAIN && errno != EINTR) {
                        drop = true;
                    }
                    break;
                }
                if (c->kind == Kind::Http) {
                    handle_http(c);
                } else {
                    size_t start = 0;
                    for (size_t nl; (nl = c->input.find('\n', start)) != std::string::npos; start = nl + 1) {
                        handle_line(c, std::string_view(c->input).substr(start, nl - start));
                    }
                    c->input.erase(0, start);
                    if (c->input.size() > kMaxRequestLine) {
                        c->send(make_error(nullptr, code::kInvalid, "request line too long").dump(), true);
                        c->input.clear();
                    }
                }
            }
            if ((re & POLLERR) || ((re & POLLHUP) && c->eof)) drop = true;  // both directions gone
            // Write whatever is queued (also replies that arrived without POLLOUT being asked).
            {
                std::lock_guard lock(c->mutex);
                while (!c->output.empty()) {
                    const ssize_t n = ::send(c->fd, c->output.data(), c->output.size(), MSG_NOSIGNAL);
                    if (n > 0) {
                        c->output.erase(0, static_cast<size_t>(n));
                        continue;
                    }
                    if (n < 0 && errno != EAGAIN && errno != EINTR) drop = true;
                    break;
                }
                if (c->output.empty() && c->close_after_write) drop = true;
                if (c->eof && c->output.empty() && c->pending == 0 && c->on_close.empty()) drop = true;
                if (c->dropped) {
                    log().warn("[control] a slow stream client missed {} lines", c->dropped);
                    c->dropped = 0;
                }
            }
            if (drop) gone.push_back(c);
        }
        for (auto& c : gone) {
            close_connection(c);
            std::erase(io.connections, c);
        }
        if (fds[1].revents & POLLIN) accept_on(io.unix_fd, Kind::Unix);
        if (fds[2].revents & POLLIN) accept_on(io.tcp_fd, Kind::Tcp);
        if (fds[3].revents & POLLIN) accept_on(io.metrics_fd, Kind::Http);
    }
}

}  // namespace vtl::control
