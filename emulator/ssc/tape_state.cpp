#include "ssc/tape_state.h"

#include <algorithm>

namespace vtl::ssc {

namespace {

// Objects since the last filemark before `at`: the previous filemark is the object just before
// the smallest x with as many filemarks before it as `at` has (a binary search over the store's
// in-memory filemark list, no I/O).
uint64_t block_in_file(const storage::Cartridge& c, storage::Position at) {
    const uint64_t marks = c.filemarks_before(at);
    if (marks == 0) return at.object;
    uint64_t lo = 0, hi = at.object;
    while (lo < hi) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (c.filemarks_before({at.partition, mid}) >= marks) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return at.object - lo;
}

}  // namespace

MediumSnapshot snapshot_of(const storage::Cartridge& c) {
    MediumSnapshot s;
    s.fenced = c.fence().has_value();
    const storage::Position at = c.position();
    s.partition = at.partition;
    s.object = at.object;
    s.file = c.file_number();
    s.block_in_file = block_in_file(c, at);
    s.partitions = std::max<uint8_t>(1, c.partition_count());
    for (uint8_t p = 0; p < kMaxPartitions && p < s.partitions; ++p) {
        s.eod[p] = c.eod(p);
        s.capacity[p] = c.capacity(p);
    }
    s.counters = c.counters();
    return s;
}

}  // namespace vtl::ssc
