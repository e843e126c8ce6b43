#include "control/client.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vtl::control {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw ConnectionError(fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

Client Client::unix_socket(const std::filesystem::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = path.string();
    if (p.size() >= sizeof(addr.sun_path)) throw ConnectionError(fmt::format("{}: socket path too long", p));
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        const int e = errno;
        ::close(fd);
        errno = e;
        fail(fmt::format("cannot connect to {} (is vtld running?)", p));
    }
    return Client(fd);
}

Client Client::tcp(uint16_t port, const std::string& token) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        const int e = errno;
        ::close(fd);
        errno = e;
        fail(fmt::format("cannot connect to 127.0.0.1:{} (is vtld running with --control-tcp?)", port));
    }
    Client client(fd);
    client.call("auth", {{"token", token}});
    return client;
}

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), next_id_(other.next_id_), buffer_(std::move(other.buffer_)) {}

Client& Client::operator=(Client&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        next_id_ = other.next_id_;
        buffer_ = std::move(other.buffer_);
    }
    return *this;
}

Client::~Client() {
    if (fd_ >= 0) ::close(fd_);
}

void Client::send_line(const std::string& line) {
    std::string out = line + '\n';
    size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::send(fd_, out.data() + done, out.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("sending to vtld");
        }
        done += static_cast<size_t>(n);
    }
}

std::string Client::read_line() {
    for (;;) {
        if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            return line;
        }
        char chunk[65536];
        const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("reading from vtld");
        }
        if (n == 0) throw ConnectionError("vtld closed the connection");
        buffer_.append(chunk, static_cast<size_t>(n));
    }
}

nlohmann::json Client::parse_reply(const std::string& line, uint64_t id) {
    auto reply = nlohmann::json::parse(line, nullptr, false);
    if (reply.is_discarded() || !reply.is_object()) throw ConnectionError("vtld sent a reply that is not JSON");
    if (reply.value("id", nlohmann::json()) != id) throw ConnectionError("vtld answered another request");
    if (auto e = reply.find("error"); e != reply.end()) {
        throw ControlError(e->value("code", std::string(code::kInternal)), e->value("message", std::string()));
    }
    return reply.value("result", nlohmann::json());
}

std::string Client::call_raw(const std::string& request_line) {
    send_line(request_line);
    return read_line();
}

nlohmann::json Client::call(std::string_view method, nlohmann::json params) {
    const uint64_t id = next_id_++;
    send_line(make_request(id, method, std::move(params)).dump());
    return parse_reply(read_line(), id);
}

nlohmann::json Client::stream(std::string_view method, nlohmann::json params,
                              const std::function<bool(const std::string& item)>& line) {
    const uint64_t id = next_id_++;
    send_line(make_request(id, method, std::move(params)).dump());
    nlohmann::json first = parse_reply(read_line(), id);
    // Stream items are written as {"id":N,"stream":<item>}: pass <item> through untouched.
    const std::string prefix = fmt::format("{{\"id\":{},\"stream\":", id);
    for (;;) {
        std::string l;
        try {
            l = read_line();
        } catch (const ConnectionError&) {
            return first;  // the server ended the stream
        }
        if (l.rfind(prefix, 0) != 0 || l.empty() || l.back() != '}')
            throw ConnectionError("vtld sent a malformed stream line");
        if (!line(l.substr(prefix.size(), l.size() - prefix.size() - 1))) return first;
    }
}

}  // namespace vtl::control
