// Big-endian field access: the only place SCSI byte order is spelled out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vtl::scsi {

inline void put_be16(uint8_t* p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
inline void put_be24(uint8_t* p, uint32_t v) { p[0] = v >> 16; p[1] = v >> 8; p[2] = v; }
inline void put_be32(uint8_t* p, uint32_t v) {
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
inline void put_be64(uint8_t* p, uint64_t v) {
    put_be32(p, static_cast<uint32_t>(v >> 32));
    put_be32(p + 4, static_cast<uint32_t>(v));
}

inline uint16_t get_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t get_be24(const uint8_t* p) { return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]; }
inline uint32_t get_be32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline uint64_t get_be64(const uint8_t* p) { return uint64_t(get_be32(p)) << 32 | get_be32(p + 4); }

// Appends big-endian fields to a growing buffer; pages are built with it.
class ByteWriter {
public:
    explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
    size_t size() const { return out_.size(); }
    ByteWriter& u8(uint8_t v) { out_.push_back(v); return *this; }
    ByteWriter& be16(uint16_t v) { grow(2); put_be16(end(2), v); return *this; }
    ByteWriter& be24(uint32_t v) { grow(3); put_be24(end(3), v); return *this; }
    ByteWriter& be32(uint32_t v) { grow(4); put_be32(end(4), v); return *this; }
    ByteWriter& be64(uint64_t v) { grow(8); put_be64(end(8), v); return *this; }
    ByteWriter& zeros(size_t n) { out_.insert(out_.end(), n, 0); return *this; }
    ByteWriter& bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); return *this; }
    // ASCII field of exactly `width` bytes, space padded on the right, truncated if longer.
    ByteWriter& ascii(std::string_view s, size_t width) {
        for (size_t i = 0; i < width; ++i) out_.push_back(i < s.size() ? uint8_t(s[i]) : uint8_t(' '));
        return *this;
    }
    // Back-patch a length field written earlier (e.g. a page length once the body is known).
    void patch_be16(size_t at, uint16_t v) { put_be16(out_.data() + at, v); }
    void patch_be24(size_t at, uint32_t v) { put_be24(out_.data() + at, v); }
    void patch_be32(size_t at, uint32_t v) { put_be32(out_.data() + at, v); }
    void patch_u8(size_t at, uint8_t v) { out_[at] = v; }

private:
    void grow(size_t n) { out_.resize(out_.size() + n); }
    uint8_t* end(size_t n) { return out_.data() + out_.size() - n; }
    std::vector<uint8_t>& out_;
};

}  // namespace vtl::scsi
