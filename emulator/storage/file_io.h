// Thin, EINTR- and short-transfer-safe wrappers over the POSIX calls the store needs, each
// returning an Error that names the file and the operation. Files are opened relative to a
// directory descriptor with O_NOFOLLOW, so a symlink planted in a cartridge directory is refused.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "storage/result.h"

namespace vtl::storage {

// An owned file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_ = -1;
};

Error io_error(std::string_view what, int err);

// open(2) relative to `dir` (AT_FDCWD for a path), always O_CLOEXEC | O_NOFOLLOW.
Result<Fd> open_at(int dir, const std::string& name, int flags, mode_t mode = 0644);
// Opens a directory (O_DIRECTORY | O_NOFOLLOW).
Result<Fd> open_dir(int dir, const std::string& name);

// Reads exactly `size` bytes at `offset`; a short file is an Io error naming `what`.
Result<void> read_exact(int fd, void* data, size_t size, uint64_t offset, std::string_view what);
// Reads up to `size` bytes; returns how many (fewer only at end of file).
Result<size_t> read_some(int fd, void* data, size_t size, uint64_t offset, std::string_view what);
Result<void> write_all(int fd, const void* data, size_t size, uint64_t offset, std::string_view what);
// pwritev until every byte of every iovec is written (the array is modified).
Result<void> writev_all(int fd, iovec* iov, int count, uint64_t offset, std::string_view what);
// preadv; returns the bytes read (fewer only at end of file; the array is modified).
Result<size_t> readv_some(int fd, iovec* iov, int count, uint64_t offset, std::string_view what);

Result<uint64_t> file_size(int fd, std::string_view what);
Result<void> truncate_file(int fd, uint64_t size, std::string_view what);
Result<void> data_sync(int fd, std::string_view what);  // fdatasync
Result<void> full_sync(int fd, std::string_view what);  // fsync (directories)

// Replaces dir/name atomically and durably: write name.tmp, fsync it, rename over name, fsync dir.
Result<void> replace_file(int dir, const std::string& name, std::span<const uint8_t> data);
// Whole small file; NotFound when it does not exist.
Result<std::string> read_small_file(int dir, const std::string& name, size_t limit);

// Removes a directory tree this store created (temporary import or creation directories).
void remove_tree(int dir, const std::string& name);

}  // namespace vtl::storage
