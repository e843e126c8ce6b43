#include "scsi/cdb.h"

#include <bit>

namespace vtl::scsi {

size_t cdb_length(std::span<const uint8_t> cdb) {
    if (cdb.empty()) return 0;
    static constexpr uint8_t kByGroup[8] = {6, 10, 10, 12, 16, 12, 10, 10};
    const uint8_t opcode = cdb[0];
    if (opcode == 0x7F) {
        if (cdb.size() < 8) return 0;
        return 8 + static_cast<size_t>(cdb[7]);
    }
    return kByGroup[opcode >> 5];
}

std::optional<Sense> check_control_byte(std::span<const uint8_t> cdb) {
    const size_t at = cdb.size() - 1;
    const uint8_t control = cdb[at];
    if (control & 0x04) return Sense::invalid_cdb_field(static_cast<uint16_t>(at), 2);  // NACA
    if (control & 0x01) return Sense::invalid_cdb_field(static_cast<uint16_t>(at), 0);  // LINK
    return std::nullopt;
}

CdbReader& CdbReader::reserved(size_t byte, uint8_t mask) {
    const uint8_t set = cdb_[byte] & mask;
    if (set && !error_) {
        const int highest = 7 - std::countl_zero(set);
        error_ = Sense::invalid_cdb_field(static_cast<uint16_t>(byte), highest);
    }
    return *this;
}

CdbReader& CdbReader::invalid(size_t byte, int bit) {
    if (!error_) error_ = Sense::invalid_cdb_field(static_cast<uint16_t>(byte), bit);
    return *this;
}

}  // namespace vtl::scsi
