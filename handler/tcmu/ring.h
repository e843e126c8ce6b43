// The TCMU command ring of one device, over the memory the kernel shares through /dev/uioN:
// mailbox, command ring, data area (see uapi_layout.h). It walks the entries the kernel adds and
// writes completions; it knows nothing of SCSI semantics, threads or file descriptors, so the unit
// tests drive it on an ordinary buffer. One thread at a time may use a Ring.
//
// Completions are out of order (CAP_OOOC): a completion is written into the first command slot at
// cmd_tail, whichever command it belongs to, and cmd_tail moves past that slot. That overwrites the
// entry of a command still in flight; the Ring copies everything out of an entry when it is taken,
// so nothing is lost while the process lives. To let a restarted process tell what it may trust,
// every slot the Ring writes (a completion, a slot given up by an out-of-order completion, a TMR
// it has handled) carries kMark in hdr.uflags, a bit the kernel never looks at.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "tcmu/uapi_layout.h"

namespace vtl::tcmu {

// The ring or mailbox breaks the ABI; the device cannot be served.
class RingError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One piece of a command's data buffer: `offset` from the start of the mapping.
struct Iov {
    uint64_t offset = 0;
    uint64_t length = 0;
    friend bool operator==(const Iov&, const Iov&) = default;
};

struct CommandEntry {
    uint16_t cmd_id = 0;
    // The bytes at cdb_off up to the end of the entry: the CDB, zero-padded to 8 bytes.
    std::vector<uint8_t> cdb;
    // The data buffer: holds data-out as the kernel copied it in, or receives data-in.
    std::vector<Iov> iovs;
    // A bidirectional command's data-in buffer (after the data-out one).
    std::vector<Iov> bidi_iovs;
};

struct TmrEntry {
    uint8_t type = VTL_TCMU_TMR_UNKNOWN;
    // The aborted commands the ring holds (commands still queued in the kernel never reach us).
    std::vector<uint16_t> cmd_ids;
};

struct Response {
    uint8_t status = 0;
    // Copied whole, up to 96 bytes (TCMU_SENSE_BUFFERSIZE); the kernel reads it on CHECK CONDITION.
    std::span<const uint8_t> sense;
    // Data-in bytes transferred. Non-zero sets TCMU_UFLAG_READ_LEN: the kernel then moves exactly
    // this many bytes and reports the residual, also with CHECK CONDITION. It ignores 0.
    uint32_t read_len = 0;
};

// What a ring holds that no running process took: left by a process that ended, or queued while
// none was running.
struct Leftovers {
    size_t commands = 0;  // untouched command entries: they can run now
    size_t tmrs = 0;      // TMR entries nobody handled
    // Slots a previous process overwrote or gave up while commands of its were in flight: those
    // commands' entries are gone, the kernel still waits for them, and only a ring reset ends them.
    size_t lost = 0;
};

class Ring {
public:
    // hdr.uflags bit in every slot this code wrote (see above).
    static constexpr uint8_t kMark = 0x80;

    // `map` is the whole uio mapping. Throws RingError if the mailbox does not describe a command
    // ring inside it. Starts walking at cmd_tail: entries between cmd_tail and cmd_head are
    // pending work (see Leftovers).
    explicit Ring(std::span<uint8_t> map);

    uint16_t version() const;
    uint16_t flags() const;
    uint32_t ring_size() const { return size_; }
    // Offset of the data area from the start of the mapping.
    uint64_t data_offset() const { return data_off_; }

    // Walks [cmd_tail, cmd_head) without taking anything.
    Leftovers inspect() const;
    // Starts over from the mailbox after the kernel reset the ring (cmd_head = cmd_tail = 0).
    // Commands held before are forgotten: the reset completed them.
    void resync();

    // Takes every entry the kernel added since the last call, in ring order: PAD entries are
    // skipped, commands go to `on_command` (the Ring then holds them until complete()), TMR
    // entries to `on_tmr`. Entries a previous process wrote are skipped. Returns the number of
    // entries handed out. Throws RingError on an entry that breaks the ABI; entries before it
    // were handed out.
    size_t poll(const std::function<void(CommandEntry&&)>& on_command, const std::function<void(TmrEntry&&)>& on_tmr);

    // Writes the completion of a command poll() handed out, at cmd_tail, and moves cmd_tail.
    // False if `cmd_id` is not held (never write an id the kernel does not have: it would declare
    // the ring broken). The caller then tells the kernel (a write to the uio fd).
    bool complete(uint16_t cmd_id, const Response& response);
    // Moves cmd_tail past PAD and handled TMR entries no command slot precedes (complete() does
    // this too), so the kernel can reuse their space. True if it moved: tell the kernel.
    bool reclaim();

    bool holds(uint16_t cmd_id) const { return own_slot_.contains(cmd_id); }
    size_t in_flight() const { return own_slot_.size(); }
    uint32_t cmd_tail() const;
    uint32_t cmd_head() const;

    // The data area. Iovs handed out by poll() were checked to lie inside it.
    std::span<uint8_t> bytes(const Iov& iov) { return map_.subspan(iov.offset, iov.length); }
    static uint64_t total_length(std::span<const Iov> iovs);
    // The buffer as one span when its pieces are adjacent in the mapping (the common case: the
    // kernel merges adjacent blocks into one iov).
    std::optional<std::span<uint8_t>> contiguous(std::span<const Iov> iovs);
    // Copies the buffer out into `out` (at most out.size() bytes); returns the bytes copied.
    size_t gather(std::span<const Iov> iovs, std::span<uint8_t> out);
    // Copies `data` into the buffer (at most its length); returns the bytes copied.
    size_t scatter(std::span<const Iov> iovs, std::span<const uint8_t> data);

private:
    struct Slot {
        uint8_t op = 0;
        uint32_t length = 0;
    };
    Slot slot_at(uint32_t pos) const;  // validates the header
    uint32_t advance(uint32_t pos, uint32_t length) const { return (pos + length) % size_; }
    uint8_t* entry(uint32_t pos) { return map_.data() + cmdr_off_ + pos; }
    const uint8_t* entry(uint32_t pos) const { return map_.data() + cmdr_off_ + pos; }
    CommandEntry read_command(uint32_t pos, uint32_t length) const;
    TmrEntry read_tmr(uint32_t pos, uint32_t length) const;
    void publish_tail();

    std::span<uint8_t> map_;
    uint32_t cmdr_off_ = 0;
    uint32_t size_ = 0;
    uint64_t data_off_ = 0;
    uint32_t next_ = 0;  // next entry to walk
    uint32_t tail_ = 0;  // our cmd_tail, published after every completion
    // Held commands: the slot of each one's own entry, while that entry is intact.
    std::unordered_map<uint16_t, std::optional<uint32_t>> own_slot_;
    std::map<uint32_t, uint16_t> slot_owner_;
};

}  // namespace vtl::tcmu
