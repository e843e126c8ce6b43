#include "storage/partition.h"

#include <fcntl.h>

#include <algorithm>

#include "storage/crc32c.h"

namespace vtl::storage {

namespace {

constexpr size_t kPendingFlushEntries = 4096;  // 64 KiB of index entries held before a write
constexpr size_t kScanWindow = 1u << 20;       // read size while recovering or verifying
constexpr uint32_t kFilemarkBatch = 1024;
// Written data is handed to writeback in steps of this size, so the disk works while the host
// sends more and a sync point has little left to flush (durability still comes from fdatasync).
constexpr uint64_t kWritebackStep = 8u << 20;

}  // namespace

Result<void> Partition::create_files(int dir, uint8_t number) {
    for (const auto& name : {records_name(number), index_name(number), marks_name(number)}) {
        auto fd = open_at(dir, name, O_RDWR | O_CREAT | O_TRUNC);
        if (!fd.ok()) return fd.error();
        VTL_TRY(full_sync(fd->get(), name));
    }
    return {};
}

Error Partition::corrupt(std::string_view file, uint64_t offset, std::string_view what) const {
    return make_error(Errc::FormatCorrupted, "{} offset {}: {}", file, offset, what);
}

uint64_t Partition::filemarks_before(uint64_t object) const {
    return static_cast<uint64_t>(std::lower_bound(filemarks_.begin(), filemarks_.end(), object) - filemarks_.begin());
}

Result<std::unique_ptr<Partition>> Partition::open(int dir, uint8_t number, const PartitionRecord& synced,
                                                   const CrashPoint* crash_point, RecoveryReport& report) {
    std::unique_ptr<Partition> p(new Partition());
    p->number_ = number;
    p->records_name_ = records_name(number);
    p->index_name_ = index_name(number);
    p->marks_name_ = marks_name(number);
    p->crash_point_ = crash_point;
    p->synced_ = synced;

    uint64_t sizes[3];
    Fd* fds[3] = {&p->records_, &p->index_, &p->marks_};
    const std::string* names[3] = {&p->records_name_, &p->index_name_, &p->marks_name_};
    for (int i = 0; i < 3; ++i) {
        auto fd = open_at(dir, *names[i], O_RDWR);
        if (!fd.ok()) {
            if (fd.error().code == Errc::NotFound) return p->corrupt(*names[i], 0, "file is missing");
            return fd.error();
        }
        *fds[i] = std::move(*fd);
        auto size = file_size(fds[i]->get(), *names[i]);
        if (!size.ok()) return size.error();
        sizes[i] = *size;
    }
    p->mapped_ = std::make_unique<MappedReader>(p->records_.get());
    const uint64_t needed[3] = {synced.bytes, synced.objects * kIndexEntrySize, synced.filemarks * kMarkEntrySize};
    for (int i = 0; i < 3; ++i) {
        if (sizes[i] < needed[i]) {
            return p->corrupt(*names[i], sizes[i],
                              fmt::format("file is truncated: {} bytes, but the last sync point covers {} bytes",
                                          sizes[i], needed[i]));
        }
    }

    // The filemark list is small and needed for every space operation: load it whole.
    p->filemarks_.reserve(synced.filemarks);
    std::vector<uint8_t> chunk;
    for (uint64_t first = 0; first < synced.filemarks; first += 4096) {
        const uint64_t count = std::min<uint64_t>(4096, synced.filemarks - first);
        chunk.resize(count * kMarkEntrySize);
        VTL_TRY(read_exact(p->marks_.get(), chunk.data(), chunk.size(), first * kMarkEntrySize, p->marks_name_));
        for (uint64_t i = 0; i < count; ++i) {
            const uint64_t ordinal = first + i;
            std::string why;
            auto object = decode_mark_entry(&chunk[i * kMarkEntrySize], number, ordinal, why);
            if (object && (*object >= synced.objects || (!p->filemarks_.empty() && *object <= p->filemarks_.back()))) {
                why = fmt::format("filemark {} at object {} is out of order or beyond the {} synced objects", ordinal,
                                  *object, synced.objects);
                object.reset();
            }
            if (!object) return p->corrupt(p->marks_name_, ordinal * kMarkEntrySize, why);
            p->filemarks_.push_back(*object);
        }
    }
    p->marks_written_ = synced.filemarks;
    p->objects_ = synced.objects;
    p->end_ = synced.bytes;
    p->index_written_ = synced.objects;
    p->epoch_ = synced.epoch;

    // Spot checks that tie the three files to the header without reading every record: the last
    // synced object ends exactly at the synced length, and the last filemark is a filemark.
    if (synced.objects == 0 && synced.bytes != 0) {
        return p->corrupt(p->records_name_, 0, fmt::format("no objects synced but {} bytes", synced.bytes));
    }
    if (synced.objects > 0) {
        const uint64_t last = synced.objects - 1;
        auto at = p->locate(last);
        if (!at.ok()) return at.error();
        const auto& h = *at->header;
        if (at->offset + kRecordHeaderSize + h.stored != synced.bytes) {
            return p->corrupt(p->records_name_, at->offset,
                              fmt::format("last synced object {} ends at offset {}, but the header says synced data "
                                          "ends at {}",
                                          last, at->offset + kRecordHeaderSize + h.stored, synced.bytes));
        }
        if (h.epoch > synced.epoch) {
            return p->corrupt(p->records_name_, at->offset,
                              fmt::format("object {} has epoch {}, newer than the synced epoch {}", last, h.epoch,
                                          synced.epoch));
        }
        const bool is_mark = !p->filemarks_.empty() && p->filemarks_.back() == last;
        if (is_mark != (h.kind == ObjectKind::Filemark)) {
            return p->corrupt(p->marks_name_, synced.filemarks * kMarkEntrySize,
                              fmt::format("object {} is a {} but the filemark list says otherwise", last,
                                          h.kind == ObjectKind::Filemark ? "filemark" : "record"));
        }
        if (!p->filemarks_.empty() && !is_mark) {
            auto mark = p->locate(p->filemarks_.back());
            if (!mark.ok()) return mark.error();
            if (mark->header->kind != ObjectKind::Filemark) {
                return p->corrupt(p->marks_name_, (synced.filemarks - 1) * kMarkEntrySize,
                                  fmt::format("filemark list names object {}, which is a record",
                                              p->filemarks_.back()));
            }
        }
    }

    // Whatever complete, CRC-valid objects follow the sync point in sequence survive; the
    // first torn or stale one ends the data (it stays on disk until the next write).
    auto stop = p->scan(p->end_, p->objects_, synced.epoch, sizes[0], [&](const RecordHeader& h, uint64_t offset) {
        p->push_index(offset, h.kind);
        if (h.kind == ObjectKind::Filemark) {
            p->filemarks_.push_back(h.object);
            uint8_t e[kMarkEntrySize];
            encode_mark_entry(h.object, number, p->filemarks_.size() - 1, e);
            p->pending_marks_.insert(p->pending_marks_.end(), e, e + kMarkEntrySize);
        }
        ++p->objects_;
        p->end_ = offset + kRecordHeaderSize + h.stored;
        p->epoch_ = std::max(p->epoch_, h.epoch);
        ++report.recovered;
        if (p->pending_index_.size() >= kPendingFlushEntries * kIndexEntrySize) return p->flush_entries();
        return Result<void>{};
    });
    if (!stop.ok()) return stop.error();
    if (report.recovered) p->set_dirty(true, true, true);
    if (p->end_ < sizes[0]) {
        p->stale_tail_ = true;
        report.dropped_at = p->end_;
        report.dropped_bytes = sizes[0] - p->end_;
        report.why = stop->why;
    }
    return p;
}

Result<Partition::ScanStop> Partition::scan(uint64_t offset, uint64_t object, uint32_t min_epoch, uint64_t end,
                                            const ScanVisit& visit) {
    // A window over pN.records so that runs of small records cost one read per megabyte.
    std::vector<uint8_t> window;
    uint64_t window_at = 0;
    auto view = [&](uint64_t at, size_t n) -> Result<const uint8_t*> {
        if (at < window_at || at + n > window_at + window.size()) {
            window.resize(static_cast<size_t>(std::min<uint64_t>(kScanWindow, end - at)));
            VTL_TRY(read_exact(records_.get(), window.data(), window.size(), at, records_name_));
            window_at = at;
        }
        return window.data() + (at - window_at);
    };

    ScanStop s{offset, object, min_epoch, {}};
    while (s.offset != end) {
        if (end - s.offset < kRecordHeaderSize) {
            s.why = fmt::format("torn record header: {} bytes left in the file", end - s.offset);
            break;
        }
        auto bytes = view(s.offset, kRecordHeaderSize);
        if (!bytes.ok()) return bytes.error();
        std::string why;
        auto h = decode_record_header(*bytes, why);
        if (!h) {
            s.why = why;
            break;
        }
        if (h->object != s.object || h->partition != number_) {
            s.why = fmt::format("header is for object {} of partition {}, expected object {} of partition {}",
                                h->object, h->partition, s.object, number_);
            break;
        }
        if (h->epoch < s.epoch) {
            s.why = fmt::format("stale object {} from epoch {} (data was cut at epoch {})", h->object, h->epoch, s.epoch);
            break;
        }
        const uint64_t payload_at = s.offset + kRecordHeaderSize;
        if (end - payload_at < h->stored) {
            s.why = fmt::format("torn record: {} stored bytes announced, {} in the file", h->stored, end - payload_at);
            break;
        }
        uint32_t crc = 0;
        for (uint64_t done = 0; done < h->stored;) {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(h->stored - done, kScanWindow));
            auto data = view(payload_at + done, n);
            if (!data.ok()) return data.error();
            crc = crc32c(*data, n, crc);
            done += n;
        }
        if (crc != h->data_crc) {
            s.why = fmt::format("data CRC mismatch in object {} (stored 0x{:08X}, computed 0x{:08X})", h->object,
                                h->data_crc, crc);
            break;
        }
        VTL_TRY(visit(*h, s.offset));
        s.offset = payload_at + h->stored;
        ++s.object;
        s.epoch = h->epoch;
    }
    return s;
}

