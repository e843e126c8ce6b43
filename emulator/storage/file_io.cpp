#include "storage/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vtl::storage {

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

Error io_error(std::string_view what, int err) {
    return make_error(Errc::Io, "{}: {}", what, std::strerror(err));
}

Result<Fd> open_at(int dir, const std::string& name, int flags, mode_t mode) {
    int fd;
    do {
        fd = ::openat(dir, name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) return make_error(Errc::NotFound, "{}: no such file", name);
        if (err == ELOOP) return make_error(Errc::InvalidArgument, "{}: is a symbolic link; refused", name);
        return io_error(fmt::format("open {}", name), err);
    }
    return Fd(fd);
}

Result<Fd> open_dir(int dir, const std::string& name) {
    auto fd = open_at(dir, name, O_RDONLY | O_DIRECTORY);
    if (!fd.ok() && fd.error().code == Errc::Io && fd.error().message.find("Not a directory") != std::string::npos) {
        return make_error(Errc::InvalidArgument, "{}: not a directory", name);
    }
    return fd;
}

Result<size_t> read_some(int fd, void* data, size_t size, uint64_t offset, std::string_view what) {
    auto* p = static_cast<uint8_t*>(data);
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::pread(fd, p + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error(fmt::format("read {} at offset {}", what, offset + done), errno);
        }
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    return done;
}

Result<void> read_exact(int fd, void* data, size_t size, uint64_t offset, std::string_view what) {
    auto n = read_some(fd, data, size, offset, what);
    if (!n.ok()) return n.error();
    if (*n != size) {
        return make_error(Errc::Io, "read {} at offset {}: file ends after {} of {} bytes", what, offset, *n, size);
    }
    return {};
}

Result<void> write_all(int fd, const void* data, size_t size, uint64_t offset, std::string_view what) {
    iovec iov{const_cast<void*>(data), size};
    return writev_all(fd, &iov, 1, offset, what);
}

namespace {

// Drops `n` transferred bytes from the front of an iovec array.
void consume(iovec*& iov, int& count, size_t n) {
    while (count > 0 && n >= iov->iov_len) {
        n -= iov->iov_len;
        ++iov;
        --count;
    }
    if (count > 0) {
        iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + n;
        iov->iov_len -= n;
    }
}

}  // namespace

Result<void> writev_all(int fd, iovec* iov, int count, uint64_t offset, std::string_view what) {
    while (count > 0 && iov->iov_len == 0) ++iov, --count;
    while (count > 0) {
        const ssize_t n = ::pwritev(fd, iov, count, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error(fmt::format("write {} at offset {}", what, offset), errno);
        }
        offset += static_cast<uint64_t>(n);
        consume(iov, count, static_cast<size_t>(n));
        while (count > 0 && iov->iov_len == 0) ++iov, --count;
    }
    return {};
}

Result<size_t> readv_some(int fd, iovec* iov, int count, uint64_t offset, std::string_view what) {
    size_t total = 0;
    while (count > 0 && iov->iov_len == 0) ++iov, --count;
    while (count > 0) {
        const ssize_t n = ::preadv(fd, iov, count, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error(fmt::format("read {} at offset {}", what, offset), errno);
        }
        if (n == 0) break;
        offset += static_cast<uint64_t>(n);
        total += static_cast<size_t>(n);
        consume(iov, count, static_cast<size_t>(n));
        while (count > 0 && iov->iov_len == 0) ++iov, --count;
    }
    return total;
}

Result<uint64_t> file_size(int fd, std::string_view what) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return io_error(fmt::format("stat {}", what), errno);
    return static_cast<uint64_t>(st.st_size);
}

Result<void> truncate_file(int fd, uint64_t size, std::string_view what) {
    while (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        if (errno != EINTR) return io_error(fmt::format("truncate {} to {} bytes", what, size), errno);
    }
    return {};
}

Result<void> data_sync(int fd, std::string_view what) {
    while (::fdatasync(fd) != 0) {
        if (errno != EINTR) return io_error(fmt::format("fdatasync {}", what), errno);
    }
    return {};
}

Result<void> full_sync(int fd, std::string_view what) {
    while (::fsync(fd) != 0) {
        if (errno != EINTR) return io_error(fmt::format("fsync {}", what), errno);
    }
    return {};
}

Result<void> replace_file(int dir, const std::string& name, std::span<const uint8_t> data) {
    const std::string tmp = name + ".tmp";
    {
        auto fd = open_at(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC);
        if (!fd.ok()) return fd.error();
        VTL_TRY(write_all(fd->get(), data.data(), data.size(), 0, tmp));
        VTL_TRY(data_sync(fd->get(), tmp));
    }
    if (::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
        return io_error(fmt::format("rename {} to {}", tmp, name), errno);
    }
    return full_sync(dir, "cartridge directory");
}

Result<std::string> read_small_file(int dir, const std::string& name, size_t limit) {
    auto fd = open_at(dir, name, O_RDONLY);
    if (!fd.ok()) return fd.error();
    auto size = file_size(fd->get(), name);
    if (!size.ok()) return size.error();
    if (*size > limit) return make_error(Errc::FormatCorrupted, "{} is {} bytes; at most {} expected", name, *size, limit);
    std::string out(*size, '\0');
    auto n = read_some(fd->get(), out.data(), out.size(), 0, name);
    if (!n.ok()) return n.error();
    out.resize(*n);
    return out;
}

void remove_tree(int dir, const std::string& name) {
    auto sub = open_dir(dir, name);
    if (sub.ok()) {
        const int copy = ::dup(sub->get());
        if (DIR* d = copy >= 0 ? ::fdopendir(copy) : nullptr) {
            std::vector<std::string> names;
            while (dirent* e = ::readdir(d)) {
                const std::string n = e->d_name;
                if (n != "." && n != "..") names.push_back(n);
            }
            ::closedir(d);
            for (const auto& n : names) {
                if (::unlinkat(sub->get(), n.c_str(), 0) != 0 && errno == EISDIR) remove_tree(sub->get(), n);
            }
        } else if (copy >= 0) {
            ::close(copy);
        }
    }
    ::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
}

}  // namespace vtl::storage
