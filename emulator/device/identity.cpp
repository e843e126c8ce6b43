#include "device/identity.h"

namespace vtl {

uint64_t naa_registered(uint32_t oui, std::string_view seed) {
    // FNV-1a, 64 bit: stable across builds and platforms.
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : seed) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    const uint64_t vendor_specific = h & ((1ull << 36) - 1);
    return (uint64_t(0x5) << 60) | (uint64_t(oui & 0xFFFFFF) << 36) | vendor_specific;
}

}  // namespace vtl
