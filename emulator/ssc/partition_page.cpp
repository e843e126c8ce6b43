#include "ssc/partition_page.h"

#include <algorithm>

#include "scsi/bytes.h"

namespace vtl::ssc::partition_page {

namespace {

constexpr uint8_t kMediumFormatRecognition = 0x03;  // format and partition recognition
constexpr uint8_t kDefaultUnits = 9;                // GB, as LTFS asks for
constexpr uint8_t kMaxUnits = 12;

size_t page_size(int generation) { return kSizes + 2 * size_t(max_partitions(generation)); }

uint64_t power_of_ten(unsigned n) {
    uint64_t v = 1;
    while (n--) v *= 10;
    return v;
}

uint64_t unit_of(std::span<const uint8_t> page) {
    switch ((page[kFlags] & kPsumMask) >> 3) {
        case 0: return 1;
        case 1: return 1000;
        case 2: return 1000 * 1000;
        default: return power_of_ten(page[kUnits] & 0x0F);
    }
}

}  // namespace

int max_partitions(int generation) { return generation >= 7 || generation == 0 ? 4 : 2; }

std::vector<uint8_t> defaults(int generation) {
    const size_t size = page_size(generation);
    std::vector<uint8_t> p(size, 0);
    p[0] = kCode;
    p[1] = static_cast<uint8_t>(size - 2);
    p[kMaxAdditional] = static_cast<uint8_t>(max_partitions(generation) - 1);
    p[kFlags] = kPsumUnits | kPofm;
    p[kRecognition] = kMediumFormatRecognition;
    p[kUnits] = kDefaultUnits;
    return p;
}

std::vector<uint8_t> changeable(int generation) {
    std::vector<uint8_t> m(page_size(generation), 0);
    m[kAdditionalDefined] = 0xFF;
    m[kFlags] = kFdp | kSdp | kIdp | kPsumMask;
    m[kUnits] = 0x0F;
    for (size_t i = kSizes; i < m.size(); ++i) m[i] = 0xFF;
    return m;
}

std::optional<size_t> check(std::span<const uint8_t> page) {
    const size_t descriptors = (page.size() - kSizes) / 2;
    if (size_t(page[kAdditionalDefined]) + 1 > descriptors || page[kAdditionalDefined] > page[kMaxAdditional]) {
        return kAdditionalDefined;
    }
    const uint8_t kinds = page[kFlags] & (kFdp | kSdp | kIdp);
    if (kinds != 0 && kinds != kFdp && kinds != kSdp && kinds != kIdp) return kFlags;
    if ((page[kFlags] & kPsumMask) == kPsumUnits && (page[kUnits] & 0x0F) > kMaxUnits) return kUnits;
    return std::nullopt;
}

std::variant<storage::Layout, size_t> layout(std::span<const uint8_t> page, uint64_t capacity) {
    if (auto bad = check(page)) return *bad;
    const size_t count = size_t(page[kAdditionalDefined]) + 1;
    const uint8_t kinds = page[kFlags] & (kFdp | kSdp | kIdp);
    storage::Layout l{capacity, {}};
    if (count == 1) return l;
    if (kinds == 0) return kFlags;  // more than one partition, but no way to size them
    if (kinds != kIdp) {
        // Fixed or select data partitions: equal shares, the last one taking the rest.
        l.partitions.assign(count, capacity / count);
        l.partitions.back() = 0;
    } else {
        const uint64_t unit = unit_of(page);
        bool rest_given = false;
        for (size_t i = 0; i < count; ++i) {
            const size_t at = kSizes + 2 * i;
            const uint16_t v = scsi::get_be16(&page[at]);
            // FFFFh takes what the others leave; so does a last size of 0 when no other
            // partition does (Linux st sizes only partition 0 on two-partition drives).
            if (v == kRemaining || (v == 0 && i + 1 == count && !rest_given)) {
                if (rest_given) return at;
                rest_given = true;
                l.partitions.push_back(0);
                continue;
            }
            if (v == 0 || uint64_t(v) * unit > capacity) return at;
            l.partitions.push_back(uint64_t(v) * unit);
        }
    }
    if (!storage::resolve_layout(l).ok()) return kSizes;
    return l;
}

void describe(std::vector<uint8_t>& page, const TapeState& tape) {
    const size_t descriptors = (page.size() - kSizes) / 2;
    const uint8_t partitions = std::max<uint8_t>(1, tape.partitions());
    page[kAdditionalDefined] = static_cast<uint8_t>(partitions - 1);
    page[kFlags] = static_cast<uint8_t>((page[kFlags] & ~(kFdp | kSdp | kIdp | kPsumMask)) | kPsumUnits |
                                        (partitions > 1 ? kIdp : 0));
    uint8_t units = page[kUnits] & 0x0F;
    if (units > kMaxUnits) units = kDefaultUnits;
    page[kUnits] = units;
    const uint64_t unit = power_of_ten(units);
    for (size_t i = 0; i < descriptors; ++i) {
        uint64_t v = 0;
        if (i < partitions && tape.mounted()) {
            const uint64_t bytes = tape.capacity(static_cast<uint8_t>(i)).capacity;
            v = std::min<uint64_t>((bytes + unit - 1) / unit, kRemaining - 1);
        }
        scsi::put_be16(&page[kSizes + 2 * i], static_cast<uint16_t>(v));
    }
}

}  // namespace vtl::ssc::partition_page
