#include "observe/trace.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <vector>

#include "library/emulator.h"
#include "observe/describe.h"

namespace vtl::observe {

namespace {

spdlog::logger& logger() {
    auto log = spdlog::get("vtl");
    return log ? *log : *spdlog::default_logger();
}

// ISO 8601 in UTC with microseconds: "2026-01-01T00:00:00.000000Z".
std::string iso_utc(WallTime t) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    auto secs = static_cast<std::time_t>(us / 1'000'000);
    auto frac = us % 1'000'000;
    if (frac < 0) {
        frac += 1'000'000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

// 0, or the errno of the failed write.
int write_all(int fd, const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
        const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        done += static_cast<size_t>(n);
    }
    return 0;
}

}  // namespace

std::string trace_line(LogicalUnit& lu, const Task& task) {
    nlohmann::ordered_json line;
    line["t"] = iso_utc(lu.clock().wall_now());
    line["device"] = lu.name();
    line["initiator"] = task.nexus().initiator;
    line["tag"] = task.tag();
    line["cdb"] = hex(trimmed_cdb(task));
    line["name"] = command_name(lu, task);
    line["status"] = status_name(task.status());
    if (!task.sense_data().empty()) line["sense"] = hex(task.sense_data());
    line["data_in"] = task.data_in().size();
    line["data_out"] = task.command().data_out.size();
    line["duration_us"] = std::chrono::duration_cast<std::chrono::microseconds>(latency(lu, task)).count();
    // An initiator name is the transport's bytes: never let bad UTF-8 throw on the clock thread.
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Trace::Trace(library::Emulator& emulator) {
    for (const auto& lib : emulator.libraries()) {
        for (const auto& dev : lib->devices()) attach(dev.lu);
    }
}

Trace::~Trace() {
    for (LogicalUnit* lu : attached_) lu->remove_hooks(this);
    close_file();
}

void Trace::attach(LogicalUnit& lu) {
    if (attached_.insert(&lu).second) lu.add_hooks(this);
}

void Trace::detach(LogicalUnit& lu) {
    if (attached_.erase(&lu) > 0) lu.remove_hooks(this);
}

void Trace::start(const std::filesystem::path& jsonl) {
    const int fd = ::open(jsonl.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        throw std::runtime_error(fmt::format("cannot open trace file {}: {}", jsonl.string(), std::strerror(errno)));
    close_file();
    fd_ = fd;
    file_ = jsonl;
    lines_ = 0;
    error_.clear();
    logger().info("[trace] writing {}", file_.string());
}

void Trace::stop() {
    if (fd_ >= 0) logger().info("[trace] stopped writing {} after {} lines", file_.string(), lines_);
    close_file();
}

void Trace::close_file() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

uint64_t Trace::subscribe(std::function<void(const std::string&)> fn) {
    const uint64_t id = next_subscriber_++;
    subscribers_.emplace(id, std::move(fn));
    return id;
}

void Trace::unsubscribe(uint64_t id) { subscribers_.erase(id); }

nlohmann::json Trace::status() const {
    nlohmann::json s = {
        {"active", fd_ >= 0}, {"file", file_.string()}, {"lines", lines_}, {"subscribers", subscribers_.size()}};
    if (!error_.empty()) s["error"] = error_;
    return s;
}

void Trace::completed(LogicalUnit& lu, const Task& task) {
    if (fd_ < 0 && subscribers_.empty()) return;
    const std::string line = trace_line(lu, task);
    if (fd_ >= 0) {
        if (const int err = write_all(fd_, line + '\n'); err == 0) {
            ++lines_;
        } else {
            error_ = fmt::format("write to {} failed: {}", file_.string(), std::strerror(err));
            logger().error("[trace] {}; trace file stopped", error_);
            close_file();
        }
    }
    if (!subscribers_.empty()) {
        // A copy: a subscriber may unsubscribe itself or another from inside its call.
        const auto subscribers = subscribers_;
        for (const auto& [id, fn] : subscribers) {
            if (subscribers_.contains(id)) fn(line);
        }
    }
}

}  // namespace vtl::observe
