// One partition of a cartridge: its three files (pN.records, pN.index, pN.marks), the object
// count and end of data, the filemark list, and recovery of what was written after the last
// sync point. It knows nothing of positions, compression or counters (Cartridge does).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/cartridge_header.h"
#include "storage/file_io.h"
#include "storage/mapped_reader.h"
#include "storage/record_format.h"
#include "storage/result.h"

namespace vtl::storage {

// What opening a partition found after its synced end of data.
struct RecoveryReport {
    uint64_t recovered = 0;      // complete, CRC-valid objects kept from after the last sync point
    uint64_t dropped_bytes = 0;  // bytes after the recovered end of data (a torn tail), left in place
    uint64_t dropped_at = 0;     // offset where they start
    std::string why;             // why the scan stopped there
};

class Partition {
public:
    using CrashPoint = std::function<void(std::string_view)>;

    static std::string records_name(uint8_t n) { return fmt::format("p{}.records", n); }
    static std::string index_name(uint8_t n) { return fmt::format("p{}.index", n); }
    static std::string marks_name(uint8_t n) { return fmt::format("p{}.marks", n); }

    // Creates the three empty files (the caller fsyncs the directory).
    static Result<void> create_files(int dir, uint8_t number);

    // Opens the files and checks them against the synced state `synced` (fails with
    // FormatCorrupted naming the file and offset), then recovers the tail after it.
    static Result<std::unique_ptr<Partition>> open(int dir, uint8_t number, const PartitionRecord& synced,
                                                   const CrashPoint* crash_point, RecoveryReport& report);

    uint8_t number() const { return number_; }
    uint64_t objects() const { return objects_; }
    uint64_t end_offset() const { return end_; }
    // Capacity used up to the end of data: stored record bytes, and kFilemarkCapacity a filemark.
    uint64_t used_bytes() const { return used_before(objects_, end_); }
    // The same before `object`, which starts at byte `offset`.
    uint64_t used_before(uint64_t object, uint64_t offset) const {
        const uint64_t marks = filemarks_before(object);
        return offset - object * kRecordHeaderSize + marks * kFilemarkCapacity;
    }
    uint64_t capacity() const { return synced_.capacity; }
    uint32_t epoch() const { return epoch_; }
    const std::vector<uint64_t>& filemarks() const { return filemarks_; }
    // Filemarks at object numbers below `object` (the file number of a position).
    uint64_t filemarks_before(uint64_t object) const;
    const PartitionRecord& synced() const { return synced_; }
    int records_fd() const { return records_.get(); }
    // Large records are read through a mapping of pN.records (see MappedReader).
    MappedReader& mapped_records() { return *mapped_; }

    // The byte offset of `object` (objects() gives the end of data), from the index, checked
    // against the header found there, which is returned too (none at end of data).
    struct Located {
        uint64_t offset = 0;
        std::optional<RecordHeader> header;
    };
    Result<Located> locate(uint64_t object);
    // Reads and checks the header at `offset`, which must be object `object`.
    Result<RecordHeader> read_header(uint64_t offset, uint64_t object);
    // Checks an already-read header (e.g. prefetched with the previous record).
    Result<RecordHeader> check_header(const uint8_t* bytes, uint64_t offset, uint64_t object) const;

    // Appends a record whose stored bytes are `stored` (header fields other than object,
    // epoch and partition filled in by the caller) at the end of data.
    Result<void> append_record(RecordHeader header, std::span<const uint8_t> stored);
    Result<void> append_filemarks(uint32_t count);

    // The state the header must record before a cut to `object` reaches synced data.
    PartitionRecord record_for_cut(uint64_t object, uint64_t offset) const;
    // Discards every object from `object` on (at byte `offset`); a new epoch starts.
    Result<void> cut(uint64_t object, uint64_t offset);

    bool dirty() const { return dirty_; }
    void set_dirty(bool records, bool index, bool marks) {
        records_dirty_ |= records;
        index_dirty_ |= index;
        marks_dirty_ |= marks;
        dirty_ = records_dirty_ || index_dirty_ || marks_dirty_;
    }
    uint64_t unsynced_bytes() const { return end_ > synced_.bytes ? end_ - synced_.bytes : 0; }
    // Writes pending index and filemark entries and fdatasyncs the three files; returns the
    // record the header should now hold. mark_synced() once the header is durable.
    Result<PartitionRecord> sync_files();
    void mark_synced(const PartitionRecord& record) { synced_ = record; }
    void set_capacity(uint64_t capacity) { synced_.capacity = capacity; }

    // Reads every object from the beginning, checking headers, CRCs, index and filemark entries.
    Result<void> verify();

private:
    Partition() = default;

    struct ScanStop {
        uint64_t offset = 0;
        uint64_t object = 0;
        uint32_t epoch = 0;
        std::string why;  // empty when the scan reached `end` exactly
    };
    using ScanVisit = std::function<Result<void>(const RecordHeader&, uint64_t offset)>;
    // Walks records from (offset, object) up to byte `end`, verifying each completely; stops
    // at the first one that is torn, corrupt, out of sequence or older than `min_epoch`.
    Result<ScanStop> scan(uint64_t offset, uint64_t object, uint32_t min_epoch, uint64_t end, const ScanVisit& visit);

    Result<IndexEntry> index_entry(uint64_t object);
    void push_index(uint64_t offset, ObjectKind kind);
    Result<void> flush_entries();
    Result<void> remove_stale_tail();  // before an append: cut a torn tail left after end_
    Error corrupt(std::string_view file, uint64_t offset, std::string_view what) const;
    void crash_point(std::string_view where) const {
        if (crash_point_ && *crash_point_) (*crash_point_)(where);
    }

    uint8_t number_ = 0;
    std::string records_name_, index_name_, marks_name_;
    Fd records_, index_, marks_;
    std::unique_ptr<MappedReader> mapped_;
    const CrashPoint* crash_point_ = nullptr;

    PartitionRecord synced_;
    uint64_t objects_ = 0;
    uint64_t end_ = 0;
    uint32_t epoch_ = 0;
    uint64_t writeback_from_ = 0;  // start of data not yet handed to the kernel's writeback
    bool stale_tail_ = false;      // pN.records holds bytes after end_ (a torn tail from a crash)
    bool dirty_ = false;           // any of the three below
    bool records_dirty_ = false, index_dirty_ = false, marks_dirty_ = false;  // fdatasync owed

    std::vector<uint64_t> filemarks_;
    uint64_t index_written_ = 0;  // entries [0, index_written_) are in pN.index
    std::vector<uint8_t> pending_index_;
    uint64_t marks_written_ = 0;
    std::vector<uint8_t> pending_marks_;

    // A small read cache of pN.index so that walking nearby objects costs no system call.
    static constexpr uint64_t kIndexCacheEntries = 256;
    uint64_t cache_first_ = UINT64_MAX;
    uint64_t cache_count_ = 0;
    std::vector<uint8_t> index_cache_;
};

}  // namespace vtl::storage
