#include "tcmu/ring.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include <fmt/format.h>

namespace vtl::tcmu {

namespace {

template <typename T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <typename T>
void store(uint8_t* p, T v) {
    std::memcpy(p, &v, sizeof v);
}

// The mailbox's head and tail are shared with the kernel: acquire the head before reading the
// entries it covers, release the tail after writing the completions it covers.
uint32_t load_acquire(const uint8_t* p) {
    return std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(const_cast<uint8_t*>(p)))
        .load(std::memory_order_acquire);
}

void store_release(uint8_t* p, uint32_t v) {
    std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(p)).store(v, std::memory_order_release);
}

const char* op_name(uint8_t op) {
    switch (op) {
        case VTL_TCMU_OP_PAD: return "PAD";
        case VTL_TCMU_OP_CMD: return "CMD";
        case VTL_TCMU_OP_TMR: return "TMR";
    }
    return "?";
}

}  // namespace

Ring::Ring(std::span<uint8_t> map) : map_(map) {
    if (map_.size() < VTL_TCMU_MB_SIZE) throw RingError(fmt::format("mapping of {} bytes holds no mailbox", map_.size()));
    if (version() != VTL_TCMU_MAILBOX_VERSION) {
        throw RingError(fmt::format("mailbox version {}, this code speaks version {}", version(),
                                    static_cast<int>(VTL_TCMU_MAILBOX_VERSION)));
    }
    cmdr_off_ = load<uint32_t>(map_.data() + VTL_TCMU_MB_CMDR_OFF);
    size_ = load<uint32_t>(map_.data() + VTL_TCMU_MB_CMDR_SIZE);
    if (cmdr_off_ < VTL_TCMU_MB_SIZE || cmdr_off_ % VTL_TCMU_OP_ALIGN_SIZE != 0 || size_ < VTL_TCMU_CMD_ENTRY_SIZE ||
        size_ % VTL_TCMU_OP_ALIGN_SIZE != 0 || uint64_t{cmdr_off_} + size_ > map_.size()) {
        throw RingError(fmt::format("mailbox places a {}-byte command ring at offset {} in a {}-byte mapping", size_,
                                    cmdr_off_, map_.size()));
    }
    data_off_ = uint64_t{cmdr_off_} + size_;
    resync();
}

uint16_t Ring::version() const { return load<uint16_t>(map_.data() + VTL_TCMU_MB_VERSION); }
uint16_t Ring::flags() const { return load<uint16_t>(map_.data() + VTL_TCMU_MB_FLAGS); }

uint32_t Ring::cmd_head() const {
    const uint32_t head = load_acquire(map_.data() + VTL_TCMU_MB_CMD_HEAD);
    if (head >= size_ || head % VTL_TCMU_OP_ALIGN_SIZE != 0) {
        throw RingError(fmt::format("cmd_head {} outside a {}-byte ring", head, size_));
    }
    return head;
}

uint32_t Ring::cmd_tail() const { return load_acquire(map_.data() + VTL_TCMU_MB_CMD_TAIL); }

void Ring::resync() {
    const uint32_t tail = cmd_tail();
    if (tail >= size_ || tail % VTL_TCMU_OP_ALIGN_SIZE != 0) {
        throw RingError(fmt::format("cmd_tail {} outside a {}-byte ring", tail, size_));
    }
    tail_ = next_ = tail;
    own_slot_.clear();
    slot_owner_.clear();
}

Ring::Slot Ring::slot_at(uint32_t pos) const {
    const uint32_t len_op = load<uint32_t>(entry(pos) + VTL_TCMU_HDR_LEN_OP);
    Slot s{static_cast<uint8_t>(len_op & VTL_TCMU_OP_MASK), len_op & ~uint32_t{VTL_TCMU_OP_MASK}};
    // Entries never wrap: the kernel pads to the end of the ring instead.
    if (s.length < VTL_TCMU_HDR_SIZE || uint64_t{pos} + s.length > size_) {
        throw RingError(fmt::format("{} entry at ring offset {} has length {} (ring size {})", op_name(s.op), pos,
                                    s.length, size_));
    }
    return s;
}

