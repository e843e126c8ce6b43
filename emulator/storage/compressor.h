// Per-record zstd compression for drives with data compression on (mode page 0Fh). A record is
// stored compressed only when its frame is strictly smaller than the data; frames carry zstd's
// content checksum so a decompression is checked end to end, not only the stored bytes' CRC.
// A long record is judged by a sample first: when a few chunks of it do not shrink by a 32nd,
// the record is stored raw without the whole pass (encrypted or already compressed data, where
// that pass is wasted; a real drive's compressor likewise falls back to pass-through).
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
    // a byte, or when `data` is at least kSampleFrom bytes and its sample does not shrink. Uses
    // one buffer of at most data.size() bytes, kept for the next record.
    std::span<const uint8_t> compress(std::span<const uint8_t> data);

    // Decompresses `frame`, whose content is `length` bytes, into `out` (which may be shorter:
    // the rest is decompressed into a small scratch and dropped, so the checksum is still
    // verified). false with `why` when the frame is bad or its content is not `length` bytes.
    bool decompress(std::span<const uint8_t> frame, std::span<uint8_t> out, uint32_t length, std::string& why);

    // Records this long or longer are sampled first: kSampleChunks chunks of kSampleChunk bytes,
    // which must compress by at least 1/kSampleSaving.
    static constexpr size_t kSampleFrom = 32 * 1024;
    static constexpr size_t kSampleChunk = 4 * 1024;
    static constexpr size_t kSampleChunks = 4;
    static constexpr size_t kSampleSaving = 32;

private:
    bool sample_shrinks(std::span<const uint8_t> data);

    int level_;
    ZSTD_CCtx_s* cctx_ = nullptr;
    ZSTD_DCtx_s* dctx_ = nullptr;
    std::vector<uint8_t> buffer_;
    std::vector<uint8_t> discard_;
    std::vector<uint8_t> sample_;
};

}  // namespace vtl::storage
