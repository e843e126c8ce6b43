#include "storage/simh_image.h"

#include "storage/byte_order.h"

namespace vtl::storage {

namespace {

constexpr uint32_t kTapeMark = 0x00000000;
constexpr uint32_t kEndOfMedium = 0xFFFFFFFF;
constexpr uint32_t kEraseGap = 0xFFFFFFFE;
constexpr uint32_t kHalfGap = 0xFFFEFFFF;
constexpr uint32_t kMarkerClass = 0xFF000000;
constexpr uint32_t kErrorFlag = 0x80000000;
constexpr uint32_t kLengthMask = 0x00FFFFFF;

Error bad(uint64_t offset, std::string_view what) {
    return make_error(Errc::BadImage, "SIMH image offset {}: {}", offset, what);
}

}  // namespace

Result<void> read_simh(ImageInput& in, ImageSink& sink) {
    std::vector<uint8_t> data;
    while (true) {
        const uint64_t at = in.offset();
        uint8_t word[4];
        auto n = in.read(word, 4);
        if (!n.ok()) return n.error();
        if (*n == 0) return {};
        if (*n < 4) return bad(at, fmt::format("file ends {} bytes into a 4-byte record length or marker", *n));
        const uint32_t v = get_le32(word);
        if (v == kTapeMark) {
            VTL_TRY(sink.filemark());
            continue;
        }
        if (v == kEndOfMedium) return {};
        if (v == kEraseGap) continue;
        if (v == kHalfGap) {
            in.seek(at + 2);
            continue;
        }
        if ((v & kMarkerClass) == kMarkerClass) return bad(at, fmt::format("reserved marker 0x{:08X}", v));
        if (v & ~(kErrorFlag | kLengthMask)) {
            return bad(at, fmt::format("0x{:08X} has reserved class bits 0x{:02X}; expected a 24-bit record length, "
                                       "optionally with the error flag 0x80000000",
                                       v, (v >> 24) & 0x7F));
        }
        const uint32_t length = v & kLengthMask;
        if (length == 0) return bad(at, "record with the error flag and length 0");
        data.resize(length + (length & 1));
        auto got = in.read(data.data(), data.size());
        if (!got.ok()) return got.error();
        if (*got < data.size()) {
            return bad(at, fmt::format("record of {} bytes (padded to {}) is cut short: the file ends after {} of them",
                                       length, data.size(), *got));
        }
        const uint64_t trailer_at = in.offset();
        auto t = in.read(word, 4);
        if (!t.ok()) return t.error();
        if (*t < 4) return bad(trailer_at, fmt::format("file ends inside the trailing length of the record at {}", at));
        const uint32_t trailer = get_le32(word);
        if (trailer != v) {
            std::string hint;
            // An image that does not pad odd records has the trailer one byte earlier.
            if ((length & 1) && (uint32_t(data.back()) | (trailer << 8)) == v) {
                hint = " (the image looks unpadded: odd-length records must be followed by one pad byte)";
            }
            return bad(trailer_at, fmt::format("trailing length 0x{:08X} differs from the leading 0x{:08X} of the "
                                               "record at {}{}",
                                               trailer, v, at, hint));
        }
        VTL_TRY(sink.record(std::span<const uint8_t>(data.data(), length), (v & kErrorFlag) != 0));
    }
}

Result<void> write_simh(Cartridge& cartridge, uint8_t partition, ImageOutput& out) {
    return for_each_object(cartridge, partition, [&](ReadKind kind, std::span<const uint8_t> data, bool bad_record,
                                                     uint64_t object) -> Result<void> {
        uint8_t word[4];
        if (kind == ReadKind::Filemark) {
            put_le32(word, kTapeMark);
            return out.write(word, 4);
        }
        if (data.size() > kLengthMask) {
            return make_error(Errc::InvalidArgument, "object {} is a record of {} bytes; SIMH lengths stop at {}",
                              object, data.size(), kLengthMask);
        }
        put_le32(word, static_cast<uint32_t>(data.size()) | (bad_record ? kErrorFlag : 0));
        VTL_TRY(out.write(word, 4));
        VTL_TRY(out.write(data.data(), data.size()));
        if (data.size() & 1) {
            const uint8_t pad = 0;
            VTL_TRY(out.write(&pad, 1));
        }
        return out.write(word, 4);
    });
}

}  // namespace vtl::storage