CommandEntry Ring::read_command(uint32_t pos, uint32_t length) const {
    const uint8_t* e = entry(pos);
    CommandEntry c;
    c.cmd_id = load<uint16_t>(e + VTL_TCMU_HDR_CMD_ID);
    const uint64_t iov_cnt = load<uint32_t>(e + VTL_TCMU_REQ_IOV_CNT);
    const uint64_t bidi_cnt = load<uint32_t>(e + VTL_TCMU_REQ_IOV_BIDI_CNT);
    const uint64_t dif_cnt = load<uint32_t>(e + VTL_TCMU_REQ_IOV_DIF_CNT);
    const uint64_t iov_end = VTL_TCMU_REQ_IOV + (iov_cnt + bidi_cnt + dif_cnt) * VTL_TCMU_IOV_SIZE;
    if (length < VTL_TCMU_CMD_ENTRY_SIZE || iov_end > length) {
        throw RingError(fmt::format("command entry cmd_id {} at ring offset {}: {} iovs do not fit its {} bytes",
                                    c.cmd_id, pos, iov_cnt + bidi_cnt + dif_cnt, length));
    }
    // The CDB follows the iovs inside the entry; offsets are from the start of the mailbox.
    const uint64_t entry_start = uint64_t{cmdr_off_} + pos;
    const uint64_t cdb_off = load<uint64_t>(e + VTL_TCMU_REQ_CDB_OFF);
    if (cdb_off < entry_start + iov_end || cdb_off >= entry_start + length) {
        throw RingError(fmt::format("command entry cmd_id {} at ring offset {}: cdb_off {} is outside the entry",
                                    c.cmd_id, pos, cdb_off));
    }
    c.cdb.assign(map_.data() + cdb_off, map_.data() + entry_start + length);

    auto read_iovs = [&](uint64_t first, uint64_t count, std::vector<Iov>& out) {
        out.reserve(count);
        for (uint64_t i = 0; i < count; ++i) {
            const uint8_t* v = e + VTL_TCMU_REQ_IOV + (first + i) * VTL_TCMU_IOV_SIZE;
            Iov iov{load<uint64_t>(v + VTL_TCMU_IOV_BASE), load<uint64_t>(v + VTL_TCMU_IOV_LEN)};
            if (iov.offset < data_off_ || iov.offset > map_.size() || iov.length > map_.size() - iov.offset) {
                throw RingError(fmt::format("command entry cmd_id {}: iov {} (offset {}, length {}) is outside the "
                                            "data area [{}, {})",
                                            c.cmd_id, first + i, iov.offset, iov.length, data_off_, map_.size()));
            }
            out.push_back(iov);
        }
    };
    read_iovs(0, iov_cnt, c.iovs);
    read_iovs(iov_cnt, bidi_cnt, c.bidi_iovs);
    return c;
}

TmrEntry Ring::read_tmr(uint32_t pos, uint32_t length) const {
    const uint8_t* e = entry(pos);
    TmrEntry t;
    t.type = e[VTL_TCMU_TMR_TYPE];
    const uint64_t count = load<uint32_t>(e + VTL_TCMU_TMR_CMD_CNT);
    if (length < VTL_TCMU_TMR_ENTRY_SIZE || VTL_TCMU_TMR_CMD_IDS + count * sizeof(uint16_t) > length) {
        throw RingError(fmt::format("TMR entry at ring offset {}: {} cmd_ids do not fit its {} bytes", pos, count, length));
    }
    t.cmd_ids.reserve(count);
    for (uint64_t i = 0; i < count; ++i) t.cmd_ids.push_back(load<uint16_t>(e + VTL_TCMU_TMR_CMD_IDS + i * 2));
    return t;
}

Leftovers Ring::inspect() const {
    Leftovers left;
    const uint32_t head = cmd_head();
    for (uint32_t pos = tail_; pos != head;) {
        const Slot s = slot_at(pos);
        const bool marked = entry(pos)[VTL_TCMU_HDR_UFLAGS] & kMark;
        if (s.op == VTL_TCMU_OP_CMD) {
            ++(marked ? left.lost : left.commands);
        } else if (s.op == VTL_TCMU_OP_TMR && !marked) {
            ++left.tmrs;
        }
        pos = advance(pos, s.length);
    }
    return left;
}

size_t Ring::poll(const std::function<void(CommandEntry&&)>& on_command, const std::function<void(TmrEntry&&)>& on_tmr) {
    size_t handed = 0;
    const uint32_t head = cmd_head();
    while (next_ != head) {
        const uint32_t pos = next_;
        const Slot s = slot_at(pos);
        uint8_t& uflags = entry(pos)[VTL_TCMU_HDR_UFLAGS];
        switch (s.op) {
            case VTL_TCMU_OP_PAD:
                next_ = advance(pos, s.length);
                break;
            case VTL_TCMU_OP_CMD: {
                if (uflags & kMark) {  // a previous process's slot: no command in it any more
                    next_ = advance(pos, s.length);
                    break;
                }
                CommandEntry c = read_command(pos, s.length);
                if (own_slot_.contains(c.cmd_id)) {
                    throw RingError(fmt::format("cmd_id {} at ring offset {} is already in flight", c.cmd_id, pos));
                }
                own_slot_.emplace(c.cmd_id, pos);
                slot_owner_.emplace(pos, c.cmd_id);
                next_ = advance(pos, s.length);
                ++handed;
                on_command(std::move(c));
                break;
            }
            case VTL_TCMU_OP_TMR: {
                next_ = advance(pos, s.length);
                if (uflags & kMark) break;  // handled by a previous process
                TmrEntry t = read_tmr(pos, s.length);
                uflags |= kMark;
                ++handed;
                on_tmr(std::move(t));
                break;
            }
            default:
                throw RingError(fmt::format("entry at ring offset {} has unknown opcode {}", pos, s.op));
        }
    }
    return handed;
}

