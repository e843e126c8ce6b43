// CDB sizing and the field reader every typed decoder is built on.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "scsi/bytes.h"
#include "scsi/sense.h"

namespace vtl::scsi {

// CDB length from the opcode's group code, as Linux sizes it (groups 6 and 7, the vendor
// opcodes C0h-FFh, are 10 bytes). 7Fh is variable length: 8 + ADDITIONAL CDB LENGTH, so the
// caller passes the bytes it has; 0 means the length cannot be known yet.
size_t cdb_length(std::span<const uint8_t> cdb);
inline constexpr size_t kMaxCdbLength = 32;

// The CONTROL byte is the last byte of the CDB. NACA and LINK are not supported (no ACA,
// linked commands are obsolete); vendor bits 7-6 are ignored (mtx puts eepos there).
std::optional<Sense> check_control_byte(std::span<const uint8_t> cdb);

// Reads fields from a CDB and remembers the first violation, with its exact field pointer.
// Decoders read every field they need, declare reserved bits, and finish with error().
class CdbReader {
public:
    explicit CdbReader(std::span<const uint8_t> cdb) : cdb_(cdb) {}

    uint8_t u8(size_t byte) const { return cdb_[byte]; }
    bool bit(size_t byte, int bit) const { return (cdb_[byte] >> bit) & 1; }
    // Bits [lsb, lsb+width) of one byte.
    uint8_t bits(size_t byte, int lsb, int width) const {
        return static_cast<uint8_t>((cdb_[byte] >> lsb) & ((1u << width) - 1));
    }
    uint16_t be16(size_t byte) const { return get_be16(&cdb_[byte]); }
    uint32_t be24(size_t byte) const { return get_be24(&cdb_[byte]); }
    uint32_t be32(size_t byte) const { return get_be32(&cdb_[byte]); }
    uint64_t be64(size_t byte) const { return get_be64(&cdb_[byte]); }

    // Bits of `mask` in `byte` are reserved: a set one is 05/24/00 pointing at the highest.
    CdbReader& reserved(size_t byte, uint8_t mask = 0xFF);
    // A field whose value is not supported: 05/24/00 pointing at the byte (and bit).
    CdbReader& invalid(size_t byte, int bit = -1);
    // Reports a violation unless `ok`.
    CdbReader& require(bool ok, size_t byte, int bit = -1) { return ok ? *this : invalid(byte, bit); }

    const std::optional<Sense>& error() const { return error_; }

private:
    std::span<const uint8_t> cdb_;
    std::optional<Sense> error_;
};

}  // namespace vtl::scsi
