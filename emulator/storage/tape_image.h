// Tape images: files holding a tape's records and tape marks, for loading real tape dumps into
// cartridges and taking them out again. SIMH .tap and AWSTAPE .aws (simh_image.h, aws_image.h)
// share the plumbing here: a buffered input that knows its offset (every BadImage error names
// one), a buffered output, and a walk over a cartridge partition.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "storage/cartridge.h"
#include "storage/result.h"

namespace vtl::storage {

enum class ImageFormat { Simh, Aws };

std::string_view to_string(ImageFormat format);
// From the file name: .tap (SIMH), .aws (AWSTAPE).
std::optional<ImageFormat> image_format_from_path(const std::filesystem::path& path);

// Receives the objects of an image in order.
class ImageSink {
public:
    virtual ~ImageSink() = default;
    virtual Result<void> record(std::span<const uint8_t> data, bool bad) = 0;
    virtual Result<void> filemark() = 0;
};

class ImageInput {
public:
    explicit ImageInput(int fd);
    uint64_t offset() const { return offset_; }  // bytes consumed so far
    // Reads exactly `size` bytes; returns how many were read (fewer only at end of file).
    Result<size_t> read(void* out, size_t size);
    void seek(uint64_t offset);

private:
    int fd_;
    std::vector<uint8_t> buffer_;
    size_t pos_ = 0;
    size_t len_ = 0;
    uint64_t offset_ = 0;
};

class ImageOutput {
public:
    explicit ImageOutput(int fd);
    Result<void> write(const void* data, size_t size);
    Result<void> flush();

private:
    int fd_;
    std::vector<uint8_t> buffer_;
    uint64_t offset_ = 0;
};

// Reads a whole image, feeding `sink`; stops at the first malformed byte with a BadImage error.
Result<void> read_image(int fd, ImageFormat format, ImageSink& sink);
// Writes one partition of `cartridge`, from its beginning to its end of data.
Result<void> write_image(Cartridge& cartridge, uint8_t partition, int fd, ImageFormat format);
// write_image into `path`, replaced atomically (path.partial, fsync, rename).
Result<void> export_image_file(Cartridge& cartridge, uint8_t partition, const std::filesystem::path& path,
                               ImageFormat format);

// Each object of a partition in order: a record's bytes (and its bad flag) or, for a filemark,
// an empty span. Memory grows only to the largest record.
using ObjectVisit = std::function<Result<void>(ReadKind kind, std::span<const uint8_t> data, bool bad, uint64_t object)>;
Result<void> for_each_object(Cartridge& cartridge, uint8_t partition, const ObjectVisit& visit);

}  // namespace vtl::storage