bool Ring::reclaim() {
    // PAD and handled TMR entries at the tail hold ring space nobody will complete.
    const uint32_t before = tail_;
    while (tail_ != next_) {
        const Slot s = slot_at(tail_);
        if (s.op == VTL_TCMU_OP_CMD) break;
        tail_ = advance(tail_, s.length);
    }
    if (tail_ == before) return false;
    publish_tail();
    return true;
}

bool Ring::complete(uint16_t cmd_id, const Response& response) {
    const auto held = own_slot_.find(cmd_id);
    if (held == own_slot_.end()) return false;

    // The first command slot from the tail; every slot before the walk position was taken.
    uint32_t pos = tail_;
    for (;;) {
        if (pos == next_) throw RingError(fmt::format("no command slot left for cmd_id {} before the walk position", cmd_id));
        const Slot s = slot_at(pos);
        if (s.op == VTL_TCMU_OP_CMD) break;
        pos = advance(pos, s.length);
    }
    const Slot slot = slot_at(pos);
    if (slot.length < VTL_TCMU_CMD_ENTRY_SIZE) {
        throw RingError(fmt::format("command slot at ring offset {} is {} bytes, too short for a completion", pos,
                                    slot.length));
    }
    uint8_t* e = entry(pos);

    // Out of order: our own entry stays behind the tail as a given-up slot (a later completion
    // reuses it); the entry in `pos`, if another command's, is gone (that command was copied out).
    if (held->second && *held->second != pos) {
        entry(*held->second)[VTL_TCMU_HDR_UFLAGS] |= kMark;
        slot_owner_.erase(*held->second);
    }
    if (auto owner = slot_owner_.find(pos); owner != slot_owner_.end()) {
        if (owner->second != cmd_id) own_slot_[owner->second].reset();
        slot_owner_.erase(owner);
    }

    // The mark goes in first, so a process killed halfway leaves a slot a restart will not trust.
    e[VTL_TCMU_HDR_UFLAGS] = kMark | (response.read_len ? uint8_t{VTL_TCMU_UFLAG_READ_LEN} : uint8_t{0});
    std::atomic_signal_fence(std::memory_order_seq_cst);
    store<uint16_t>(e + VTL_TCMU_HDR_CMD_ID, cmd_id);
    e[VTL_TCMU_RSP_SCSI_STATUS] = response.status;
    std::memset(e + VTL_TCMU_RSP_SCSI_STATUS + 1, 0, VTL_TCMU_RSP_READ_LEN - VTL_TCMU_RSP_SCSI_STATUS - 1);
    store<uint32_t>(e + VTL_TCMU_RSP_READ_LEN, response.read_len);
    const size_t sense = std::min<size_t>(response.sense.size(), VTL_TCMU_SENSE_BUFFERSIZE);
    if (sense > 0) std::memcpy(e + VTL_TCMU_RSP_SENSE, response.sense.data(), sense);
    std::memset(e + VTL_TCMU_RSP_SENSE + sense, 0, VTL_TCMU_SENSE_BUFFERSIZE - sense);

    own_slot_.erase(held);
    tail_ = advance(pos, slot.length);
    while (tail_ != next_) {  // as reclaim(), published once below
        const Slot s = slot_at(tail_);
        if (s.op == VTL_TCMU_OP_CMD) break;
        tail_ = advance(tail_, s.length);
    }
    publish_tail();
    return true;
}

void Ring::publish_tail() { store_release(map_.data() + VTL_TCMU_MB_CMD_TAIL, tail_); }

uint64_t Ring::total_length(std::span<const Iov> iovs) {
    uint64_t total = 0;
    for (const auto& iov : iovs) total += iov.length;
    return total;
}

std::optional<std::span<uint8_t>> Ring::contiguous(std::span<const Iov> iovs) {
    if (iovs.empty()) return std::span<uint8_t>{};
    uint64_t end = iovs.front().offset;
    for (const auto& iov : iovs) {
        if (iov.offset != end) return std::nullopt;
        end += iov.length;
    }
    return map_.subspan(iovs.front().offset, end - iovs.front().offset);
}

size_t Ring::gather(std::span<const Iov> iovs, std::span<uint8_t> out) {
    size_t done = 0;
    for (const auto& iov : iovs) {
        if (done == out.size()) break;
        const size_t n = std::min<uint64_t>(iov.length, out.size() - done);
        std::memcpy(out.data() + done, map_.data() + iov.offset, n);
        done += n;
    }
    return done;
}

size_t Ring::scatter(std::span<const Iov> iovs, std::span<const uint8_t> data) {
    size_t done = 0;
    for (const auto& iov : iovs) {
        if (done == data.size()) break;
        const size_t n = std::min<uint64_t>(iov.length, data.size() - done);
        std::memcpy(map_.data() + iov.offset, data.data() + done, n);
        done += n;
    }
    return done;
}

}  // namespace vtl::tcmu
