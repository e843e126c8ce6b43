#include "storage/aws_image.h"

#include "storage/byte_order.h"
#include "storage/record_format.h"

namespace vtl::storage {

namespace {

constexpr uint8_t kStartOfRecord = 0x80;
constexpr uint8_t kTapeMark = 0x40;
constexpr uint8_t kEndOfRecord = 0x20;
constexpr size_t kHeader = 6;
constexpr size_t kMaxBlock = 0xFFFF;

Error bad(uint64_t offset, std::string_view what) {
    return make_error(Errc::BadImage, "AWSTAPE image offset {}: {}", offset, what);
}

}  // namespace

Result<void> read_aws(ImageInput& in, ImageSink& sink) {
    std::vector<uint8_t> record;
    bool in_record = false;
    uint64_t record_at = 0;
    uint16_t previous = 0;
    while (true) {
        const uint64_t at = in.offset();
        uint8_t h[kHeader];
        auto n = in.read(h, kHeader);
        if (!n.ok()) return n.error();
        if (*n == 0) {
            if (in_record) return bad(at, fmt::format("file ends inside the record that starts at {}", record_at));
            return {};
        }
        if (*n < kHeader) return bad(at, fmt::format("file ends {} bytes into a 6-byte block header", *n));
        const uint16_t length = get_le16(h);
        const uint16_t prev = get_le16(h + 2);
        const uint8_t flags = h[4];
        if (prev != previous) {
            return bad(at + 2, fmt::format("previous-block length {}, expected {} (the length of the block before)",
                                           prev, previous));
        }
        if (h[5] != 0 || (flags & ~(kStartOfRecord | kTapeMark | kEndOfRecord))) {
            return bad(at + 4, fmt::format("flags 0x{:02X}{:02X}; expected 0x80 (start of record), 0x40 (tape mark) "
                                           "or 0x20 (end of record) and a zero second byte",
                                           flags, h[5]));
        }
        if (flags & kTapeMark) {
            if (flags != kTapeMark || length != 0) {
                return bad(at, fmt::format("tape mark with length {} and flags 0x{:02X}; expected length 0, flags 0x40",
                                           length, flags));
            }
            if (in_record) return bad(at, fmt::format("tape mark inside the record that starts at {}", record_at));
            VTL_TRY(sink.filemark());
            previous = 0;
            continue;
        }
        if (flags & kStartOfRecord) {
            if (in_record) {
                return bad(at + 4, fmt::format("start of record inside the record that starts at {}", record_at));
            }
            in_record = true;
            record_at = at;
            record.clear();
        } else if (!in_record) {
            return bad(at + 4, fmt::format("block without the start-of-record flag 0x80 outside a record (flags 0x{:02X})",
                                           flags));
        }
        if (length == 0) return bad(at, "data block of length 0");
        if (record.size() + length > kMaxRecordLength) {
            return bad(at, fmt::format("the record that starts at {} grows beyond {} bytes", record_at, kMaxRecordLength));
        }
        const size_t have = record.size();
        record.resize(have + length);
        auto got = in.read(record.data() + have, length);
        if (!got.ok()) return got.error();
        if (*got < length) {
            return bad(at + kHeader, fmt::format("block of {} bytes is cut short: the file ends after {}", length, *got));
        }
        previous = length;
        if (flags & kEndOfRecord) {
            VTL_TRY(sink.record(record, false));
            in_record = false;
        }
    }
}

Result<void> write_aws(Cartridge& cartridge, uint8_t partition, ImageOutput& out) {
    uint16_t previous = 0;
    auto header = [&](uint16_t length, uint8_t flags) {
        uint8_t h[kHeader];
        put_le16(h, length);
        put_le16(h + 2, previous);
        h[4] = flags;
        h[5] = 0;
        previous = length;
        return out.write(h, kHeader);
    };
    return for_each_object(cartridge, partition, [&](ReadKind kind, std::span<const uint8_t> data, bool bad_record,
                                                     uint64_t object) -> Result<void> {
        if (kind == ReadKind::Filemark) return header(0, kTapeMark);
        if (bad_record) {
            return make_error(Errc::InvalidArgument, "object {} is a record marked unreadable, which AWSTAPE cannot hold",
                              object);
        }
        for (size_t done = 0; done < data.size();) {
            const size_t n = std::min(kMaxBlock, data.size() - done);
            const uint8_t flags = static_cast<uint8_t>((done == 0 ? kStartOfRecord : 0) |
                                                       (done + n == data.size() ? kEndOfRecord : 0));
            VTL_TRY(header(static_cast<uint16_t>(n), flags));
            VTL_TRY(out.write(data.data() + done, n));
            done += n;
        }
        return Result<void>{};
    });
}

}  // namespace vtl::storage
