#include "scsi/sense.h"

#include <cstdint>

#include "scsi/bytes.h"

namespace vtl::scsi {

namespace {
constexpr uint8_t kSksv = 0x80;
constexpr uint8_t kFixedCurrent = 0x70, kFixedDeferred = 0x71;
constexpr uint8_t kDescCurrent = 0x72, kDescDeferred = 0x73;
constexpr uint8_t kDescInformation = 0x00, kDescCommandSpecific = 0x01, kDescKeySpecific = 0x02,
                  kDescStreamCommands = 0x04;
constexpr size_t kFixedLength = 18;
}  // namespace

Sense& Sense::field_pointer(uint16_t byte, int bit, bool in_cdb) {
    std::array<uint8_t, 3> sks{};
    sks[0] = kSksv | (in_cdb ? 0x40 : 0x00);
    if (bit >= 0) sks[0] |= 0x08 | (bit & 0x07);  // BPV + BIT POINTER
    put_be16(&sks[1], byte);
    key_specific_ = sks;
    return *this;
}

Sense& Sense::progress(uint16_t fraction) {
    std::array<uint8_t, 3> sks{};
    sks[0] = kSksv;
    put_be16(&sks[1], fraction);
    key_specific_ = sks;
    return *this;
}

std::vector<uint8_t> Sense::encode(SenseFormat format) const {
    const uint8_t stream_bits = (filemark_ ? 0x80 : 0) | (eom_ ? 0x40 : 0) | (ili_ ? 0x20 : 0);
    std::vector<uint8_t> out;
    if (format == SenseFormat::Fixed) {
        out.assign(kFixedLength, 0);
        out[0] = deferred_ ? kFixedDeferred : kFixedCurrent;
        // INFORMATION is 4 bytes here; a value that does not fit is reported with VALID=0.
        const bool fits = information_ && (information_signed_ ? static_cast<int64_t>(*information_) >= INT32_MIN &&
                                                                     static_cast<int64_t>(*information_) <= INT32_MAX
                                                               : *information_ <= 0xFFFFFFFFu);
        if (fits) {
            out[0] |= 0x80;
            put_be32(&out[3], static_cast<uint32_t>(*information_));
        }
        out[2] = stream_bits | static_cast<uint8_t>(key_);
        out[7] = kFixedLength - 8;
        if (command_specific_) put_be32(&out[8], static_cast<uint32_t>(*command_specific_));
        out[12] = asc_.asc;
        out[13] = asc_.ascq;
        if (key_specific_) std::copy(key_specific_->begin(), key_specific_->end(), out.begin() + 15);
        return out;
    }

    out.assign(8, 0);
    out[0] = deferred_ ? kDescDeferred : kDescCurrent;
    out[1] = static_cast<uint8_t>(key_);
    out[2] = asc_.asc;
    out[3] = asc_.ascq;
    ByteWriter w(out);
    if (information_) {
        w.u8(kDescInformation).u8(0x0A).u8(0x80).u8(0).be64(*information_);
    }
    if (command_specific_) {
        w.u8(kDescCommandSpecific).u8(0x0A).u8(0).u8(0).be64(*command_specific_);
    }
    if (key_specific_) {
        w.u8(kDescKeySpecific).u8(0x06).u8(0).u8(0).bytes(*key_specific_).u8(0);
    }
    if (stream_bits) {
        w.u8(kDescStreamCommands).u8(0x02).u8(0).u8(stream_bits);
    }
    out[7] = static_cast<uint8_t>(out.size() - 8);
    return out;
}

}  // namespace vtl::scsi
