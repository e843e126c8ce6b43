#include "storage/cartridge_header.h"

#include <fmt/format.h>

#include <cstring>

#include "storage/byte_order.h"
#include "storage/crc32c.h"

namespace vtl::storage {

namespace {

constexpr char kMagic[8] = {'V', 'T', 'L', 'C', 'A', 'R', 'T', '\0'};
constexpr size_t kCrcAt = kHeaderSlotSize - 4;
constexpr size_t kBarcodeAt = 48;
constexpr size_t kBarcodeSize = 16;
constexpr size_t kPartitionsAt = 64;
constexpr size_t kPartitionSize = 48;
constexpr uint32_t kKnownIncompatFlags = 0;

}  // namespace

std::array<uint8_t, kHeaderSlotSize> encode_header_slot(const HeaderState& s) {
    std::array<uint8_t, kHeaderSlotSize> out{};
    uint8_t* p = out.data();
    std::memcpy(p, kMagic, sizeof kMagic);
    put_le32(p + 8, kFormatVersion);
    put_le32(p + 12, 0);  // incompatible feature flags
    put_le32(p + 16, 0);  // compatible feature flags
    put_le32(p + 20, s.partition_count);
    put_le64(p + 24, s.sequence);
    put_le64(p + 32, s.capacity);
    put_le64(p + 40, s.created);
    std::memcpy(p + kBarcodeAt, s.barcode.data(), std::min(s.barcode.size(), kBarcodeSize));
    for (size_t i = 0; i < kMaxPartitions; ++i) {
        uint8_t* q = p + kPartitionsAt + i * kPartitionSize;
        const auto& part = s.partitions[i];
        put_le64(q, part.capacity);
        put_le64(q + 8, part.objects);
        put_le64(q + 16, part.bytes);
        put_le64(q + 24, part.filemarks);
        put_le32(q + 32, part.epoch);
    }
    put_le32(p + kCrcAt, crc32c(p, kCrcAt));
    return out;
}

SlotDecode decode_header_slot(std::span<const uint8_t> slot) {
    SlotDecode d;
    if (slot.size() != kHeaderSlotSize) {
        d.why = fmt::format("slot is {} bytes, expected {}", slot.size(), kHeaderSlotSize);
        return d;
    }
    const uint8_t* p = slot.data();
    if (std::memcmp(p, kMagic, sizeof kMagic) != 0) {
        d.why = "no header magic \"VTLCART\"";
        return d;
    }
    const uint32_t stored_crc = get_le32(p + kCrcAt);
    const uint32_t crc = crc32c(p, kCrcAt);
    if (stored_crc != crc) {
        d.why = fmt::format("header CRC mismatch (stored 0x{:08X}, computed 0x{:08X})", stored_crc, crc);
        return d;
    }
    const uint32_t version = get_le32(p + 8);
    const uint32_t incompat = get_le32(p + 12);
    if (version != kFormatVersion || (incompat & ~kKnownIncompatFlags)) {
        d.why = fmt::format("format version {} with incompatible features 0x{:08X}; this build reads version {}",
                            version, incompat, kFormatVersion);
        d.unsupported = true;
        return d;
    }
    HeaderState s;
    s.partition_count = get_le32(p + 20);
    s.sequence = get_le64(p + 24);
    s.capacity = get_le64(p + 32);
    s.created = get_le64(p + 40);
    const auto* bc = reinterpret_cast<const char*>(p + kBarcodeAt);
    s.barcode.assign(bc, strnlen(bc, kBarcodeSize));
    if (s.partition_count < 1 || s.partition_count > kMaxPartitions) {
        d.why = fmt::format("partition count {} out of range 1..{}", s.partition_count, kMaxPartitions);
        return d;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < kMaxPartitions; ++i) {
        const uint8_t* q = p + kPartitionsAt + i * kPartitionSize;
        auto& part = s.partitions[i];
        part.capacity = get_le64(q);
        part.objects = get_le64(q + 8);
        part.bytes = get_le64(q + 16);
        part.filemarks = get_le64(q + 24);
        part.epoch = get_le32(q + 32);
        if (i < s.partition_count) {
            if (part.objects > part.bytes / kRecordHeaderSize || part.filemarks > part.objects) {
                d.why = fmt::format("partition {}: inconsistent synced state ({} objects, {} bytes, {} filemarks)", i,
                                    part.objects, part.bytes, part.filemarks);
                return d;
            }
            total += part.capacity;
        }
    }
    if (total > s.capacity) {
        d.why = fmt::format("partition capacities add up to {} bytes, more than the cartridge's {}", total, s.capacity);
        return d;
    }
    d.state = std::move(s);
    return d;
}

}  // namespace vtl::storage
