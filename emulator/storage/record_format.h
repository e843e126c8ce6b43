// The fixed-size structures of a partition's files (docs/cartridge-format.md, "Partition files"):
// the 40-byte header before every record and filemark in pN.records, the 16-byte entries of
// pN.index (object number -> offset) and of pN.marks (filemark ordinal -> object number).
// Each carries its own CRC32C, so a reader can tell exactly which structure is damaged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace vtl::storage {

inline constexpr uint32_t kMaxPartitions = 4;
// Largest record the store accepts: twice the 8 MiB block limit LTO drives report.
inline constexpr uint32_t kMaxRecordLength = 16u << 20;

enum class ObjectKind : uint8_t { Record = 1, Filemark = 2 };

namespace record_flags {
inline constexpr uint8_t kCompressed = 0x01;  // the stored bytes are one zstd frame
inline constexpr uint8_t kBad = 0x02;         // imported as unreadable (SIMH error flag)
inline constexpr uint8_t kKnown = kCompressed | kBad;
}  // namespace record_flags

inline constexpr uint32_t kRecordMagic = 0x524C5456;  // "VTLR"
inline constexpr size_t kRecordHeaderSize = 40;
// Capacity a filemark uses (docs/cartridge-format.md, "Capacity"): a little, so that filemarks
// alone fill a cartridge and reach early warning and the end of the partition, as on a drive.
inline constexpr uint64_t kFilemarkCapacity = 4096;
// The end of a partition that records may not use and filemarks may (capped at the early-warning
// margin, so records still reach early warning): after the last record that fits, a host can
// still close its file (Linux st writes a filemark at close) and write an end-of-tape label.
inline constexpr uint64_t kFilemarkReserve = 4 * kFilemarkCapacity;

struct RecordHeader {
    ObjectKind kind = ObjectKind::Record;
    uint8_t flags = 0;
    uint8_t partition = 0;
    uint64_t object = 0;    // logical object number within the partition
    uint32_t epoch = 0;     // bumped whenever the partition is cut; never decreases along the file
    uint32_t length = 0;    // bytes the host wrote (0 for a filemark)
    uint32_t stored = 0;    // bytes that follow the header
    uint32_t data_crc = 0;  // CRC32C of the stored bytes

    bool compressed() const { return flags & record_flags::kCompressed; }
    void encode(uint8_t* out) const;  // kRecordHeaderSize bytes
    bool operator==(const RecordHeader&) const = default;
};

// Decodes and validates a header; on failure `why` says what is wrong ("header CRC mismatch ...").
std::optional<RecordHeader> decode_record_header(const uint8_t* in, std::string& why);

inline constexpr size_t kIndexEntrySize = 16;

struct IndexEntry {
    uint64_t offset = 0;  // of the object's header in pN.records
    ObjectKind kind = ObjectKind::Record;
};

// The CRC covers the partition and object number too, so an entry copied to the wrong place fails.
void encode_index_entry(const IndexEntry& entry, uint8_t partition, uint64_t object, uint8_t* out);
std::optional<IndexEntry> decode_index_entry(const uint8_t* in, uint8_t partition, uint64_t object, std::string& why);

inline constexpr size_t kMarkEntrySize = 16;

void encode_mark_entry(uint64_t object, uint8_t partition, uint64_t ordinal, uint8_t* out);
std::optional<uint64_t> decode_mark_entry(const uint8_t* in, uint8_t partition, uint64_t ordinal, std::string& why);

}  // namespace vtl::storage
