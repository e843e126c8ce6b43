#include "storage/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 headers make -Wuninitialized warn about their own _mm512_undefined
// placeholders (GCC bug 105593, fixed in 13); nothing of ours is uninitialized.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
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

// Folding with carry-less multiplication (VPCLMULQDQ on 512-bit registers): the crc32
// instruction handles 8 bytes a cycle at best, which is slower than copying a record out of the
// page cache; folding handles 64 bytes per multiply pair. A 128-bit block X of the message (its
// first 8 bytes A, the high-degree half, then B) placed D bits before the end contributes
// X x^D = A x^(64+D) + B x^D mod P, so it can be replaced by A (x^(64+D) mod P) + B (x^D mod P),
// which is 96 bits, xored into the block D bits further on. Reflected operands make the product
// come out one bit position short (times x), hence the exponents D+63 and D-1 below.
uint32_t x_pow_mod(size_t n) {  // x^n mod P, reflected: bit 31 is x^0
    uint32_t r = 0x80000000u;
    while (n--) r = (r >> 1) ^ ((r & 1) ? kPolynomial : 0);
    return r;
}

struct FoldConstant {
    uint64_t for_a = 0, for_b = 0;  // multiply A (low qword) and B (high qword)
    explicit FoldConstant(size_t bits)
        : for_a(uint64_t(x_pow_mod(bits + 63)) << 32), for_b(uint64_t(x_pow_mod(bits - 1)) << 32) {}
};

__attribute__((target("pclmul,sse4.2"))) __m128i fold128(__m128i x, const FoldConstant& k) {
    const __m128i kv = _mm_set_epi64x(static_cast<int64_t>(k.for_b), static_cast<int64_t>(k.for_a));
    return _mm_xor_si128(_mm_clmulepi64_si128(x, kv, 0x00), _mm_clmulepi64_si128(x, kv, 0x11));
}

__attribute__((target("avx512f,vpclmulqdq"))) __m512i fold512(__m512i x, __m512i k, __m512i next) {
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11), next,
                                     0x96);  // a ^ b ^ c
}

__attribute__((target("avx512f,vpclmulqdq"))) __m512i broadcast(const FoldConstant& k) {
    return _mm512_broadcast_i32x4(_mm_set_epi64x(static_cast<int64_t>(k.for_b), static_cast<int64_t>(k.for_a)));
}

constexpr size_t kFoldMinimum = 256;

template <bool kCopy>
__attribute__((target("avx512f"), always_inline)) inline __m512i load64(const uint8_t* p, uint8_t* dst, size_t at) {
    const __m512i v = _mm512_loadu_si512(p + at);
    if constexpr (kCopy) _mm512_storeu_si512(dst + at, v);
    return v;
}

// n >= kFoldMinimum. Four registers of 64 bytes fold 256 bytes per step; then they are folded
// into one 16-byte block, which the crc32 instruction finishes with the tail. With kCopy the
// bytes are also stored to `dst` as they are loaded: one pass over memory instead of two.
template <bool kCopy>
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) uint32_t update_fold(uint32_t crc, const uint8_t* p,
                                                                                 size_t n, uint8_t* dst) {
    static const FoldConstant k2048(2048), k512(512), k384(384), k256(256), k128(128);
    const __m512i by256 = broadcast(k2048);  // each 128-bit lane moves 256 bytes on
    const __m512i by64 = broadcast(k512);
    __m512i x0 = _mm512_xor_si512(load64<kCopy>(p, dst, 0), _mm512_zextsi128_si512(_mm_cvtsi32_si128(int(crc))));
    __m512i x1 = load64<kCopy>(p, dst, 64);
    __m512i x2 = load64<kCopy>(p, dst, 128);
    __m512i x3 = load64<kCopy>(p, dst, 192);
    p += 256;
    n -= 256;
    if constexpr (kCopy) dst += 256;
    while (n >= 256) {
        x0 = fold512(x0, by256, load64<kCopy>(p, dst, 0));
        x1 = fold512(x1, by256, load64<kCopy>(p, dst, 64));
        x2 = fold512(x2, by256, load64<kCopy>(p, dst, 128));
        x3 = fold512(x3, by256, load64<kCopy>(p, dst, 192));
        p += 256;
        n -= 256;
        if constexpr (kCopy) dst += 256;
    }
    if constexpr (kCopy) std::memcpy(dst, p, n);  // the rest is read from the source below
    __m512i x = fold512(fold512(fold512(x0, by64, x1), by64, x2), by64, x3);
    while (n >= 64) {
        x = fold512(x, by64, _mm512_loadu_si512(p));
        p += 64;
        n -= 64;
    }
    __m128i v =
        _mm_xor_si128(fold128(_mm512_extracti32x4_epi32(x, 0), k384), fold128(_mm512_extracti32x4_epi32(x, 1), k256));
    v = _mm_xor_si128(v, fold128(_mm512_extracti32x4_epi32(x, 2), k128));
    v = _mm_xor_si128(v, _mm512_extracti32x4_epi32(x, 3));
    while (n >= 16) {
        v = _mm_xor_si128(fold128(v, k128), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        p += 16;
        n -= 16;
    }
    uint8_t last[16];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(last), v);
    return update_single(update_single(0, last, 16), p, n);
}

bool detect_fold() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq") &&
           __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.2");
}

const bool kFold = detect_fold();

uint32_t update_streams(uint32_t crc, const uint8_t* p, size_t n) {
    static const ZeroShift long_shift(kLongLane);
    static const ZeroShift short_shift(kShortLane);
    crc = update_blocks(crc, p, n, kLongLane, long_shift);
    crc = update_blocks(crc, p, n, kShortLane, short_shift);
    return update_single(crc, p, n);
}

uint32_t update_hardware(uint32_t crc, const uint8_t* p, size_t n) {
    return kFold && n >= kFoldMinimum ? update_fold<false>(crc, p, n, nullptr) : update_streams(crc, p, n);
}

bool detect_hardware() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}

#else

uint32_t update_hardware(uint32_t crc, const uint8_t* p, size_t n) { return update_portable(crc, p, n); }
uint32_t update_streams(uint32_t crc, const uint8_t* p, size_t n) { return update_portable(crc, p, n); }
bool detect_hardware() { return false; }
const bool kFold = false;

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

uint32_t crc32c_streams(const void* data, size_t size, uint32_t previous) {
    const auto* p = static_cast<const uint8_t*>(data);
    return kHardware ? ~update_streams(~previous, p, size) : ~update_portable(~previous, p, size);
}

uint32_t crc32c_copy(void* dst, const void* src, size_t size, uint32_t previous) {
#if defined(__x86_64__)
    if (kFold && size >= kFoldMinimum) {
        return ~update_fold<true>(~previous, static_cast<const uint8_t*>(src), size, static_cast<uint8_t*>(dst));
    }
#endif
    // Without the fold there is no one-pass loop: copy, then the usual dispatch reads the copy.
    std::memcpy(dst, src, size);
    return crc32c(dst, size, previous);
}

bool crc32c_hardware() { return kHardware; }

const char* crc32c_implementation() { return kFold ? "vpclmulqdq" : kHardware ? "sse4.2" : "tables"; }

}  // namespace vtl::storage
