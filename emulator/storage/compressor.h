// Per-record zstd compression for drives with data compression on (mode page 0Fh). A record is
// stored compressed only when its frame is strictly smaller than the data; frames carry zstd's
// content checksum so a decompression is checked end to end, not only the stored bytes' CRC.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace vtl::storage {

class Compressor {
public:
    explicit Compressor(int level);
    ~Compressor();
    Compressor(const Compressor&) = delete;
    Compressor& operator=(const Compressor&) = delete;

    // The frame for `data`, valid until the next call; empty when compressing would not save
    // a byte. Uses one buffer of at most data.size() bytes, kept for the next record.
    std::span<const uint8_t> compress(std::span<const uint8_t> data);

    // Decompresses `frame`, whose content is `length` bytes, into `out` (which may be shorter:
    // the rest is decompressed into a small scratch and dropped, so the checksum is still
    // verified). false with `why` when the frame is bad or its content is not `length` bytes.
    bool decompress(std::span<const uint8_t> frame, std::span<uint8_t> out, uint32_t length, std::string& why);

private:
    int level_;
    ZSTD_CCtx_s* cctx_ = nullptr;
    ZSTD_DCtx_s* dctx_ = nullptr;
    std::vector<uint8_t> buffer_;
    std::vector<uint8_t> discard_;
};

}  // namespace vtl::storage
