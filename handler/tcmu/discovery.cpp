#include "tcmu/discovery.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace vtl::tcmu {

namespace {

std::optional<std::string> read_line(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.pop_back();
    return line;
}

template <typename T>
std::optional<T> parse_number(std::string_view s, int base = 10) {
    if (base == 16 && (s.starts_with("0x") || s.starts_with("0X"))) s.remove_prefix(2);
    T v{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

// Splits off the text before the next '/'.
std::string_view next_part(std::string_view& rest) {
    const auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    return part;
}

}  // namespace

std::optional<UioDevice> parse_uio_name(std::string_view name) {
    std::string_view rest = name;
    if (next_part(rest) != "tcm-user") return std::nullopt;
    const auto hba = parse_number<uint32_t>(next_part(rest));
    if (!hba) return std::nullopt;
    const std::string_view lio_name = next_part(rest);
    if (lio_name.empty()) return std::nullopt;

    UioDevice d;
    d.name = std::string(name);
    d.hba = *hba;
    d.lio_name = std::string(lio_name);
    const std::string_view dev_config = rest;
    d.subtype = std::string(next_part(rest));  // empty when the backstore has no dev_config
    if (auto path = dev_config_path(dev_config)) d.path = std::move(*path);
    return d;
}

std::optional<std::string> dev_config_path(std::string_view dev_config) {
    std::string_view rest = dev_config;
    if (next_part(rest) != kSubtype) return std::nullopt;
    // "<library>/<device>", or "vtl/<library>/<device>" when dev_config repeats the subtype.
    if (std::count(rest.begin(), rest.end(), '/') == 2 && rest.starts_with("vtl/")) rest.remove_prefix(4);
    return std::string(rest);
}

bool is_device_path(std::string_view path) {
    const auto slash = path.find('/');
    return slash != std::string_view::npos && slash > 0 && slash + 1 < path.size() &&
           path.find('/', slash + 1) == std::string_view::npos;
}

std::vector<UioDevice> scan_uio(const std::filesystem::path& sysfs_uio) {
    std::vector<UioDevice> found;
    std::error_code ec;
    for (const auto& dirent : std::filesystem::directory_iterator(sysfs_uio, ec)) {
        const std::string uio = dirent.path().filename().string();
        if (!uio.starts_with("uio")) continue;
        const auto name = read_line(dirent.path() / "name");
        if (!name) continue;
        auto device = parse_uio_name(*name);
        if (!device) continue;
        const auto size = read_line(dirent.path() / "maps" / "map0" / "size");
        const auto bytes = size ? parse_number<uint64_t>(*size, 16) : std::nullopt;
        if (!bytes || *bytes == 0) continue;
        device->uio = uio;
        device->map_size = *bytes;
        found.push_back(std::move(*device));
    }
    std::sort(found.begin(), found.end(), [](const UioDevice& a, const UioDevice& b) {
        return a.uio.size() != b.uio.size() ? a.uio.size() < b.uio.size() : a.uio < b.uio;
    });
    return found;
}

std::filesystem::path configfs_dir(const std::filesystem::path& core, const UioDevice& device) {
    return core / fmt::format("user_{}", device.hba) / device.lio_name;
}

std::vector<std::string> check_attributes(const std::filesystem::path& dir) {
    std::vector<std::string> problems;
    auto check = [&](const char* attribute, std::string_view wanted, const char* why) {
        const auto file = dir / "attrib" / attribute;
        const auto value = read_line(file);
        if (!value) {
            problems.push_back(fmt::format("cannot read {}: {}", file.string(), std::strerror(errno)));
        } else if (*value != wanted) {
            problems.push_back(fmt::format("{} is {}, must be {} {}", file.string(), *value, wanted, why));
        }
    };
    check("cmd_time_out", "0",
          "(set it before the LUN is exported): otherwise the kernel fails commands that run longer, such as "
          "robot moves, behind the daemon's back");
    check("tmr_notification", "1", "(ABORT TASK and LUN RESET do not reach the daemon otherwise)");
    return problems;
}

std::optional<bool> backstore_enabled(const std::filesystem::path& dir) {
    const auto value = read_line(dir / "enable");
    if (!value) return std::nullopt;
    return *value == "1";
}

std::optional<std::string> reset_ring(const std::filesystem::path& dir) {
    const auto file = dir / "action" / "reset_ring";
    const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fmt::format("cannot open {}: {}", file.string(), std::strerror(errno));
    const ssize_t n = ::write(fd, "1", 1);
    const int error = errno;
    ::close(fd);
    if (n != 1) return fmt::format("cannot write 1 to {}: {}", file.string(), std::strerror(error));
    return std::nullopt;
}

}  // namespace vtl::tcmu
