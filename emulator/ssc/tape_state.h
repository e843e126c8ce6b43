// The drive's explicit view of its tape: which partition, which logical object, which file and
// block in it, BOP, EOD, early warning, capacity and counters.
//
// Ownership: the clock thread owns TapeState. The cartridge (storage::Cartridge) is only ever
// touched by the drive's I/O worker; after every store operation the worker reads a
// MediumSnapshot from the cartridge and posts it back, and the clock thread hands it to
// TapeState::apply, the one function that changes the state. Every command reads the state;
// none recomputes a position from the store.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "storage/cartridge.h"

namespace vtl::ssc {

inline constexpr uint8_t kMaxPartitions = 4;

// What a store operation leaves behind, read by the thread that ran it.
struct MediumSnapshot {
    uint8_t partition = 0;
    uint64_t object = 0;         // logical object identifier: records and filemarks before the position
    uint64_t file = 0;           // filemarks before the position
    uint64_t block_in_file = 0;  // objects between the previous filemark (or BOP) and the position
    uint8_t partitions = 1;
    std::array<uint64_t, kMaxPartitions> eod{};  // objects in each partition
    std::array<storage::CapacityInfo, kMaxPartitions> capacity{};
    storage::Counters counters;  // since the cartridge was opened
    bool fenced = false;
};

// Reads a snapshot; call it on the thread that owns the cartridge at the moment.
MediumSnapshot snapshot_of(const storage::Cartridge& cartridge);

class TapeState {
public:
    // THE update, after each store operation: the medium as it was left; nullopt once unloaded.
    void apply(const std::optional<MediumSnapshot>& snapshot) {
        if (snapshot && !medium_) ++mounts_;
        if (snapshot.has_value() != medium_.has_value() ||
            (snapshot && (snapshot->partition != medium_->partition || snapshot->object != medium_->object))) {
            ++motions_;
        }
        medium_ = snapshot;
    }
    // Counts of mounts, and of changes of position (a mount or unmount included): what was
    // granted at one position (ALLOW OVERWRITE) or for one mount holds while they stay the same.
    uint64_t mounts() const { return mounts_; }
    uint64_t motions() const { return motions_; }

    bool mounted() const { return medium_.has_value(); }
    uint8_t partition() const { return medium_ ? medium_->partition : 0; }
    uint64_t object() const { return medium_ ? medium_->object : 0; }
    uint64_t file() const { return medium_ ? medium_->file : 0; }
    uint64_t block_in_file() const { return medium_ ? medium_->block_in_file : 0; }
    uint8_t partitions() const { return medium_ ? medium_->partitions : 0; }
    uint64_t eod(uint8_t partition) const {
        return medium_ && partition < kMaxPartitions ? medium_->eod[partition] : 0;
    }
    uint64_t eod() const { return eod(partition()); }
    bool bop() const { return mounted() && object() == 0; }
    bool at_eod() const { return mounted() && object() == eod(); }
    storage::CapacityInfo capacity(uint8_t partition) const {
        return medium_ && partition < kMaxPartitions ? medium_->capacity[partition] : storage::CapacityInfo{};
    }
    storage::CapacityInfo capacity() const { return capacity(partition()); }
    // The partition's data reaches its early-warning point and the position is at its end:
    // what READ POSITION's BPEW and the EOM bit on writes report.
    bool beyond_early_warning() const { return at_eod() && capacity().early_warning() && capacity().capacity > 0; }
    // Average stored bytes per object of a partition, to turn object distances into tape
    // distances for motion times.
    uint64_t bytes_per_object(uint8_t partition) const {
        const uint64_t n = eod(partition);
        return n ? capacity(partition).used / n : 0;
    }
    const storage::Counters& counters() const { return medium_ ? medium_->counters : kNoCounters; }
    bool fenced() const { return medium_ && medium_->fenced; }

private:
    static inline const storage::Counters kNoCounters{};
    std::optional<MediumSnapshot> medium_;
    uint64_t mounts_ = 0;
    uint64_t motions_ = 0;
};

}  // namespace vtl::ssc
