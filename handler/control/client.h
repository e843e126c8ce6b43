// The control client vtlctl and the tests use: one connection, one request at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/protocol.h"

namespace vtl::control {

// Could not reach the server or the connection broke (vtlctl exit 2, not a server error).
class ConnectionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Client {
public:
    // Throws ConnectionError.
    static Client unix_socket(const std::filesystem::path& path);
    // 127.0.0.1:port; authenticates with `token` before the first call.
    static Client tcp(uint16_t port, const std::string& token);

    Client(Client&& other) noexcept;
    Client& operator=(Client&& other) noexcept;
    ~Client();

    // The method's result; throws ControlError for an error reply, ConnectionError otherwise.
    nlohmann::json call(std::string_view method, nlohmann::json params = nlohmann::json::object());
    // A streaming method: returns its first result, then calls `line` with each streamed item
    // (the raw JSON text) until it returns false or the server closes the stream.
    nlohmann::json stream(std::string_view method, nlohmann::json params,
                          const std::function<bool(const std::string& item)>& line);

    // The raw reply line of one request (tests assert whole replies).
    std::string call_raw(const std::string& request_line);

private:
    explicit Client(int fd) : fd_(fd) {}
    void send_line(const std::string& line);
    std::string read_line();
    nlohmann::json parse_reply(const std::string& line, uint64_t id);

    int fd_ = -1;
    uint64_t next_id_ = 1;
    std::string buffer_;
};

}  // namespace vtl::control
