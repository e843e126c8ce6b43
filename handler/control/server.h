// vtld's control server: one I/O thread accepts connections on a unix socket (owner-only by
// default) and optionally on 127.0.0.1 TCP (token required) and a Prometheus /metrics port,
// reads newline-delimited JSON requests and writes replies. Each request runs on the library
// clock's thread (posted to the EventLoop); its reply comes back to the I/O thread, which alone
// writes to sockets, so a slow client never holds up the libraries.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "control/context.h"
#include "control/methods.h"

namespace vtl::control {

struct ServerOptions {
    std::filesystem::path socket;  // empty: no unix socket
    mode_t socket_mode = 0600;
    std::optional<uint16_t> tcp_port;      // 0: any free port (tests)
    std::string token;                     // required with tcp_port
    std::optional<uint16_t> metrics_port;  // GET /metrics over HTTP/1.0; 0: any free port
};

// The socket path vtld uses by default: /run/vtl/vtld.sock, or <state_root>/vtld.sock when /run
// is not writable (not root). Creates the directory.
std::filesystem::path default_socket_path(const std::filesystem::path& state_root);

class Server {
public:
    // Binds every listener at once; throws std::runtime_error naming what failed (a socket
    // another vtld still serves, a port in use, TCP without a token).
    Server(Context context, Methods methods, ServerOptions options);
    // Stops (see stop()).
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void start();
    // Closes every connection and listener, removes the socket file, and waits (up to a few
    // seconds) until the loop has run the work the server posted, so nothing it posted outlives it.
    void stop();

    const std::filesystem::path& socket_path() const { return options_.socket; }
    uint16_t tcp_port() const { return tcp_port_; }
    uint16_t metrics_port() const { return metrics_port_; }

private:
    struct Connection;
    struct Io;
    void run();

    Context context_;
    Methods methods_;
    ServerOptions options_;
    std::unique_ptr<Io> io_;
    uint16_t tcp_port_ = 0;
    uint16_t metrics_port_ = 0;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    bool socket_bound_ = false;
};

}  // namespace vtl::control
