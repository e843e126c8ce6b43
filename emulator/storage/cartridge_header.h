// The cartridge's `header` file: the format version, the layout (capacity and partitions) and,
// per partition, what the last sync point made durable. Two 4096-byte slots are written in
// turn, each with a sequence number and a CRC32C, so a torn write leaves the other one valid
// (docs/cartridge-format.md, "The header file").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/record_format.h"

namespace vtl::storage {

inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kHeaderSlotSize = 4096;
inline constexpr size_t kHeaderFileSize = 2 * kHeaderSlotSize;

// What the last sync point of one partition made durable, and its layout.
struct PartitionRecord {
    uint64_t capacity = 0;   // bytes of stored data the partition holds
    uint64_t objects = 0;    // records and filemarks before the synced EOD
    uint64_t bytes = 0;      // length of pN.records up to the synced EOD
    uint64_t filemarks = 0;  // entries of pN.marks that are synced
    uint32_t epoch = 0;      // records at or after the synced EOD with a smaller epoch are stale

    bool operator==(const PartitionRecord&) const = default;
};

struct HeaderState {
    uint64_t sequence = 0;
    std::string barcode;
    uint64_t created = 0;  // Unix seconds
    uint64_t capacity = 0;
    uint32_t partition_count = 1;
    std::array<PartitionRecord, kMaxPartitions> partitions{};

    bool operator==(const HeaderState&) const = default;
};

std::array<uint8_t, kHeaderSlotSize> encode_header_slot(const HeaderState& state);

struct SlotDecode {
    std::optional<HeaderState> state;
    std::string why;          // when not decoded: what is wrong
    bool unsupported = false;  // a valid slot from a newer, incompatible format version
};
SlotDecode decode_header_slot(std::span<const uint8_t> slot);

// The slot number (0 or 1) a state with this sequence number is written to.
inline size_t header_slot_for(uint64_t sequence) { return sequence % 2; }

}  // namespace vtl::storage
