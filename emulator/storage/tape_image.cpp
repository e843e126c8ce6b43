#include "storage/tape_image.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "storage/aws_image.h"
#include "storage/file_io.h"
#include "storage/simh_image.h"

namespace vtl::storage {

namespace {
constexpr size_t kBuffer = 1u << 20;
constexpr size_t kFirstRecordBuffer = 256 * 1024;
}  // namespace

std::string_view to_string(ImageFormat format) { return format == ImageFormat::Simh ? "SIMH" : "AWSTAPE"; }

std::optional<ImageFormat> image_format_from_path(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".tap") return ImageFormat::Simh;
    if (ext == ".aws") return ImageFormat::Aws;
    return std::nullopt;
}

ImageInput::ImageInput(int fd) : fd_(fd), buffer_(kBuffer) {}

void ImageInput::seek(uint64_t offset) {
    offset_ = offset;
    pos_ = len_ = 0;
}

Result<size_t> ImageInput::read(void* out, size_t size) {
    auto* p = static_cast<uint8_t*>(out);
    size_t done = 0;
    while (done < size) {
        if (pos_ == len_) {
            // Large reads bypass the buffer.
            if (size - done >= buffer_.size()) {
                auto n = read_some(fd_, p + done, size - done, offset_, "image");
                if (!n.ok()) return n.error();
                offset_ += *n;
                return done + *n;
            }
            auto n = read_some(fd_, buffer_.data(), buffer_.size(), offset_, "image");
            if (!n.ok()) return n.error();
            if (*n == 0) break;
            pos_ = 0;
            len_ = *n;
        }
        const size_t take = std::min(size - done, len_ - pos_);
        std::memcpy(p + done, buffer_.data() + pos_, take);
        pos_ += take;
        done += take;
        offset_ += take;
    }
    return done;
}

ImageOutput::ImageOutput(int fd) : fd_(fd) { buffer_.reserve(kBuffer); }

Result<void> ImageOutput::write(const void* data, size_t size) {
    if (buffer_.size() + size > kBuffer) VTL_TRY(flush());
    if (size >= kBuffer) {
        VTL_TRY(write_all(fd_, data, size, offset_, "image"));
        offset_ += size;
        return {};
    }
    const auto* p = static_cast<const uint8_t*>(data);
    buffer_.insert(buffer_.end(), p, p + size);
    return {};
}

Result<void> ImageOutput::flush() {
    if (buffer_.empty()) return {};
    VTL_TRY(write_all(fd_, buffer_.data(), buffer_.size(), offset_, "image"));
    offset_ += buffer_.size();
    buffer_.clear();
    return {};
}

Result<void> read_image(int fd, ImageFormat format, ImageSink& sink) {
    ImageInput in(fd);
    return format == ImageFormat::Simh ? read_simh(in, sink) : read_aws(in, sink);
}

Result<void> write_image(Cartridge& cartridge, uint8_t partition, int fd, ImageFormat format) {
    ImageOutput out(fd);
    VTL_TRY(format == ImageFormat::Simh ? write_simh(cartridge, partition, out) : write_aws(cartridge, partition, out));
    return out.flush();
}

Result<void> export_image_file(Cartridge& cartridge, uint8_t partition, const std::filesystem::path& path,
                               ImageFormat format) {
    const std::string partial = path.string() + ".partial";
    const int raw = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (raw < 0) return io_error(fmt::format("create {}", partial), errno);
    Fd fd(raw);
    Result<void> done = write_image(cartridge, partition, fd.get(), format);
    if (done.ok()) done = data_sync(fd.get(), partial);
    if (done.ok() && ::rename(partial.c_str(), path.c_str()) != 0) {
        done = io_error(fmt::format("rename {} to {}", partial, path.string()), errno);
    }
    if (!done.ok()) {
        ::unlink(partial.c_str());
        return make_error(done.error().code, "export {} partition {} to {}: {}", cartridge.barcode(), partition,
                          path.string(), done.error().message);
    }
    return {};
}

Result<void> for_each_object(Cartridge& cartridge, uint8_t partition, const ObjectVisit& visit) {
    auto at = cartridge.locate(partition, 0);
    if (!at.ok()) return at.error();
    std::vector<uint8_t> buffer(kFirstRecordBuffer);
    for (uint64_t object = 0;; ++object) {
        auto r = cartridge.read_next(buffer);
        if (!r.ok()) return r.error();
        if (r->kind == ReadKind::EndOfData) return {};
        if (r->kind == ReadKind::Record && r->length > r->copied) {
            // Longer than the buffer: grow it and read the record again.
            buffer.resize(r->length);
            auto back = cartridge.locate(partition, object);
            if (!back.ok()) return back.error();
            r = cartridge.read_next(buffer);
            if (!r.ok()) return r.error();
        }
        const std::span<const uint8_t> data =
            r->kind == ReadKind::Record ? std::span<const uint8_t>(buffer.data(), r->length) : std::span<const uint8_t>();
        VTL_TRY(visit(r->kind, data, r->bad, object));
    }
}

}  // namespace vtl::storage
