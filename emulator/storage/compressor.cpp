#include "storage/compressor.h"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>

namespace vtl::storage {

namespace {
constexpr size_t kDiscardChunk = 64 * 1024;
}  // namespace

bool Compressor::sample_shrinks(std::span<const uint8_t> data) {
    // Chunks spread over the record (first, last and evenly between), so a record is not judged
    // by its first bytes alone (a tar header before a compressed file, or the reverse).
    sample_.resize(kSampleChunks * kSampleChunk);
    const size_t step = (data.size() - kSampleChunk) / (kSampleChunks - 1);
    for (size_t i = 0; i < kSampleChunks; ++i) {
        std::copy_n(data.data() + i * step, kSampleChunk, sample_.data() + i * kSampleChunk);
    }
    // The frame must save at least 1/kSampleSaving of the sample: zstd fails with "destination
    // too small" otherwise.
    buffer_.resize(sample_.size() - sample_.size() / kSampleSaving);
    const size_t n = ZSTD_compress2(cctx_, buffer_.data(), buffer_.size(), sample_.data(), sample_.size());
    if (ZSTD_isError(n)) {
        ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_only);
        return false;
    }
    return true;
}

Compressor::Compressor(int level) : level_(level) {}

Compressor::~Compressor() {
    ZSTD_freeCCtx(cctx_);
    ZSTD_freeDCtx(dctx_);
}

std::span<const uint8_t> Compressor::compress(std::span<const uint8_t> data) {
    if (data.size() < 2) return {};
    if (!cctx_) {
        cctx_ = ZSTD_createCCtx();
        if (!cctx_) return {};
        ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_);
        ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
        ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1);
    }
    if (data.size() >= kSampleFrom && !sample_shrinks(data)) return {};
    // One byte less than the data: zstd fails with "destination too small" rather than
    // producing a frame that saves nothing.
    buffer_.resize(data.size() - 1);
    const size_t n = ZSTD_compress2(cctx_, buffer_.data(), buffer_.size(), data.data(), data.size());
    if (ZSTD_isError(n)) {
        ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_only);
        return {};
    }
    return {buffer_.data(), n};
}

bool Compressor::decompress(std::span<const uint8_t> frame, std::span<uint8_t> out, uint32_t length, std::string& why) {
    if (!dctx_) {
        dctx_ = ZSTD_createDCtx();
        if (!dctx_) {
            why = "cannot allocate a zstd decompression context";
            return false;
        }
    }
    const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
    if (content != length) {
        why = content == ZSTD_CONTENTSIZE_ERROR ? std::string("not a zstd frame")
                                                : fmt::format("zstd frame holds {} bytes, the header says {}", content, length);
        return false;
    }
    ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_only);
    if (out.size() >= length) {
        const size_t n = ZSTD_decompressDCtx(dctx_, out.data(), length, frame.data(), frame.size());
        if (ZSTD_isError(n) || n != length) {
            why = ZSTD_isError(n) ? fmt::format("zstd: {}", ZSTD_getErrorName(n))
                                  : fmt::format("zstd frame decompressed to {} bytes, expected {}", n, length);
            return false;
        }
        return true;
    }
    // The host asked for less than the record: fill its buffer, then run the rest through a
    // small scratch so the frame's checksum and length are still checked.
    ZSTD_inBuffer in{frame.data(), frame.size(), 0};
    size_t total = 0;
    size_t ret = 1;
    ZSTD_outBuffer first{out.data(), out.size(), 0};
    while (ret != 0 && first.pos < first.size) {
        ret = ZSTD_decompressStream(dctx_, &first, &in);
        if (ZSTD_isError(ret)) break;
        if (ret != 0 && in.pos == in.size && first.pos < first.size) break;
    }
    total = first.pos;
    if (!ZSTD_isError(ret) && ret != 0) {
        discard_.resize(kDiscardChunk);
        while (ret != 0) {
            ZSTD_outBuffer rest{discard_.data(), discard_.size(), 0};
            ret = ZSTD_decompressStream(dctx_, &rest, &in);
            total += rest.pos;
            if (ZSTD_isError(ret)) break;
            if (ret != 0 && in.pos == in.size && rest.pos < rest.size) break;  // truncated frame
        }
    }
    if (ZSTD_isError(ret)) {
        why = fmt::format("zstd: {}", ZSTD_getErrorName(ret));
        return false;
    }
    if (ret != 0 || total != length) {
        why = fmt::format("zstd frame decompressed to {} bytes, expected {}", total, length);
        return false;
    }
    return true;
}

}  // namespace vtl::storage
