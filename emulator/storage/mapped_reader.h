// Reads of large records through a read-only shared mapping of a records file. The bytes go
// from the page cache to the caller's buffer in one pass that also computes their CRC32C
// (crc32c_copy); pread would copy them in the kernel and the check would read them a second
// time, which costs about a tenth of a warm-cache read.
//
// The mapping is a window (kWindow bytes, moved when a read falls outside it), advised
// sequential so that page faults read ahead. Pages the reader has passed are unmapped from
// this process every kReleaseEvery bytes (the page cache keeps them), so the resident set stays
// within a record or two. A bus error while copying (the file was truncated by something else
// after we checked it, or the disk could not deliver a page) becomes an error for that read
// instead of ending the daemon.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "storage/result.h"

namespace vtl::storage {

class MappedReader {
public:
    static constexpr size_t kWindow = 64u << 20;
    static constexpr size_t kReleaseEvery = 1u << 20;

    // Mapped reads are used only on file systems whose page cache is the file's one cache, so
    // that a mapping sees every pwrite at once (ext4, XFS, Btrfs, F2FS, tmpfs, overlayfs over
    // them). Elsewhere (9p or FUSE without caching, for example) reads keep to pread.
    explicit MappedReader(int fd);
    ~MappedReader();
    MappedReader(const MappedReader&) = delete;
    MappedReader& operator=(const MappedReader&) = delete;

    // Maps the window holding [offset, offset + size) if it is not mapped yet. False when the
    // file system is not one of those or cannot map the file: the caller reads with pread.
    bool prepare(uint64_t offset, size_t size);

    // After prepare(offset, size): whether every page of the range is in the page cache. When
    // some are not, the disk is the cost and pread's read-ahead does better than page faults.
    bool resident(uint64_t offset, size_t size);

    // After prepare(offset, data.size() + tail.size()): copies the bytes at `offset` into `data`
    // and the ones after them into `tail`, and returns the CRC32C of `data`. A bus error is
    // FormatCorrupted when the file now ends before the range, else Io; `what` names the file.
    Result<uint32_t> read(uint64_t offset, std::span<uint8_t> data, std::span<uint8_t> tail, std::string_view what);

    // Unmaps the window: the partition is cut back (its data after the cut is gone, so the pages
    // need not stay mapped) or closed. A truncation needs no reset for correctness: the kernel
    // takes pages past the new end out of the mapping, and reads stay below the end of data.
    void reset();

private:
    void release_behind(const uint8_t* begin, const uint8_t* end);

    int fd_;
    bool unusable_ = false;
    std::vector<unsigned char> pages_;  // mincore's answer
    uint8_t* base_ = nullptr;
    uint64_t base_offset_ = 0;
    size_t length_ = 0;
    // Pages touched since they were last released: [touched_begin_, touched_end_).
    const uint8_t* touched_begin_ = nullptr;
    const uint8_t* touched_end_ = nullptr;
};

}  // namespace vtl::storage
