#include "storage/mapped_reader.h"

#include <linux/magic.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#include "storage/crc32c.h"
#include "storage/file_io.h"

namespace vtl::storage {

namespace {

constexpr uint64_t kWindowAlignment = 2u << 20;  // a multiple of any page size, huge pages included

const uintptr_t kPageSize = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));

// The copy in progress on this thread, and where to go if it faults.
struct Guard {
    sigjmp_buf jump;
    const uint8_t* begin;
    const uint8_t* end;
};
thread_local Guard* t_guard = nullptr;
struct sigaction g_previous {};

void on_bus_error(int signal, siginfo_t* info, void* context) {
    Guard* guard = t_guard;
    const auto* address = static_cast<const uint8_t*>(info->si_addr);
    if (guard && info->si_code > 0 && address >= guard->begin && address < guard->end) siglongjmp(guard->jump, 1);
    // Not a guarded copy's fault: whoever had SIGBUS before takes it. A handler is called as
    // the kernel would have; the default (the process ends with a core) is put back, and
    // returning runs the faulting access again under it.
    if ((g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_sigaction) {
        g_previous.sa_sigaction(signal, info, context);
        return;
    }
    if (!(g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
        g_previous.sa_handler(signal);
        return;
    }
    ::sigaction(SIGBUS, &g_previous, nullptr);
    if (info->si_code <= 0) ::raise(signal);  // sent, not a fault: nothing would repeat it
}

void install_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction action {};
        action.sa_sigaction = on_bus_error;
        // SA_NODEFER: SIGBUS is not blocked in the handler, so leaving it by siglongjmp needs no
        // signal mask restore (sigsetjmp(..., 0) below saves none, which saves a system call).
        action.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGBUS, &action, &g_previous);
    });
}

// Out of line and without objects that have destructors: a bus error leaves it by siglongjmp.
__attribute__((noinline)) bool guarded_copy(Guard& guard, const uint8_t* source, std::span<uint8_t> data,
                                            std::span<uint8_t> tail, uint32_t& crc) {
    if (sigsetjmp(guard.jump, 0) != 0) {
        t_guard = nullptr;
        return false;
    }
    t_guard = &guard;
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the handler sees the guard before any access
    crc = crc32c_copy(data.data(), source, data.size());
    if (!tail.empty()) std::memcpy(tail.data(), source + data.size(), tail.size());
    std::atomic_signal_fence(std::memory_order_seq_cst);  // and keeps it until the last one
    t_guard = nullptr;
    return true;
}

bool coherent_file_system(int fd) {
    struct statfs fs {};
    if (::fstatfs(fd, &fs) != 0) return false;
    switch (static_cast<unsigned long>(fs.f_type)) {
        case EXT4_SUPER_MAGIC:  // ext2 and ext3 too
        case XFS_SUPER_MAGIC:
        case BTRFS_SUPER_MAGIC:
        case F2FS_SUPER_MAGIC:
        case TMPFS_MAGIC:
        case OVERLAYFS_SUPER_MAGIC:
            return true;
        default:
            return false;
    }
}

}  // namespace

MappedReader::MappedReader(int fd) : fd_(fd), unusable_(!coherent_file_system(fd)) {}

MappedReader::~MappedReader() { reset(); }

void MappedReader::reset() {
    if (base_) ::munmap(base_, length_);
    base_ = nullptr;
    length_ = 0;
    touched_begin_ = touched_end_ = nullptr;
}

bool MappedReader::prepare(uint64_t offset, size_t size) {
    if (unusable_) return false;
    if (base_ && offset >= base_offset_ && offset + size <= base_offset_ + length_) return true;
    reset();
    install_handler();
    const uint64_t start = offset & ~(kWindowAlignment - 1);
    const size_t needed = (offset + size - start + kPageSize - 1) & ~(kPageSize - 1);
    const size_t length = std::max(kWindow, needed);
    void* p = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd_, static_cast<off_t>(start));
    if (p == MAP_FAILED) {
        unusable_ = true;  // e.g. a file system without mmap: pread serves every read
        return false;
    }
    ::madvise(p, length, MADV_SEQUENTIAL);  // faults read ahead like sequential pread does
    base_ = static_cast<uint8_t*>(p);
    base_offset_ = start;
    length_ = length;
    return true;
}

bool MappedReader::resident(uint64_t offset, size_t size) {
    const uintptr_t from = reinterpret_cast<uintptr_t>(base_ + (offset - base_offset_)) & ~(kPageSize - 1);
    const uintptr_t to = reinterpret_cast<uintptr_t>(base_ + (offset - base_offset_) + size);
    pages_.resize((to - from + kPageSize - 1) / kPageSize);
    if (::mincore(reinterpret_cast<void*>(from), to - from, pages_.data()) != 0) return false;
    return std::all_of(pages_.begin(), pages_.end(), [](unsigned char p) { return p & 1; });
}

Result<uint32_t> MappedReader::read(uint64_t offset, std::span<uint8_t> data, std::span<uint8_t> tail,
                                    std::string_view what) {
    const uint8_t* source = base_ + (offset - base_offset_);
    const size_t size = data.size() + tail.size();
    Guard guard{{}, source, source + size};
    uint32_t crc = 0;
    if (!guarded_copy(guard, source, data, tail, crc)) {
        reset();
        auto file = file_size(fd_, what);
        if (file.ok() && *file < offset + size) {
            return make_error(Errc::FormatCorrupted, "{} offset {}: file ends at {}, inside the {} bytes read there",
                              what, offset, *file, size);
        }
        return make_error(Errc::Io,
                          "{} offset {}: bus error reading {} bytes through the mapping (the disk could "
                          "not deliver a page)",
                          what, offset, size);
    }
    release_behind(source, source + size);
    return crc;
}

void MappedReader::release_behind(const uint8_t* begin, const uint8_t* end) {
    if (touched_begin_) {
        touched_begin_ = std::min(touched_begin_, begin);
        touched_end_ = std::max(touched_end_, end);
    } else {
        touched_begin_ = begin;
        touched_end_ = end;
    }
    if (static_cast<size_t>(touched_end_ - touched_begin_) < kReleaseEvery) return;
    const uintptr_t from = reinterpret_cast<uintptr_t>(touched_begin_) & ~(kPageSize - 1);
    const uintptr_t to = reinterpret_cast<uintptr_t>(touched_end_) & ~(kPageSize - 1);  // the last page is read on
    if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
    touched_begin_ = reinterpret_cast<const uint8_t*>(to);
}

}  // namespace vtl::storage
