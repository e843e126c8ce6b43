// One cartridge as a tape drive sees it: partitions of records, filemarks and end of data, a
// position, and the operations SSC commands are built from. Tape semantics throughout:
//
// - A position is (partition, logical object number); records and filemarks are both objects,
//   counted together from 0 at the beginning of the partition, as SSC's LOCATE and READ POSITION
//   count them. Object number eod() is the end of data.
// - Writing a record or filemarks at a position before the end of data discards every object
//   from there on in that partition: the written object becomes the last one.
// - sync() makes everything written so far durable; WRITE FILEMARKS does it unless asked not to
//   (IMMED). After a crash the cartridge reopens at or after its last sync point, never with a
//   torn record. Damaged files fence the cartridge: every later call fails with the
//   FormatCorrupted or UnrecoveredRead error that fenced it, and the reason is logged.
//
// Not thread-safe: one thread at a time (the drive's), which may block in file I/O.
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
#include "storage/mam.h"
#include "storage/result.h"

namespace spdlog {
class logger;
}

namespace vtl::storage {

class Compressor;
class Partition;

struct Position {
    uint8_t partition = 0;
    uint64_t object = 0;  // logical object number: records and filemarks before this point

    bool operator==(const Position&) const = default;
};

// Capacity and partitioning, fixed when the cartridge is created or formatted.
struct Layout {
    uint64_t capacity = 0;             // bytes of stored (post-compression) data the medium holds
    std::vector<uint64_t> partitions;  // bytes per partition, 1..4 of them; one 0 takes what the
                                       // others leave; empty = a single partition of everything
    bool operator==(const Layout&) const = default;
};

// Partition sizes for `layout` (every entry resolved), or why the layout is invalid.
Result<std::vector<uint64_t>> resolve_layout(const Layout& layout);

enum class ReadKind { Record, Filemark, EndOfData };

struct ReadResult {
    ReadKind kind = ReadKind::EndOfData;
    uint32_t length = 0;  // the record's full length (for ILI and the residual)
    uint32_t copied = 0;  // bytes placed in the buffer: min(length, buffer size)
    bool bad = false;     // imported as unreadable: the drive reports 03/11/00 with the data
};

enum class SpaceStop {
    None,                  // moved the full count
    Filemark,              // spacing blocks crossed a filemark (position is past it, on the side moved to)
    EndOfData,             // reached end of data (position is at it)
    BeginningOfPartition,  // reached object 0 moving backwards
};

struct SpaceResult {
    uint64_t done = 0;  // objects of the kind asked for actually spaced (residual = count - done)
    SpaceStop stop = SpaceStop::None;
};

struct LocateResult {
    bool end_of_data = false;  // asked for beyond the end of data: positioned at it instead
};

struct WriteResult {
    bool early_warning = false;  // the partition is past its early-warning point after this write
    uint32_t stored = 0;         // bytes the record took on the medium (0 for filemarks)
    bool compressed = false;
};

struct CapacityInfo {
    uint64_t capacity = 0;          // bytes the partition holds
    uint64_t used = 0;              // stored record bytes up to the end of data, kFilemarkCapacity a filemark
    uint64_t early_warning_at = 0;  // used >= this: programmable early warning (EOM bit, 00/02)
    uint64_t record_limit = 0;      // a record may not end past this: the rest is kept for filemarks

    uint64_t remaining() const { return used < capacity ? capacity - used : 0; }
    bool early_warning() const { return used >= early_warning_at; }
    bool end_of_medium() const { return used >= capacity; }
};

// For log pages 1Bh (data compression) and 32h, and the drive's MAM counters. Since open or
// reset_counters().
struct Counters {
    uint64_t bytes_from_host = 0;    // record bytes the host wrote
    uint64_t bytes_to_medium = 0;    // bytes stored for them (after compression)
    uint64_t bytes_from_medium = 0;  // stored bytes read (whole records, even when the host took less)
    uint64_t bytes_to_host = 0;      // record bytes returned to the host
    uint64_t records_written = 0;
    uint64_t filemarks_written = 0;
    uint64_t records_read = 0;
    uint64_t filemarks_read = 0;
};

struct CartridgeOptions {
    uint64_t early_warning_margin = 0;   // bytes before the end of a partition; 0: 2% of it
    uint64_t auto_sync_bytes = 256u << 20;  // sync after this much unsynced data, like a drive's buffer
    int compression_level = 1;
    bool sync_on_close = true;           // a drive flushes its buffer on unload
    bool mapped_reads = true;            // large cached records through MappedReader; false: pread only
    // Tests only: called at named points of the write and sync paths (to kill the process there).
    std::function<void(std::string_view)> crash_point;
};

class Cartridge {
public:
    static constexpr const char* kHeaderName = "header";
    static constexpr const char* kFenceName = "FENCED";

    // Opens the cartridge in directory `dir` (which the store has validated and locked).
    // Structural damage does not fail this call: the cartridge comes back fenced.
    static Result<std::unique_ptr<Cartridge>> open(Fd dir, std::string barcode, CartridgeOptions options);
    // Writes the files of a new, empty cartridge into `dir` (the caller fsyncs and renames it).
    static Result<void> create(int dir, std::string_view barcode, const Layout& layout);

