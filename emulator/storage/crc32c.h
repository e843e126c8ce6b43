// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record, index
// entry and header in a cartridge. Uses the SSE4.2 crc32 instruction (three interleaved streams)
// when the CPU has it, else slicing-by-8 tables; both give the same values.
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

// The portable implementation, exposed so tests can compare it with the dispatched one.
uint32_t crc32c_portable(const void* data, size_t size, uint32_t previous = 0);
// Whether crc32c() uses the crc32 instruction on this CPU.
bool crc32c_hardware();

}  // namespace vtl::storage
