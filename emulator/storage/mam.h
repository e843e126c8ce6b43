// Medium auxiliary memory: the attributes READ ATTRIBUTE and WRITE ATTRIBUTE see (SPC-4 7.4),
// kept in the cartridge's `mam` file. Each change is made durable by commit(), which replaces
// the file atomically (write mam.tmp, fsync, rename, fsync the directory). Values are stored
// exactly as the host sends and reads them (binary attributes big-endian, as SPC defines them).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "storage/result.h"

namespace vtl::storage {

namespace mam_format {
inline constexpr uint8_t kBinary = 0x00;
inline constexpr uint8_t kAscii = 0x01;
inline constexpr uint8_t kText = 0x02;
}  // namespace mam_format

// Device-maintained attribute identifiers a drive updates (SPC-4 table "device type attributes").
namespace mam_id {
inline constexpr uint16_t kLoadCount = 0x0003;
inline constexpr uint16_t kTotalMbWritten = 0x0220;
inline constexpr uint16_t kTotalMbRead = 0x0221;
inline constexpr uint16_t kMbWrittenThisLoad = 0x0222;
inline constexpr uint16_t kMbReadThisLoad = 0x0223;
}  // namespace mam_id

struct Attribute {
    uint16_t id = 0;
    uint8_t format = mam_format::kBinary;  // SPC-4 FORMAT field (2 bits)
    bool read_only = false;                // as the device last reported it
    std::vector<uint8_t> value;

    bool operator==(const Attribute&) const = default;
};

class Mam {
public:
    static constexpr const char* kFileName = "mam";
    static constexpr size_t kMaxValueLength = 0xFFFF;

    // Loads dir/mam; a missing file is an empty MAM. A damaged one is FormatCorrupted.
    static Result<Mam> load(int dir);

    const std::map<uint16_t, Attribute>& attributes() const { return attributes_; }
    const Attribute* find(uint16_t id) const;
    // Changes are in memory until commit().
    Result<void> set(Attribute attribute);
    bool erase(uint16_t id);
    // Binary attributes as unsigned big-endian numbers of `width` bytes (device counters).
    std::optional<uint64_t> number(uint16_t id) const;
    void set_number(uint16_t id, uint64_t value, size_t width = 8);
    void add_number(uint16_t id, uint64_t delta, size_t width = 8);

    Result<void> commit();
    bool dirty() const { return dirty_; }

    static std::vector<uint8_t> encode(const std::map<uint16_t, Attribute>& attributes);
    static Result<std::map<uint16_t, Attribute>> decode(std::span<const uint8_t> bytes);

private:
    int dir_ = -1;
    std::map<uint16_t, Attribute> attributes_;
    bool dirty_ = false;
};

}  // namespace vtl::storage
