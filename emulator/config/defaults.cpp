// Defaults and the checks on names, shared by the parser, the writer and default_config().
#include <fmt/format.h>

#include "config/config.h"

namespace vtl::config {

namespace {

constexpr size_t kMaxNameLength = 32;
constexpr size_t kMaxSerialLength = 32;

// FNV-1a with a final mix (names differing in their last character would otherwise give
// serials differing in a digit or two). Stable across builds, so serials survive restarts.
uint64_t stable_hash(std::string_view text) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

bool lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

std::string_view to_string(AbortPolicy p) {
    return p == AbortPolicy::Complete ? "complete" : "return-to-source";
}

std::string default_library_serial(std::string_view library) {
    return fmt::format("VL{:010X}", stable_hash(library) & 0xFF'FFFF'FFFFull);
}

std::string default_drive_serial(std::string_view library, std::string_view drive) {
    return fmt::format("VD{:08X}", stable_hash(fmt::format("{}/{}", library, drive)) & 0xFFFF'FFFFull);
}

std::filesystem::path default_state_dir(std::string_view library) {
    return std::filesystem::path(kDefaultStateRoot) / std::string(library);
}

LibraryConfig library_defaults(std::string name, Personality personality) {
    LibraryConfig lib;
    lib.serial = default_library_serial(name);
    lib.state_dir = default_state_dir(name);
    lib.name = std::move(name);
    lib.personality = personality;
    lib.addresses = default_addresses(personality);
    return lib;
}

std::optional<std::string> name_error(std::string_view name) {
    bool ok = !name.empty() && name.size() <= kMaxNameLength && lower_or_digit(name[0]);
    for (char c : name) ok = ok && (lower_or_digit(c) || c == '_' || c == '-');
    if (ok) return std::nullopt;
    return "expected 1 to 32 characters a-z, 0-9, '_' or '-', starting with a letter or digit";
}

std::optional<std::string> serial_error(std::string_view serial) {
    bool ok = !serial.empty() && serial.size() <= kMaxSerialLength;
    for (char c : serial) {
        ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
    }
    if (ok) return std::nullopt;
    return "expected 1 to 32 characters A-Z, a-z, 0-9, '_' or '-'";
}

Config default_config() {
    LibraryConfig lib = library_defaults("lib0");
    for (int i = 0; i < 4; ++i) {
        DriveConfig d;
        d.name = fmt::format("drive{}", i);
        d.serial = default_drive_serial(lib.name, d.name);
        lib.drives.push_back(std::move(d));
    }
    for (uint32_t slot = 1; slot <= 40; ++slot) {
        lib.cartridges.push_back(CartridgeConfig{
            .barcode = fmt::format("VTL{:03}L8", slot), .slot = slot, .type = MediaType::Data, .generation = 8});
    }
    Config config;
    config.libraries.push_back(std::move(lib));
    return config;
}

void override_state_dirs(Config& config, const std::filesystem::path& dir) {
    for (auto& lib : config.libraries) lib.state_dir = dir / lib.name;
}

}  // namespace vtl::config