Result<IndexEntry> Partition::index_entry(uint64_t object) {
    const uint8_t* bytes;
    if (object >= index_written_) {
        bytes = &pending_index_[(object - index_written_) * kIndexEntrySize];
    } else {
        if (object < cache_first_ || object >= cache_first_ + cache_count_) {
            const uint64_t first = object - object % kIndexCacheEntries;
            const uint64_t count = std::min(kIndexCacheEntries, index_written_ - first);
            index_cache_.resize(count * kIndexEntrySize);
            cache_first_ = UINT64_MAX;
            VTL_TRY(read_exact(index_.get(), index_cache_.data(), index_cache_.size(), first * kIndexEntrySize,
                               index_name_));
            cache_first_ = first;
            cache_count_ = count;
        }
        bytes = &index_cache_[(object - cache_first_) * kIndexEntrySize];
    }
    std::string why;
    auto entry = decode_index_entry(bytes, number_, object, why);
    if (!entry) return corrupt(index_name_, object * kIndexEntrySize, fmt::format("object {}: {}", object, why));
    return *entry;
}

Result<RecordHeader> Partition::check_header(const uint8_t* bytes, uint64_t offset, uint64_t object) const {
    std::string why;
    auto h = decode_record_header(bytes, why);
    if (!h) return corrupt(records_name_, offset, fmt::format("object {}: {}", object, why));
    if (h->object != object || h->partition != number_) {
        return corrupt(records_name_, offset,
                       fmt::format("expected object {} of partition {}, found object {} of partition {}", object,
                                   number_, h->object, h->partition));
    }
    if (offset + kRecordHeaderSize + h->stored > end_) {
        return corrupt(records_name_, offset,
                       fmt::format("object {} ({} stored bytes) runs past the end of data at {}", object, h->stored,
                                   end_));
    }
    return *h;
}

