#include "storage/cartridge.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "storage/compressor.h"
#include "storage/crc32c.h"
#include "storage/partition.h"

namespace vtl::storage {

namespace {

constexpr size_t kChunk = 1u << 20;  // bound on the scratch used to check a record's unread tail
// Records from this size on are read through the mapping; below it one pread costs less than
// the CRC pass it would save.
constexpr size_t kMappedReadMinimum = 64 * 1024;
constexpr size_t kFenceFileLimit = 64 * 1024;

std::shared_ptr<spdlog::logger> storage_logger() {
    auto log = spdlog::get("vtl");
    return log ? log : spdlog::default_logger();
}

std::optional<Errc> errc_from_string(std::string_view name) {
    for (Errc c : {Errc::FormatCorrupted, Errc::UnrecoveredRead}) {
        if (name == to_string(c)) return c;
    }
    return std::nullopt;
}

bool all_zero(std::span<const uint8_t> bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

Result<std::vector<uint64_t>> resolve_layout(const Layout& layout) {
    if (layout.capacity == 0) return make_error(Errc::InvalidArgument, "capacity must be at least 1 byte");
    if (layout.partitions.empty()) return std::vector<uint64_t>{layout.capacity};
    if (layout.partitions.size() > kMaxPartitions) {
        return make_error(Errc::InvalidArgument, "{} partitions; at most {}", layout.partitions.size(), kMaxPartitions);
    }
    uint64_t sum = 0;
    size_t zeros = 0;
    for (uint64_t size : layout.partitions) {
        if (size == 0) ++zeros;
        if (size > layout.capacity - sum) {
            return make_error(Errc::InvalidArgument, "partition sizes exceed the capacity of {} bytes", layout.capacity);
        }
        sum += size;
    }
    if (zeros > 1) return make_error(Errc::InvalidArgument, "only one partition may take the remaining capacity (size 0)");
    std::vector<uint64_t> sizes = layout.partitions;
    if (zeros == 1) {
        if (sum == layout.capacity) {
            return make_error(Errc::InvalidArgument, "no capacity is left for the partition of size 0");
        }
        *std::find(sizes.begin(), sizes.end(), 0) = layout.capacity - sum;
    }
    return sizes;
}

Result<void> Cartridge::create(int dir, std::string_view barcode, const Layout& layout) {
    auto sizes = resolve_layout(layout);
    if (!sizes.ok()) return sizes.error();
    HeaderState s;
    s.sequence = 1;
    s.barcode = std::string(barcode);
    s.created = static_cast<uint64_t>(std::time(nullptr));
    s.capacity = layout.capacity;
    s.partition_count = static_cast<uint32_t>(sizes->size());
    for (size_t i = 0; i < sizes->size(); ++i) s.partitions[i].capacity = (*sizes)[i];

    std::vector<uint8_t> file(kHeaderFileSize, 0);
    const auto slot = encode_header_slot(s);
    std::copy(slot.begin(), slot.end(), file.begin() + header_slot_for(s.sequence) * kHeaderSlotSize);
    auto fd = open_at(dir, kHeaderName, O_RDWR | O_CREAT | O_TRUNC);
    if (!fd.ok()) return fd.error();
    VTL_TRY(write_all(fd->get(), file.data(), file.size(), 0, kHeaderName));
    VTL_TRY(full_sync(fd->get(), kHeaderName));
    for (uint8_t i = 0; i < s.partition_count; ++i) VTL_TRY(Partition::create_files(dir, i));
    return {};
}

Result<std::unique_ptr<Cartridge>> Cartridge::open(Fd dir, std::string barcode, CartridgeOptions options) {
    std::unique_ptr<Cartridge> c(new Cartridge());
    c->barcode_ = std::move(barcode);
    c->options_ = std::move(options);
    c->log_ = storage_logger();
    c->dir_ = std::move(dir);

    // A fence found earlier stays until an operator clears it (Store::clear_fence).
    auto fenced = read_small_file(c->dir_.get(), kFenceName, kFenceFileLimit);
    if (fenced.ok()) {
        const auto newline = fenced->find('\n');
        const auto code = errc_from_string(std::string_view(*fenced).substr(0, newline));
        std::string reason = newline == std::string::npos ? std::string() : fenced->substr(newline + 1);
        while (!reason.empty() && reason.back() == '\n') reason.pop_back();
        c->fence_ = Error{code.value_or(Errc::FormatCorrupted),
                          fmt::format("cartridge {}: fenced earlier: {}", c->barcode_, reason)};
        c->log_->error("[storage] cartridge {} is fenced ({}): {}", c->barcode_, Cartridge::kFenceName, reason);
        return c;
    }
    if (fenced.error().code != Errc::NotFound) return fenced.error();

    auto header = open_at(c->dir_.get(), kHeaderName, O_RDWR);
    if (!header.ok()) {
        if (header.error().code != Errc::NotFound) return header.error();
        c->fail(make_error(Errc::FormatCorrupted, "{}: file is missing", kHeaderName));
        return c;
    }
    c->header_fd_ = std::move(*header);
    std::vector<uint8_t> bytes(kHeaderFileSize);
    auto n = read_some(c->header_fd_.get(), bytes.data(), bytes.size(), 0, kHeaderName);
    if (!n.ok()) return n.error();
    bytes.resize(*n);

    SlotDecode slots[2];
    for (size_t i = 0; i < 2; ++i) {
        const size_t at = i * kHeaderSlotSize;
        const size_t have = bytes.size() > at ? std::min(kHeaderSlotSize, bytes.size() - at) : 0;
        slots[i] = decode_header_slot(std::span<const uint8_t>(bytes.data() + at, have));
    }
    int best = -1;
    for (int i = 0; i < 2; ++i) {
        if (slots[i].state && (best < 0 || slots[i].state->sequence > slots[best].state->sequence)) best = i;
    }
    if (best < 0) {
        const bool unsupported = slots[0].unsupported || slots[1].unsupported;
        c->fail(make_error(unsupported ? Errc::UnsupportedFormat : Errc::FormatCorrupted,
                           "{}: no valid slot (offset 0: {}; offset {}: {})", kHeaderName, slots[0].why,
                           kHeaderSlotSize, slots[1].why));
        return c;
    }
    const int other = 1 - best;
    const size_t other_at = other * kHeaderSlotSize;
    if (!slots[other].state && !(bytes.size() >= other_at + kHeaderSlotSize &&
                                 all_zero(std::span<const uint8_t>(bytes.data() + other_at, kHeaderSlotSize)))) {
        // Normal after a crash during a header write; worth a line in case it is damage.
        c->log_->warn("[storage] cartridge {}: {} offset {}: slot unreadable ({}); using the slot at offset {} "
                      "(sequence {})",
                      c->barcode_, kHeaderName, other_at, slots[other].why, best * kHeaderSlotSize,
                      slots[best].state->sequence);
    }
    if (slots[best].state->barcode != c->barcode_) {
        c->fail(make_error(Errc::FormatCorrupted, "{} offset {}: names cartridge \"{}\", not {}", kHeaderName,
                           best * kHeaderSlotSize + 48, slots[best].state->barcode, c->barcode_));
        return c;
    }
    c->header_ = *slots[best].state;

    if (auto opened = c->open_partitions(); !opened.ok()) {
        if (!is_medium_error(opened.error().code)) return opened.error();
        c->fail(opened.error());
        return c;
    }
    auto mam = Mam::load(c->dir_.get());
    if (!mam.ok()) {
        if (!is_medium_error(mam.error().code)) return mam.error();
        c->fail(mam.error());
        return c;
    }
    c->mam_ = std::move(*mam);

    // Objects recovered after the last sync point become a sync point of their own, so the
    // next open does not scan them again.
    bool recovered = false;
    for (const auto& p : c->partitions_) recovered |= p->dirty();
    if (recovered) {
        if (auto synced = c->sync(); !synced.ok()) return synced.error();
    }
    if (auto moved = c->move_to(0, 0); !moved.ok() && !c->fence_) return moved.error();
    return c;
}

Cartridge::~Cartridge() {
    if (fence_ || partitions_.empty()) return;
    if (options_.sync_on_close) {
        if (auto r = sync(); !r.ok()) log_->error("[storage] cartridge {}: sync on close failed: {}", barcode_, r.error().message);
    }
    if (mam_ && mam_->dirty()) {
        if (auto r = mam_->commit(); !r.ok()) {
            log_->error("[storage] cartridge {}: MAM commit on close failed: {}", barcode_, r.error().message);
        }
    }
}

Result<void> Cartridge::open_partitions() {
    partitions_.clear();
    for (uint8_t i = 0; i < header_.partition_count; ++i) {
        RecoveryReport report;
        auto p = Partition::open(dir_.get(), i, header_.partitions[i], &options_.crash_point, report);
        if (!p.ok()) return p.error();
        if (report.recovered || report.dropped_bytes) {
            log_->info("[storage] cartridge {}: partition {}: kept {} objects written after the last sync point; "
                       "end of data at offset {}{}",
                       barcode_, i, report.recovered, (*p)->end_offset(),
                       report.dropped_bytes ? fmt::format("; {} bytes of torn tail at {} offset {} ignored ({})",
                                                          report.dropped_bytes, Partition::records_name(i),
                                                          report.dropped_at, report.why)
                                            : std::string());
        }
        partitions_.push_back(std::move(*p));
    }
    return {};
}

Error Cartridge::fail(Error error) {
    const bool medium = is_medium_error(error.code);
    if (!medium && error.code != Errc::UnsupportedFormat) return error;
    if (!fence_) {
        fence_ = Error{error.code, fmt::format("cartridge {}: {}", barcode_, error.message)};
        log_->error("[storage] cartridge {} fenced ({}): {}", barcode_, to_string(error.code), error.message);
        if (medium) {
            const std::string text = fmt::format("{}\n{}\n", to_string(error.code), error.message);
            auto saved = replace_file(dir_.get(), kFenceName,
                                      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
            if (!saved.ok()) {
                log_->warn("[storage] cartridge {}: could not record the fence: {}", barcode_, saved.error().message);
            }
        }
    }
    return *fence_;
}

Result<void> Cartridge::check_fence() const {
    if (fence_) return *fence_;
    return {};
}

Partition* Cartridge::current() const {
    return cursor_.partition < partitions_.size() ? partitions_[cursor_.partition].get() : nullptr;
}

uint8_t Cartridge::partition_count() const { return static_cast<uint8_t>(header_.partition_count); }

Layout Cartridge::layout() const {
    Layout l{header_.capacity, {}};
    for (uint32_t i = 0; i < header_.partition_count; ++i) l.partitions.push_back(header_.partitions[i].capacity);
    return l;
}

uint64_t Cartridge::eod(uint8_t partition) const {
    return partition < partitions_.size() ? partitions_[partition]->objects() : 0;
}

uint64_t Cartridge::filemarks_before(Position position) const {
    return position.partition < partitions_.size() ? partitions_[position.partition]->filemarks_before(position.object)
                                                   : 0;
}

CapacityInfo Cartridge::capacity(uint8_t partition) const {
    if (partition >= partitions_.size()) return {};
    const Partition& p = *partitions_[partition];
    const uint64_t cap = p.capacity();
    const uint64_t margin = options_.early_warning_margin ? std::min(options_.early_warning_margin, cap) : cap / 50;
    return CapacityInfo{cap, p.used_bytes(), cap - margin, cap - std::min(kFilemarkReserve, margin)};
}

Compressor& Cartridge::compressor() {
    if (!compressor_) compressor_ = std::make_unique<Compressor>(options_.compression_level);
    return *compressor_;
}

Result<void> Cartridge::move_to(uint8_t partition, uint64_t object) {
    auto at = partitions_[partition]->locate(object);
    if (!at.ok()) return fail(at.error());
    cursor_ = Cursor{partition, object, at->offset};
    cursor_header_ = at->header;
    return {};
}

Result<LocateResult> Cartridge::locate(uint8_t partition, uint64_t object) {
    VTL_TRY(check_fence());
    if (partition >= partitions_.size()) {
        return make_error(Errc::InvalidArgument, "partition {} does not exist (the cartridge has {})", partition,
                          partitions_.size());
    }
    const uint64_t end = partitions_[partition]->objects();
    VTL_TRY(move_to(partition, std::min(object, end)));
    return LocateResult{object > end};
}

Result<SpaceResult> Cartridge::space_blocks(int64_t count) {
    VTL_TRY(check_fence());
    const Partition& part = *current();
    const auto& marks = part.filemarks();
    const uint64_t p = cursor_.object;
    const uint64_t end = part.objects();
    const auto next = std::lower_bound(marks.begin(), marks.end(), p);  // first filemark at or after p
    if (count >= 0) {
        const uint64_t n = static_cast<uint64_t>(count);
        const uint64_t mark = next == marks.end() ? end : *next;
        if (n <= mark - p) {
            VTL_TRY(move_to(cursor_.partition, p + n));
            return SpaceResult{n, SpaceStop::None};
        }
        if (mark < end) {
            VTL_TRY(move_to(cursor_.partition, mark + 1));
            return SpaceResult{mark - p, SpaceStop::Filemark};
        }
        VTL_TRY(move_to(cursor_.partition, end));
        return SpaceResult{end - p, SpaceStop::EndOfData};
    }
    const uint64_t n = uint64_t(0) - static_cast<uint64_t>(count);
    const bool has_mark = next != marks.begin();
    const uint64_t floor = has_mark ? *std::prev(next) + 1 : 0;  // first block after the previous filemark
    if (n <= p - floor) {
        VTL_TRY(move_to(cursor_.partition, p - n));
        return SpaceResult{n, SpaceStop::None};
    }
    VTL_TRY(move_to(cursor_.partition, has_mark ? floor - 1 : 0));
    return SpaceResult{p - floor, has_mark ? SpaceStop::Filemark : SpaceStop::BeginningOfPartition};
}

Result<SpaceResult> Cartridge::space_filemarks(int64_t count) {
    VTL_TRY(check_fence());
    const Partition& part = *current();
    const auto& marks = part.filemarks();
    const uint64_t before = part.filemarks_before(cursor_.object);
    if (count >= 0) {
        const uint64_t n = static_cast<uint64_t>(count);
        if (n == 0) return SpaceResult{};
        if (n <= marks.size() - before) {
            VTL_TRY(move_to(cursor_.partition, marks[before + n - 1] + 1));
            return SpaceResult{n, SpaceStop::None};
        }
        VTL_TRY(move_to(cursor_.partition, part.objects()));
        return SpaceResult{marks.size() - before, SpaceStop::EndOfData};
    }
    const uint64_t n = uint64_t(0) - static_cast<uint64_t>(count);
    if (n <= before) {
        VTL_TRY(move_to(cursor_.partition, marks[before - n]));
        return SpaceResult{n, SpaceStop::None};
    }
    VTL_TRY(move_to(cursor_.partition, 0));
    return SpaceResult{before, SpaceStop::BeginningOfPartition};
}

Result<SpaceResult> Cartridge::space_sequential_filemarks(int64_t count) {
    VTL_TRY(check_fence());
    const Partition& part = *current();
    const auto& marks = part.filemarks();
    const uint64_t before = part.filemarks_before(cursor_.object);
    if (count == 0) return SpaceResult{};
    if (count > 0) {
        const uint64_t n = static_cast<uint64_t>(count);
        for (uint64_t i = before; n <= marks.size() && i + n - 1 < marks.size(); ++i) {
            if (marks[i + n - 1] - marks[i] == n - 1) {
                VTL_TRY(move_to(cursor_.partition, marks[i + n - 1] + 1));
                return SpaceResult{n, SpaceStop::None};
            }
        }
        VTL_TRY(move_to(cursor_.partition, part.objects()));
        return SpaceResult{0, SpaceStop::EndOfData};
    }
    const uint64_t n = uint64_t(0) - static_cast<uint64_t>(count);
    // Runs that end before the position, nearest first: [j - n + 1, j].
    for (uint64_t j = before; n <= before && j-- >= n;) {
        if (marks[j] - marks[j - n + 1] == n - 1) {
            VTL_TRY(move_to(cursor_.partition, marks[j - n + 1]));
            return SpaceResult{n, SpaceStop::None};
        }
    }
    VTL_TRY(move_to(cursor_.partition, 0));
    return SpaceResult{0, SpaceStop::BeginningOfPartition};
}

Result<void> Cartridge::space_to_eod() {
    VTL_TRY(check_fence());
    return move_to(cursor_.partition, current()->objects());
}

Result<uint32_t> Cartridge::crc_of(int fd, uint64_t offset, uint64_t size, uint32_t crc, std::string_view what) {
    scratch_.resize(static_cast<size_t>(std::min<uint64_t>(size, kChunk)));
    for (uint64_t done = 0; done < size;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(size - done, scratch_.size()));
        VTL_TRY(read_exact(fd, scratch_.data(), n, offset + done, what));
        crc = crc32c(scratch_.data(), n, crc);
        done += n;
    }
    return crc;
}

Result<ReadResult> Cartridge::read_next(std::span<uint8_t> buffer) {
    VTL_TRY(check_fence());
    Partition& part = *current();
    if (cursor_.object >= part.objects()) return ReadResult{};
    RecordHeader h;
    if (cursor_header_) {
        h = *cursor_header_;
    } else {
        auto read = part.read_header(cursor_.offset, cursor_.object);
        if (!read.ok()) return fail(read.error());
        h = *read;
    }
    cursor_header_.reset();
    const std::string& name = Partition::records_name(part.number());
    if (h.kind == ObjectKind::Filemark) {
        cursor_ = Cursor{cursor_.partition, cursor_.object + 1, cursor_.offset + kRecordHeaderSize};
        ++counters_.filemarks_read;
        return ReadResult{ReadKind::Filemark};
    }

    const uint64_t data_at = cursor_.offset + kRecordHeaderSize;
    const uint64_t next_at = data_at + h.stored;
    // The next object's header comes in the same system call, for the next read.
    const bool prefetch = cursor_.object + 1 < part.objects();
    uint8_t next[kRecordHeaderSize];
    const int fd = part.records_fd();
    const uint32_t copied = static_cast<uint32_t>(std::min<size_t>(buffer.size(), h.length));
    uint32_t crc = 0;
    bool have_next = false;
    auto short_file = [&](uint64_t got) {
        return fail(make_error(Errc::FormatCorrupted, "{} offset {}: object {}: file ends after {} of its {} bytes",
                               name, data_at, cursor_.object, got, h.stored));
    };
    const size_t next_size = prefetch ? kRecordHeaderSize : 0;
    const bool whole_raw = !h.compressed() && copied == h.length;  // the whole record, stored raw, fits the buffer
    MappedReader& mapped = part.mapped_records();
    if (whole_raw && copied >= kMappedReadMinimum && options_.mapped_reads &&
        mapped.prepare(data_at, copied + next_size) && mapped.resident(data_at, copied + next_size)) {
        // A large record in the page cache: to the caller's buffer in one pass that checks the
        // CRC as it copies.
        auto read = mapped.read(data_at, buffer.first(copied), {next, next_size}, name);
        if (!read.ok()) return fail(read.error());
        crc = *read;
        have_next = prefetch;
    } else if (whole_raw) {
        // Straight into the caller's buffer, the next header in the same system call.
        iovec iov[2] = {{buffer.data(), copied}, {next, next_size}};
        auto got = readv_some(fd, iov, 2, data_at, name);
        if (!got.ok()) return got.error();
        if (*got < h.stored) return short_file(*got);
        have_next = prefetch && *got == h.stored + kRecordHeaderSize;
        crc = crc32c(buffer.data(), copied);
    } else if (!h.compressed()) {
        VTL_TRY(read_exact(fd, buffer.data(), copied, data_at, name));
        crc = crc32c(buffer.data(), copied);
        auto rest = crc_of(fd, data_at + copied, h.stored - copied, crc, name);
        if (!rest.ok()) return rest.error();
        crc = *rest;
    } else {
        scratch_.resize(h.stored);
        iovec iov[2] = {{scratch_.data(), h.stored}, {next, next_size}};
        auto got = readv_some(fd, iov, 2, data_at, name);
        if (!got.ok()) return got.error();
        if (*got < h.stored) return short_file(*got);
        have_next = prefetch && *got == h.stored + kRecordHeaderSize;
        crc = crc32c(scratch_.data(), h.stored);
    }
    if (crc != h.data_crc) {
        return fail(make_error(Errc::UnrecoveredRead, "{} offset {}: object {}: data CRC mismatch (stored 0x{:08X}, "
                               "computed 0x{:08X})",
                               name, data_at, cursor_.object, h.data_crc, crc));
    }
    if (h.compressed()) {
        std::string why;
        if (!compressor().decompress({scratch_.data(), h.stored}, buffer.first(copied), h.length, why)) {
            return fail(make_error(Errc::UnrecoveredRead, "{} offset {}: object {}: {}", name, data_at,
                                   cursor_.object, why));
        }
    }
    counters_.bytes_from_medium += h.stored;
    counters_.bytes_to_host += copied;
    ++counters_.records_read;
    cursor_ = Cursor{cursor_.partition, cursor_.object + 1, next_at};
    if (have_next) {
        // A bad next header is not this read's error: the next read re-reads and reports it.
        auto nh = part.check_header(next, next_at, cursor_.object);
        if (nh.ok()) cursor_header_ = *nh;
    }
    return ReadResult{ReadKind::Record, h.length, copied, (h.flags & record_flags::kBad) != 0};
}

Result<void> Cartridge::prepare_write() {
    Partition& part = *current();
    if (cursor_.object >= part.objects()) return {};
    if (cursor_.object < part.synced().objects) {
        // The cut reaches data a sync point covered: the header must say so first, or a crash
        // would find synced data gone (or stale data of the old epoch taken as current).
        const PartitionRecord record = part.record_for_cut(cursor_.object, cursor_.offset);
        HeaderState next = header_;
        next.partitions[part.number()] = record;
        VTL_TRY(write_header(next));
        part.mark_synced(record);
    }
    VTL_TRY(part.cut(cursor_.object, cursor_.offset));
    cursor_header_.reset();
    return {};
}

Result<WriteResult> Cartridge::write_record(std::span<const uint8_t> data, bool compress) {
    return write(data, compress, false);
}

Result<WriteResult> Cartridge::write_bad_record(std::span<const uint8_t> data) { return write(data, false, true); }

Result<WriteResult> Cartridge::write(std::span<const uint8_t> data, bool compress, bool bad) {
    VTL_TRY(check_fence());
    if (data.empty() || data.size() > kMaxRecordLength) {
        return make_error(Errc::InvalidArgument, "record length {} out of range 1..{}", data.size(), kMaxRecordLength);
    }
    Partition& part = *current();
    std::span<const uint8_t> stored = data;
    uint8_t flags = bad ? record_flags::kBad : 0;
    if (compress) {
        auto frame = compressor().compress(data);
        if (!frame.empty()) {
            stored = frame;
            flags |= record_flags::kCompressed;
        }
    }
    // Capacity counts what stays on the medium: what is before the position plus this record,
    // which must leave the filemark reserve free.
    const uint64_t used = part.used_before(cursor_.object, cursor_.offset);
    const uint64_t limit = capacity(cursor_.partition).record_limit;
    if (stored.size() > limit - std::min(used, limit)) {
        return make_error(Errc::EndOfMedium,
                          "record of {} bytes ({} stored) does not fit: {} of {} bytes used in partition {}, the "
                          "last {} kept for filemarks",
                          data.size(), stored.size(), used, part.capacity(), part.number(), part.capacity() - limit);
    }
    VTL_TRY(prepare_write());
    RecordHeader h;
    h.kind = ObjectKind::Record;
    h.flags = flags;
    h.length = static_cast<uint32_t>(data.size());
    h.stored = static_cast<uint32_t>(stored.size());
    h.data_crc = crc32c(stored);
    VTL_TRY(part.append_record(h, stored));
    counters_.bytes_from_host += data.size();
    counters_.bytes_to_medium += stored.size();
    ++counters_.records_written;
    cursor_ = Cursor{cursor_.partition, part.objects(), part.end_offset()};
    unsynced_bytes_ += kRecordHeaderSize + stored.size();
    if (unsynced_bytes_ >= options_.auto_sync_bytes) VTL_TRY(sync());
    return WriteResult{capacity().early_warning(), h.stored, h.compressed()};
}

Result<WriteResult> Cartridge::write_filemarks(uint32_t count, bool sync_now) {
    VTL_TRY(check_fence());
    Partition& part = *current();
    if (count > 0) {
        const uint64_t used = part.used_before(cursor_.object, cursor_.offset);
        if (uint64_t(count) * kFilemarkCapacity > part.capacity() - std::min(used, part.capacity())) {
            return make_error(Errc::EndOfMedium, "{} filemarks do not fit: {} of {} bytes used in partition {}", count,
                              used, part.capacity(), part.number());
        }
        VTL_TRY(prepare_write());
        VTL_TRY(part.append_filemarks(count));
        counters_.filemarks_written += count;
        cursor_ = Cursor{cursor_.partition, part.objects(), part.end_offset()};
        unsynced_bytes_ += uint64_t(count) * kRecordHeaderSize;
    }
    if (sync_now) VTL_TRY(sync());
    return WriteResult{capacity().early_warning(), 0, false};
}

Result<void> Cartridge::write_header(HeaderState next) {
    next.sequence = header_.sequence + 1;
    const auto slot = encode_header_slot(next);
    crash_point("header:before-write");
    VTL_TRY(write_all(header_fd_.get(), slot.data(), slot.size(), header_slot_for(next.sequence) * kHeaderSlotSize,
                      kHeaderName));
    crash_point("header:before-sync");
    VTL_TRY(data_sync(header_fd_.get(), kHeaderName));
    crash_point("header:after-sync");
    header_ = std::move(next);
    return {};
}

Result<void> Cartridge::sync() {
    VTL_TRY(check_fence());
    HeaderState next = header_;
    for (auto& p : partitions_) {
        auto record = p->sync_files();
        if (!record.ok()) return record.error();
        next.partitions[p->number()] = *record;
    }
    if (next.partitions != header_.partitions) VTL_TRY(write_header(next));
    for (auto& p : partitions_) p->mark_synced(header_.partitions[p->number()]);
    unsynced_bytes_ = 0;
    return {};
}

Result<void> Cartridge::erase() {
    VTL_TRY(check_fence());
    VTL_TRY(prepare_write());
    return sync();
}

Result<void> Cartridge::format(const Layout& layout) {
    VTL_TRY(check_fence());
    auto sizes = resolve_layout(layout);
    if (!sizes.ok()) return sizes.error();
    const auto count = static_cast<uint32_t>(sizes->size());
    for (uint32_t i = header_.partition_count; i < count; ++i) {
        VTL_TRY(Partition::create_files(dir_.get(), static_cast<uint8_t>(i)));
    }
    if (count > header_.partition_count) VTL_TRY(full_sync(dir_.get(), "cartridge directory"));

    // The header is the commit point: it empties every partition and starts new epochs, so
    // whatever the files still hold after a crash here is stale and ignored.
    HeaderState next = header_;
    next.capacity = layout.capacity;
    next.partition_count = count;
    for (uint32_t i = 0; i < kMaxPartitions; ++i) {
        uint32_t epoch = header_.partitions[i].epoch;
        if (i < partitions_.size()) epoch = std::max(epoch, partitions_[i]->epoch());
        next.partitions[i] = PartitionRecord{i < count ? (*sizes)[i] : 0, 0, 0, 0, epoch + 1};
    }
    partitions_.clear();
    cursor_ = Cursor{};
    cursor_header_.reset();
    if (auto written = write_header(next); !written.ok()) {
        if (auto reopened = open_partitions(); !reopened.ok()) fail(reopened.error());
        return written.error();
    }
    for (uint8_t i = 0; i < kMaxPartitions; ++i) {
        for (const auto& name : {Partition::records_name(i), Partition::index_name(i), Partition::marks_name(i)}) {
            if (i >= count) {
                ::unlinkat(dir_.get(), name.c_str(), 0);
                continue;
            }
            // Only tidying: the new epochs already make the old contents stale.
            auto fd = open_at(dir_.get(), name, O_RDWR);
            Result<void> emptied = fd.ok() ? truncate_file(fd->get(), 0, name) : Result<void>(fd.error());
            if (emptied.ok()) emptied = data_sync(fd->get(), name);
            if (!emptied.ok()) {
                log_->warn("[storage] cartridge {}: format could not empty {}: {}", barcode_, name,
                           emptied.error().message);
            }
        }
    }
    if (auto opened = open_partitions(); !opened.ok()) return fail(opened.error());
    unsynced_bytes_ = 0;
    return move_to(0, 0);
}

Result<void> Cartridge::verify() {
    VTL_TRY(check_fence());
    for (auto& p : partitions_) {
        if (auto r = p->verify(); !r.ok()) return fail(r.error());
    }
    return move_to(cursor_.partition, cursor_.object);
}

Result<Mam*> Cartridge::mam() {
    VTL_TRY(check_fence());
    return &*mam_;
}

}  // namespace vtl::storage