    ~Cartridge();
    Cartridge(const Cartridge&) = delete;
    Cartridge& operator=(const Cartridge&) = delete;

    const std::string& barcode() const { return barcode_; }
    // Set once the cartridge is fenced: every operation below fails with this error.
    const std::optional<Error>& fence() const { return fence_; }

    // ---- Layout and position (cheap, no I/O)
    uint8_t partition_count() const;
    Layout layout() const;
    Position position() const { return {cursor_.partition, cursor_.object}; }
    bool at_bop() const { return cursor_.object == 0; }
    bool at_eod() const { return cursor_.object == eod(); }
    uint64_t eod() const { return eod(cursor_.partition); }  // objects in the current partition
    uint64_t eod(uint8_t partition) const;
    // Filemarks before the position (READ POSITION's logical file identifier).
    uint64_t file_number() const { return filemarks_before(position()); }
    uint64_t filemarks_before(Position position) const;
    CapacityInfo capacity() const { return capacity(cursor_.partition); }
    CapacityInfo capacity(uint8_t partition) const;
    void set_early_warning_margin(uint64_t bytes) { options_.early_warning_margin = bytes; }

    // ---- Motion (O(log n) in records and filemarks, a few small reads)
    Result<LocateResult> locate(uint8_t partition, uint64_t object);
    // SPACE blocks (+ forward, - backward). Forward stops past a filemark (stop Filemark) or at
    // end of data; backward stops before a filemark (on its beginning side) or at object 0.
    Result<SpaceResult> space_blocks(int64_t count);
    // SPACE filemarks: forward ends past the count-th filemark, backward before it (on its
    // beginning side); stops at end of data or object 0.
    Result<SpaceResult> space_filemarks(int64_t count);
    // SPACE sequential filemarks: to the first run of |count| adjacent filemarks in that
    // direction (forward: past the run; backward: before it). done is |count| or 0.
    Result<SpaceResult> space_sequential_filemarks(int64_t count);
    Result<void> space_to_eod();

    // ---- Data
    // Reads the object at the position into `buffer` (a record: min(length, size) bytes; the
    // whole record is read and checked even when the buffer is shorter) and moves past it. At
    // end of data returns EndOfData and does not move. An empty buffer only verifies.
    Result<ReadResult> read_next(std::span<uint8_t> buffer);
    // Writes a record of 1..kMaxRecordLength bytes at the position (cutting what follows),
    // zstd-compressed when `compress` and smaller. EndOfMedium when it does not fit before the
    // partition's filemark reserve (CapacityInfo::record_limit).
    Result<WriteResult> write_record(std::span<const uint8_t> data, bool compress = false);
    // A record the source tape could not read (tape image import): read back with bad = true.
    Result<WriteResult> write_bad_record(std::span<const uint8_t> data);
    // Writes `count` filemarks (0 allowed) at the position, then syncs unless `sync` is false.
    // EndOfMedium, nothing written, when they do not fit (each uses kFilemarkCapacity).
    Result<WriteResult> write_filemarks(uint32_t count, bool sync = true);
    Result<void> sync();
    // ERASE: the position becomes the end of data of its partition; durable on return.
    Result<void> erase();
    // FORMAT MEDIUM / partitioning: new capacity and partitions, every partition emptied;
    // positions at (0, 0). Durable on return.
    Result<void> format(const Layout& layout);
    // Reads every object of every partition, checking headers, CRCs and the index.
    Result<void> verify();

    // ---- MAM and counters
    Result<Mam*> mam();
    const Counters& counters() const { return counters_; }
    void reset_counters() { counters_ = {}; }

private:
    Cartridge() = default;

    struct Cursor {
        uint8_t partition = 0;
        uint64_t object = 0;
        uint64_t offset = 0;  // byte offset of `object` in the partition's records file
    };

    Partition* current() const;
    Result<void> move_to(uint8_t partition, uint64_t object);
    Result<WriteResult> write(std::span<const uint8_t> data, bool compress, bool bad);
    Result<void> prepare_write();  // cuts the partition at the position if it is before EOD
    Result<void> write_header(HeaderState next);
    Result<void> open_partitions();
    // Fences the cartridge for medium errors (logged, persisted in FENCED); returns the error.
    Error fail(Error error);
    Result<void> check_fence() const;
    Compressor& compressor();
    Result<uint32_t> crc_of(int fd, uint64_t offset, uint64_t size, uint32_t crc, std::string_view what);
    void crash_point(std::string_view where) const {
        if (options_.crash_point) options_.crash_point(where);
    }

    std::string barcode_;
    CartridgeOptions options_;
    std::shared_ptr<spdlog::logger> log_;
    Fd dir_;
    Fd header_fd_;
    HeaderState header_;
    std::vector<std::unique_ptr<Partition>> partitions_;
    std::optional<Mam> mam_;
    std::optional<Error> fence_;
    Cursor cursor_;
    std::optional<RecordHeader> cursor_header_;  // checked header of the object at the cursor
    uint64_t unsynced_bytes_ = 0;
    Counters counters_;
    std::unique_ptr<Compressor> compressor_;
    std::vector<uint8_t> scratch_;  // stored bytes of a compressed record; chunks of a skipped tail
};

}  // namespace vtl::storage