Result<RecordHeader> Partition::read_header(uint64_t offset, uint64_t object) {
    if (offset + kRecordHeaderSize > end_) {
        return corrupt(records_name_, offset, fmt::format("object {} would start past the end of data at {}", object, end_));
    }
    uint8_t bytes[kRecordHeaderSize];
    VTL_TRY(read_exact(records_.get(), bytes, sizeof bytes, offset, records_name_));
    return check_header(bytes, offset, object);
}

Result<Partition::Located> Partition::locate(uint64_t object) {
    if (object >= objects_) return Located{end_, std::nullopt};
    auto entry = index_entry(object);
    if (!entry.ok()) return entry.error();
    auto header = read_header(entry->offset, object);
    if (!header.ok()) {
        return corrupt(index_name_, object * kIndexEntrySize,
                       fmt::format("entry for object {} points to offset {}, where: {}", object, entry->offset,
                                   header.error().message));
    }
    if (header->kind != entry->kind) {
        return corrupt(index_name_, object * kIndexEntrySize,
                       fmt::format("entry for object {} says {} but the header says {}", object,
                                   entry->kind == ObjectKind::Filemark ? "filemark" : "record",
                                   header->kind == ObjectKind::Filemark ? "filemark" : "record"));
    }
    return Located{entry->offset, *header};
}

