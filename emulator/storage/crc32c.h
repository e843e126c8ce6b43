// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record, index
// entry and header in a cartridge. Uses carry-less multiplication folding (AVX-512 VPCLMULQDQ)
// for buffers of 256 bytes and more when the CPU has it, the SSE4.2 crc32 instruction (three
// interleaved streams) otherwise, else slicing-by-8 tables; all give the same values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vtl::storage {

// CRC32C of `data`, continuing from `previous` (the CRC of the bytes before it; 0 to start):
// crc32c(b, crc32c(a)) == crc32c(a followed by b). crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void* data, size_t size, uint32_t previous = 0);
inline uint32_t crc32c(std::span<const uint8_t> data, uint32_t previous = 0) {
    return crc32c(data.data(), data.size(), previous);
}

// Copies `size` bytes from `src` to `dst` (not overlapping) and returns their CRC32C, reading
// each byte once where the CPU can fold (a record read from a mapping is checked as it is copied).
uint32_t crc32c_copy(void* dst, const void* src, size_t size, uint32_t previous = 0);

// The portable implementation, exposed so tests can compare it with the dispatched one.
uint32_t crc32c_portable(const void* data, size_t size, uint32_t previous = 0);
// The crc32-instruction path without folding (tables without SSE4.2), so tests cover it on
// CPUs where crc32c() folds.
uint32_t crc32c_streams(const void* data, size_t size, uint32_t previous = 0);
// Whether crc32c() uses the crc32 instruction on this CPU.
bool crc32c_hardware();
// What crc32c() uses for long buffers here: "vpclmulqdq", "sse4.2" or "tables" (benchmarks print it).
const char* crc32c_implementation();

}  // namespace vtl::storage
