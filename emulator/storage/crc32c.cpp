#include "storage/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace vtl::storage {

namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;  // reflected Castagnoli

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
    Tables t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
        for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    }
    return t;
}

constexpr Tables kTables = make_tables();

// The raw register update (no pre/post inversion), so states can be combined linearly.
uint32_t update_portable(uint32_t crc, const uint8_t* p, size_t n) {
    while (n && (reinterpret_cast<uintptr_t>(p) & 7)) {
        crc = kTables[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
        --n;
    }
    while (n >= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);
        word ^= crc;  // little-endian host: the low bytes meet the register first
        crc = kTables[7][word & 0xFF] ^ kTables[6][(word >> 8) & 0xFF] ^ kTables[5][(word >> 16) & 0xFF] ^
              kTables[4][(word >> 24) & 0xFF] ^ kTables[3][(word >> 32) & 0xFF] ^ kTables[2][(word >> 40) & 0xFF] ^
              kTables[1][(word >> 48) & 0xFF] ^ kTables[0][word >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = kTables[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)

// Advancing a register over `length` zero bytes is linear, so it is a 32x32 bit matrix; applied
// bytewise through four 256-entry tables it joins the independent streams below.
struct ZeroShift {
    std::array<std::array<uint32_t, 256>, 4> t{};

    explicit ZeroShift(size_t length) {
        std::array<uint32_t, 32> basis{};
        for (int bit = 0; bit < 32; ++bit) {
            uint32_t c = uint32_t(1) << bit;
            for (size_t i = 0; i < length; ++i) c = kTables[0][c & 0xFF] ^ (c >> 8);
            basis[bit] = c;
        }
        for (int b = 0; b < 4; ++b) {
            for (uint32_t v = 1; v < 256; ++v) t[b][v] = t[b][v & (v - 1)] ^ basis[8 * b + __builtin_ctz(v)];
        }
    }
    uint32_t operator()(uint32_t c) const {
        return t[0][c & 0xFF] ^ t[1][(c >> 8) & 0xFF] ^ t[2][(c >> 16) & 0xFF] ^ t[3][c >> 24];
    }
};

constexpr size_t kLongLane = 8192;
constexpr size_t kShortLane = 256;

__attribute__((target("sse4.2"))) uint32_t update_single(uint32_t crc, const uint8_t* p, size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = static_cast<uint32_t>(c);
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return c32;
}

// Three lanes of `lane` bytes each in lockstep: the instruction's latency is three cycles and its
// throughput one per cycle, so three independent chains keep it busy.
__attribute__((target("sse4.2"))) uint32_t update_blocks(uint32_t crc, const uint8_t*& p, size_t& n, size_t lane,
                                                         const ZeroShift& shift) {
    while (n >= 3 * lane) {
        uint64_t a = crc, b = 0, c = 0;
        const uint8_t* pa = p;
        const uint8_t* pb = p + lane;
        const uint8_t* pc = p + 2 * lane;
        for (size_t i = 0; i < lane; i += 8) {
            uint64_t wa, wb, wc;
            std::memcpy(&wa, pa + i, 8);
            std::memcpy(&wb, pb + i, 8);
            std::memcpy(&wc, pc + i, 8);
            a = _mm_crc32_u64(a, wa);
            b = _mm_crc32_u64(b, wb);
            c = _mm_crc32_u64(c, wc);
        }
        crc = shift(shift(static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b)) ^ static_cast<uint32_t>(c);
        p += 3 * lane;
        n -= 3 * lane;
    }
    return crc;
}

uint32_t update_hardware(uint32_t crc, const uint8_t* p, size_t n) {
    static const ZeroShift long_shift(kLongLane);
    static const ZeroShift short_shift(kShortLane);
    crc = update_blocks(crc, p, n, kLongLane, long_shift);
    crc = update_blocks(crc, p, n, kShortLane, short_shift);
    return update_single(crc, p, n);
}

bool detect_hardware() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}

#else

uint32_t update_hardware(uint32_t crc, const uint8_t* p, size_t n) { return update_portable(crc, p, n); }
bool detect_hardware() { return false; }

#endif

const bool kHardware = detect_hardware();

}  // namespace

uint32_t crc32c_portable(const void* data, size_t size, uint32_t previous) {
    return ~update_portable(~previous, static_cast<const uint8_t*>(data), size);
}

uint32_t crc32c(const void* data, size_t size, uint32_t previous) {
    const auto* p = static_cast<const uint8_t*>(data);
    return kHardware ? ~update_hardware(~previous, p, size) : ~update_portable(~previous, p, size);
}

bool crc32c_hardware() { return kHardware; }

}  // namespace vtl::storage