void Partition::push_index(uint64_t offset, ObjectKind kind) {
    uint8_t e[kIndexEntrySize];
    encode_index_entry(IndexEntry{offset, kind}, number_, objects_, e);
    pending_index_.insert(pending_index_.end(), e, e + kIndexEntrySize);
}

Result<void> Partition::flush_entries() {
    if (!pending_index_.empty()) {
        VTL_TRY(write_all(index_.get(), pending_index_.data(), pending_index_.size(), index_written_ * kIndexEntrySize,
                          index_name_));
        index_written_ += pending_index_.size() / kIndexEntrySize;
        pending_index_.clear();
    }
    if (!pending_marks_.empty()) {
        VTL_TRY(write_all(marks_.get(), pending_marks_.data(), pending_marks_.size(), marks_written_ * kMarkEntrySize,
                          marks_name_));
        marks_written_ += pending_marks_.size() / kMarkEntrySize;
        pending_marks_.clear();
    }
    return {};
}

Result<void> Partition::remove_stale_tail() {
    if (!stale_tail_) return {};
    // Bytes of a torn tail lie after the end of data: remove them and start a new epoch so that
    // nothing of them can ever be mistaken for a successor of what is appended next.
    VTL_TRY(truncate_file(records_.get(), end_, records_name_));
    stale_tail_ = false;
    ++epoch_;
    return {};
}

Result<void> Partition::append_record(RecordHeader header, std::span<const uint8_t> stored) {
    VTL_TRY(remove_stale_tail());
    header.partition = number_;
    header.object = objects_;
    header.epoch = epoch_;
    uint8_t bytes[kRecordHeaderSize];
    header.encode(bytes);
    iovec iov[2] = {{bytes, sizeof bytes}, {const_cast<uint8_t*>(stored.data()), stored.size()}};
    crash_point("append:before-write");
    auto written = writev_all(records_.get(), iov, 2, end_, records_name_);
    if (!written.ok()) {
        stale_tail_ = true;  // part of it may be there; the next append cuts it
        return written.error();
    }
    crash_point("append:after-write");
    push_index(end_, header.kind);
    ++objects_;
    end_ += kRecordHeaderSize + stored.size();
    set_dirty(true, true, false);
    if (writeback_from_ > end_) writeback_from_ = 0;
    if (end_ - writeback_from_ >= kWritebackStep) {
        ::sync_file_range(records_.get(), static_cast<off_t>(writeback_from_), static_cast<off_t>(end_ - writeback_from_),
                          SYNC_FILE_RANGE_WRITE);
        writeback_from_ = end_;
    }
    if (pending_index_.size() >= kPendingFlushEntries * kIndexEntrySize) return flush_entries();
    return {};
}

Result<void> Partition::append_filemarks(uint32_t count) {
    VTL_TRY(remove_stale_tail());
    std::vector<uint8_t> batch;
    while (count > 0) {
        const uint32_t n = std::min(count, kFilemarkBatch);
        batch.assign(size_t(n) * kRecordHeaderSize, 0);
        for (uint32_t i = 0; i < n; ++i) {
            RecordHeader h;
            h.kind = ObjectKind::Filemark;
            h.partition = number_;
            h.object = objects_ + i;
            h.epoch = epoch_;
            h.encode(&batch[size_t(i) * kRecordHeaderSize]);
        }
        crash_point("filemark:before-write");
        auto written = write_all(records_.get(), batch.data(), batch.size(), end_, records_name_);
        if (!written.ok()) {
            stale_tail_ = true;
            return written.error();
        }
        for (uint32_t i = 0; i < n; ++i) {
            push_index(end_, ObjectKind::Filemark);
            filemarks_.push_back(objects_);
            uint8_t e[kMarkEntrySize];
            encode_mark_entry(objects_, number_, filemarks_.size() - 1, e);
            pending_marks_.insert(pending_marks_.end(), e, e + kMarkEntrySize);
            ++objects_;
            end_ += kRecordHeaderSize;
        }
        set_dirty(true, true, true);
        count -= n;
        if (pending_index_.size() >= kPendingFlushEntries * kIndexEntrySize) VTL_TRY(flush_entries());
    }
    return {};
}

