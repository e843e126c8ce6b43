#include "storage/record_format.h"

#include <fmt/format.h>

#include <cstring>

#include "storage/byte_order.h"
#include "storage/crc32c.h"

namespace vtl::storage {

namespace {

constexpr size_t kHeaderCrcAt = 36;
constexpr size_t kEntryCrcAt = 12;

// CRC of an index or mark entry: (partition, number) followed by the entry's first 12 bytes.
uint32_t entry_crc(const uint8_t* in, uint8_t partition, uint64_t number) {
    uint8_t key[9];
    key[0] = partition;
    put_le64(key + 1, number);
    return crc32c(in, kEntryCrcAt, crc32c(key, sizeof key));
}

}  // namespace

void RecordHeader::encode(uint8_t* out) const {
    std::memset(out, 0, kRecordHeaderSize);
    put_le32(out, kRecordMagic);
    out[4] = static_cast<uint8_t>(kind);
    out[5] = flags;
    out[6] = partition;
    put_le64(out + 8, object);
    put_le32(out + 16, epoch);
    put_le32(out + 20, length);
    put_le32(out + 24, stored);
    put_le32(out + 28, data_crc);
    put_le32(out + kHeaderCrcAt, crc32c(out, kHeaderCrcAt));
}

std::optional<RecordHeader> decode_record_header(const uint8_t* in, std::string& why) {
    if (get_le32(in) != kRecordMagic) {
        why = fmt::format("no record header (magic 0x{:08X}, expected 0x{:08X})", get_le32(in), kRecordMagic);
        return std::nullopt;
    }
    const uint32_t stored_crc = get_le32(in + kHeaderCrcAt);
    const uint32_t crc = crc32c(in, kHeaderCrcAt);
    if (stored_crc != crc) {
        why = fmt::format("record header CRC mismatch (stored 0x{:08X}, computed 0x{:08X})", stored_crc, crc);
        return std::nullopt;
    }
    RecordHeader h;
    h.kind = static_cast<ObjectKind>(in[4]);
    h.flags = in[5];
    h.partition = in[6];
    h.object = get_le64(in + 8);
    h.epoch = get_le32(in + 16);
    h.length = get_le32(in + 20);
    h.stored = get_le32(in + 24);
    h.data_crc = get_le32(in + 28);
    // A header with a valid CRC but impossible fields was written by a broken or newer writer.
    if (in[7] != 0 || get_le32(in + 32) != 0) {
        why = "record header has non-zero reserved bytes";
    } else if (h.kind != ObjectKind::Record && h.kind != ObjectKind::Filemark) {
        why = fmt::format("unknown object kind {}", in[4]);
    } else if (h.flags & ~record_flags::kKnown) {
        why = fmt::format("unknown record flags 0x{:02X}", h.flags);
    } else if (h.partition >= kMaxPartitions) {
        why = fmt::format("partition {} out of range", h.partition);
    } else if (h.kind == ObjectKind::Filemark && (h.length || h.stored || h.flags || h.data_crc)) {
        why = "filemark header with a length, flags or CRC";
    } else if (h.kind == ObjectKind::Record &&
               (h.length == 0 || h.length > kMaxRecordLength || h.stored == 0 || h.stored > kMaxRecordLength)) {
        why = fmt::format("record length {} (stored {}) out of range 1..{}", h.length, h.stored, kMaxRecordLength);
    } else if (h.kind == ObjectKind::Record && !h.compressed() && h.stored != h.length) {
        why = fmt::format("uncompressed record stores {} bytes for length {}", h.stored, h.length);
    } else {
        return h;
    }
    return std::nullopt;
}

void encode_index_entry(const IndexEntry& entry, uint8_t partition, uint64_t object, uint8_t* out) {
    std::memset(out, 0, kIndexEntrySize);
    put_le64(out, entry.offset);
    out[8] = static_cast<uint8_t>(entry.kind);
    put_le32(out + kEntryCrcAt, entry_crc(out, partition, object));
}

std::optional<IndexEntry> decode_index_entry(const uint8_t* in, uint8_t partition, uint64_t object, std::string& why) {
    const uint32_t stored_crc = get_le32(in + kEntryCrcAt);
    const uint32_t crc = entry_crc(in, partition, object);
    if (stored_crc != crc) {
        why = fmt::format("index entry CRC mismatch (stored 0x{:08X}, computed 0x{:08X})", stored_crc, crc);
        return std::nullopt;
    }
    IndexEntry e{get_le64(in), static_cast<ObjectKind>(in[8])};
    if ((e.kind != ObjectKind::Record && e.kind != ObjectKind::Filemark) || in[9] || in[10] || in[11]) {
        why = fmt::format("index entry has unknown kind {} or non-zero reserved bytes", in[8]);
        return std::nullopt;
    }
    return e;
}

void encode_mark_entry(uint64_t object, uint8_t partition, uint64_t ordinal, uint8_t* out) {
    std::memset(out, 0, kMarkEntrySize);
    put_le64(out, object);
    put_le32(out + kEntryCrcAt, entry_crc(out, partition, ordinal));
}

std::optional<uint64_t> decode_mark_entry(const uint8_t* in, uint8_t partition, uint64_t ordinal, std::string& why) {
    const uint32_t stored_crc = get_le32(in + kEntryCrcAt);
    const uint32_t crc = entry_crc(in, partition, ordinal);
    if (stored_crc != crc) {
        why = fmt::format("filemark entry CRC mismatch (stored 0x{:08X}, computed 0x{:08X})", stored_crc, crc);
        return std::nullopt;
    }
    if (get_le32(in + 8) != 0) {
        why = "filemark entry has non-zero reserved bytes";
        return std::nullopt;
    }
    return get_le64(in);
}

}  // namespace vtl::storage