PartitionRecord Partition::record_for_cut(uint64_t object, uint64_t offset) const {
    return PartitionRecord{synced_.capacity, object, offset, filemarks_before(object), epoch_ + 1};
}

Result<void> Partition::cut(uint64_t object, uint64_t offset) {
    crash_point("cut:before-truncate");
    mapped_->reset();
    VTL_TRY(truncate_file(records_.get(), offset, records_name_));
    ++epoch_;
    stale_tail_ = false;
    cache_first_ = UINT64_MAX;
    if (object >= index_written_) {
        pending_index_.resize((object - index_written_) * kIndexEntrySize);
    } else {
        pending_index_.clear();
        index_written_ = object;
        VTL_TRY(truncate_file(index_.get(), object * kIndexEntrySize, index_name_));
    }
    const uint64_t marks = filemarks_before(object);
    filemarks_.resize(marks);
    if (marks >= marks_written_) {
        pending_marks_.resize((marks - marks_written_) * kMarkEntrySize);
    } else {
        pending_marks_.clear();
        marks_written_ = marks;
        VTL_TRY(truncate_file(marks_.get(), marks * kMarkEntrySize, marks_name_));
    }
    objects_ = object;
    end_ = offset;
    set_dirty(true, true, true);
    return {};
}

Result<PartitionRecord> Partition::sync_files() {
    const PartitionRecord now{synced_.capacity, objects_, end_, filemarks_.size(), epoch_};
    if (!dirty_) return now;
    VTL_TRY(flush_entries());
    crash_point("sync:before-records");
    if (records_dirty_) VTL_TRY(data_sync(records_.get(), records_name_));
    records_dirty_ = false;
    crash_point("sync:after-records");
    if (index_dirty_) VTL_TRY(data_sync(index_.get(), index_name_));
    index_dirty_ = false;
    if (marks_dirty_) VTL_TRY(data_sync(marks_.get(), marks_name_));
    marks_dirty_ = false;
    crash_point("sync:after-index");
    dirty_ = false;
    return now;
}

Result<void> Partition::verify() {
    uint64_t mark = 0;
    auto stop = scan(0, 0, 0, end_, [&](const RecordHeader& h, uint64_t offset) -> Result<void> {
        auto entry = index_entry(h.object);
        if (!entry.ok()) return entry.error();
        if (entry->offset != offset || entry->kind != h.kind) {
            return corrupt(index_name_, h.object * kIndexEntrySize,
                           fmt::format("entry for object {} says offset {}, the object is at {}", h.object,
                                       entry->offset, offset));
        }
        if (h.kind == ObjectKind::Filemark) {
            if (mark >= filemarks_.size() || filemarks_[mark] != h.object) {
                return corrupt(marks_name_, mark * kMarkEntrySize,
                               fmt::format("filemark {} should be object {}", mark, h.object));
            }
            ++mark;
        }
        return Result<void>{};
    });
    if (!stop.ok()) return stop.error();
    if (!stop->why.empty() || stop->object != objects_) {
        const bool data = stop->why.find("data CRC") != std::string::npos;
        return make_error(data ? Errc::UnrecoveredRead : Errc::FormatCorrupted, "{} offset {}: {}", records_name_,
                          stop->offset, stop->why.empty() ? "fewer objects than indexed" : stop->why);
    }
    if (mark != filemarks_.size()) {
        return corrupt(marks_name_, mark * kMarkEntrySize, "more filemarks listed than found in the records");
    }
    return {};
}

}  // namespace vtl::storage
