// The TCMU transport against an in-memory mailbox laid out as <linux/target_core_user.h> says:
// a fake kernel queues commands (iovs, CDB), PAD entries at the end of the ring and TMR entries,
// and reaps completions the way target_core_user does (from its last cleaned slot up to cmd_tail,
// reading each slot's cmd_id), so out-of-order completion, READ_LEN and sense are checked byte
// for byte. Then a Device on that ring, a logical unit and a real EventLoop.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/event_loop.h"
#include "core/logical_unit.h"
#include "device/device.h"
#include "scsi/bytes.h"
#include "tcmu/device.h"
#include "tcmu/discovery.h"
#include "tcmu/ring.h"
#include "tcmu/uapi_layout.h"

namespace vtl::tcmu {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

template <typename T>
T get(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <typename T>
void put(uint8_t* p, T v) {
    std::memcpy(p, &v, sizeof v);
}

// One completion as the kernel reads it from a slot.
struct Reaped {
    uint32_t slot = 0;
    uint32_t len_op = 0;
    uint16_t cmd_id = 0;
    uint8_t uflags = 0;
    uint8_t status = 0;
    uint32_t read_len = 0;
    Bytes sense;  // all 96 bytes
};

// A data buffer piece: offset and length inside the data area.
struct Buffer {
    uint32_t offset = 0;
    uint32_t length = 0;
};

// The kernel's side of the ring.
class FakeKernel {
public:
    static constexpr uint32_t kCmdrOff = VTL_TCMU_MB_SIZE;

    explicit FakeKernel(uint32_t ring_size = 4096, uint32_t data_size = 64 * 1024,
                        uint16_t flags = VTL_TCMU_CAP_OOOC | VTL_TCMU_CAP_READ_LEN | VTL_TCMU_CAP_TMR)
        : mem_(kCmdrOff + ring_size + data_size, 0), size_(ring_size) {
        put<uint16_t>(mb() + VTL_TCMU_MB_VERSION, VTL_TCMU_MAILBOX_VERSION);
        put<uint16_t>(mb() + VTL_TCMU_MB_FLAGS, flags);
        put<uint32_t>(mb() + VTL_TCMU_MB_CMDR_OFF, kCmdrOff);
        put<uint32_t>(mb() + VTL_TCMU_MB_CMDR_SIZE, ring_size);
        // Stale bytes everywhere a previous command could have left them.
        std::fill(mem_.begin() + kCmdrOff, mem_.end(), uint8_t{0xEE});
    }

    std::span<uint8_t> map() { return mem_; }
    uint64_t data_off() const { return kCmdrOff + size_; }
    std::span<uint8_t> data(const Buffer& b) { return std::span(mem_).subspan(data_off() + b.offset, b.length); }
    Iov iov(const Buffer& b) const { return Iov{data_off() + b.offset, b.length}; }
    uint8_t* entry(uint32_t pos) { return mem_.data() + kCmdrOff + pos; }

    uint32_t head() const { return atomic(VTL_TCMU_MB_CMD_HEAD).load(std::memory_order_acquire); }
    uint32_t tail() const { return atomic(VTL_TCMU_MB_CMD_TAIL).load(std::memory_order_acquire); }
    const std::set<uint16_t>& outstanding() const { return outstanding_; }

    // Queues a command as the kernel does; nullopt when the ring has no room for it. cmd_ids are
    // the lowest free ones from 1, as the kernel allocates them.
    std::optional<uint16_t> submit(const Bytes& cdb, const std::vector<Buffer>& iovs = {},
                                   const std::vector<Buffer>& bidi = {}) {
        const uint32_t n = static_cast<uint32_t>(iovs.size() + bidi.size());
        const uint32_t base = std::max<uint32_t>(VTL_TCMU_REQ_IOV + n * VTL_TCMU_IOV_SIZE, VTL_TCMU_CMD_ENTRY_SIZE);
        const uint32_t length = base + round8(static_cast<uint32_t>(cdb.size()));
        if (!make_room(length)) return std::nullopt;
        uint16_t id = 1;
        while (outstanding_.contains(id)) ++id;
        const uint32_t pos = head();
        uint8_t* e = entry(pos);
        std::memset(e, 0, length);
        put<uint32_t>(e + VTL_TCMU_HDR_LEN_OP, length | VTL_TCMU_OP_CMD);
        put<uint16_t>(e + VTL_TCMU_HDR_CMD_ID, id);
        put<uint32_t>(e + VTL_TCMU_REQ_IOV_CNT, static_cast<uint32_t>(iovs.size()));
        put<uint32_t>(e + VTL_TCMU_REQ_IOV_BIDI_CNT, static_cast<uint32_t>(bidi.size()));
        put<uint64_t>(e + VTL_TCMU_REQ_CDB_OFF, kCmdrOff + pos + base);
        uint32_t i = 0;
        for (const auto* list : {&iovs, &bidi}) {
            for (const auto& b : *list) {
                uint8_t* v = e + VTL_TCMU_REQ_IOV + i++ * VTL_TCMU_IOV_SIZE;
                put<uint64_t>(v + VTL_TCMU_IOV_BASE, data_off() + b.offset);
                put<uint64_t>(v + VTL_TCMU_IOV_LEN, b.length);
            }
        }
        std::memcpy(e + base, cdb.data(), cdb.size());
        outstanding_.insert(id);
        set_head((pos + length) % size_);
        return id;
    }

    bool submit_tmr(uint8_t type, const std::vector<uint16_t>& ids) {
        const uint32_t length = round8(VTL_TCMU_TMR_CMD_IDS + static_cast<uint32_t>(ids.size()) * 2);
        if (!make_room(length)) return false;
        const uint32_t pos = head();
        uint8_t* e = entry(pos);
        std::memset(e, 0, length);
        put<uint32_t>(e + VTL_TCMU_HDR_LEN_OP, length | VTL_TCMU_OP_TMR);
        e[VTL_TCMU_TMR_TYPE] = type;
        put<uint32_t>(e + VTL_TCMU_TMR_CMD_CNT, static_cast<uint32_t>(ids.size()));
        for (size_t i = 0; i < ids.size(); ++i) put<uint16_t>(e + VTL_TCMU_TMR_CMD_IDS + i * 2, ids[i]);
        set_head((pos + length) % size_);
        return true;
    }

    // What the kernel does on a write to the uio fd: everything from its last cleaned slot up to
    // cmd_tail. A cmd_id it does not have is the ring-broken case: a test failure here.
    std::vector<Reaped> reap() {
        std::vector<Reaped> out;
        const uint32_t tail = this->tail();
        EXPECT_LT(tail, size_);
        while (last_cleaned_ != tail) {
            uint8_t* e = entry(last_cleaned_);
            const uint32_t len_op = get<uint32_t>(e + VTL_TCMU_HDR_LEN_OP);
            const uint32_t length = len_op & ~uint32_t{VTL_TCMU_OP_MASK};
            const uint32_t op = len_op & VTL_TCMU_OP_MASK;
            if (length == 0 || last_cleaned_ + length > size_) {
                ADD_FAILURE() << "bad entry length " << length << " at " << last_cleaned_;
                return out;
            }
            if (op == VTL_TCMU_OP_CMD) {
                Reaped r;
                r.slot = last_cleaned_;
                r.len_op = len_op;
                r.cmd_id = get<uint16_t>(e + VTL_TCMU_HDR_CMD_ID);
                r.uflags = e[VTL_TCMU_HDR_UFLAGS];
                r.status = e[VTL_TCMU_RSP_SCSI_STATUS];
                r.read_len = get<uint32_t>(e + VTL_TCMU_RSP_READ_LEN);
                r.sense.assign(e + VTL_TCMU_RSP_SENSE, e + VTL_TCMU_RSP_SENSE + VTL_TCMU_SENSE_BUFFERSIZE);
                if (outstanding_.erase(r.cmd_id) != 1) ADD_FAILURE() << "cmd_id " << r.cmd_id << " not found, ring is broken";
                out.push_back(std::move(r));
            } else {
                EXPECT_TRUE(op == VTL_TCMU_OP_PAD || op == VTL_TCMU_OP_TMR) << "op " << op;
            }
            last_cleaned_ = (last_cleaned_ + length) % size_;
        }
        return out;
    }

    // configfs action/reset_ring: every outstanding command ends (BUSY) and the ring empties.
    std::set<uint16_t> reset() {
        auto failed = std::move(outstanding_);
        outstanding_.clear();
        last_cleaned_ = 0;
        atomic(VTL_TCMU_MB_CMD_TAIL).store(0, std::memory_order_release);
        set_head(0);
        return failed;
    }

private:
    static uint32_t round8(uint32_t n) { return (n + 7) & ~7u; }
    uint8_t* mb() { return mem_.data(); }
    std::atomic_ref<uint32_t> atomic(size_t offset) const {
        return std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(const_cast<uint8_t*>(mem_.data()) + offset));
    }
    void set_head(uint32_t head) { atomic(VTL_TCMU_MB_CMD_HEAD).store(head, std::memory_order_release); }

    bool make_room(uint32_t length) {
        const uint32_t head = this->head();
        const uint32_t to_end = size_ - head;
        const uint32_t needed = to_end >= length ? length : length + to_end;
        const uint32_t used = (head + size_ - last_cleaned_) % size_;
        if (size_ - used - 1 < needed) return false;
        if (to_end < length) {  // PAD to the end; the entry goes at offset 0
            uint8_t* e = entry(head);
            std::memset(e, 0, VTL_TCMU_HDR_SIZE);
            put<uint32_t>(e + VTL_TCMU_HDR_LEN_OP, to_end | VTL_TCMU_OP_PAD);
            set_head(0);
        }
        return true;
    }

    std::vector<uint8_t> mem_;
    uint32_t size_;
    uint32_t last_cleaned_ = 0;
    std::set<uint16_t> outstanding_;
};

Bytes inquiry(uint16_t length) { return {0x12, 0, 0, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length), 0}; }

std::vector<CommandEntry> take_all(Ring& ring, std::vector<TmrEntry>* tmrs = nullptr) {
    std::vector<CommandEntry> out;
    ring.poll([&](CommandEntry&& c) { out.push_back(std::move(c)); },
              [&](TmrEntry&& t) {
                  if (tmrs) tmrs->push_back(std::move(t));
              });
    return out;
}

// --- Ring ---------------------------------------------------------------------------------

TEST(TcmuRing, RefusesAMailboxItCannotServe) {
    FakeKernel k;
    put<uint16_t>(k.map().data() + VTL_TCMU_MB_VERSION, 1);
    EXPECT_THROW(Ring{k.map()}, RingError);

    FakeKernel small;
    put<uint32_t>(small.map().data() + VTL_TCMU_MB_CMDR_SIZE, 1 << 20);  // beyond the mapping
    EXPECT_THROW(Ring{small.map()}, RingError);

    std::vector<uint8_t> tiny(64);
    EXPECT_THROW(Ring{tiny}, RingError);
}

TEST(TcmuRing, TakesACommandWithItsCdbAndIovs) {
    FakeKernel k;
    const auto id = k.submit({0x08, 0x00, 0x00, 0x10, 0x00, 0x00}, {{0, 4096}, {8192, 100}});
    ASSERT_TRUE(id);
    Ring ring(k.map());
    EXPECT_EQ(ring.flags(), VTL_TCMU_CAP_OOOC | VTL_TCMU_CAP_READ_LEN | VTL_TCMU_CAP_TMR);
    const auto cmds = take_all(ring);
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].cmd_id, *id);
    // The CDB zero-padded to 8 bytes, as the ring holds it.
    EXPECT_EQ(cmds[0].cdb, (Bytes{0x08, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00}));
    EXPECT_EQ(cmds[0].iovs, (std::vector<Iov>{k.iov({0, 4096}), k.iov({8192, 100})}));
    EXPECT_TRUE(cmds[0].bidi_iovs.empty());
    EXPECT_TRUE(ring.holds(*id));
    EXPECT_EQ(ring.in_flight(), 1u);
    // Nothing new: nothing handed out twice.
    EXPECT_TRUE(take_all(ring).empty());
}

TEST(TcmuRing, CompletionIsWrittenByteForByteAtTheTail) {
    FakeKernel k;
    const auto id = *k.submit(inquiry(96), {{0, 96}});
    Ring ring(k.map());
    take_all(ring);
    const uint32_t len_op = get<uint32_t>(k.entry(0));

    const Bytes sense = {0x70, 0, 0x05, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x24, 0x00, 0, 0xC0, 0x00, 0x02};
    ASSERT_TRUE(ring.complete(id, Response{0x02, sense, 0}));
    EXPECT_FALSE(ring.holds(id));
    EXPECT_EQ(k.tail(), k.head());

    const auto reaped = k.reap();
    ASSERT_EQ(reaped.size(), 1u);
    const auto& r = reaped[0];
    EXPECT_EQ(r.slot, 0u);
    EXPECT_EQ(r.len_op, len_op);  // the slot keeps its length and CMD opcode
    EXPECT_EQ(r.cmd_id, id);
    EXPECT_EQ(r.status, 0x02);
    EXPECT_EQ(r.uflags, Ring::kMark);  // no READ_LEN: nothing transferred
    EXPECT_EQ(r.read_len, 0u);
    Bytes expected(96, 0);
    std::copy(sense.begin(), sense.end(), expected.begin());
    EXPECT_EQ(r.sense, expected);
    EXPECT_EQ(k.entry(0)[VTL_TCMU_RSP_SCSI_STATUS + 1], 0);  // padding cleared
    EXPECT_TRUE(k.outstanding().empty());
}

TEST(TcmuRing, ShortReadSetsReadLen) {
    FakeKernel k;
    const auto id = *k.submit(inquiry(255), {{0, 255}});
    Ring ring(k.map());
    take_all(ring);
    ASSERT_TRUE(ring.complete(id, Response{0x00, {}, 36}));
    const auto r = k.reap().at(0);
    EXPECT_EQ(r.uflags, Ring::kMark | VTL_TCMU_UFLAG_READ_LEN);
    EXPECT_EQ(r.read_len, 36u);
    EXPECT_EQ(r.sense, Bytes(96, 0));
}

TEST(TcmuRing, SenseIsCopiedWholeUpToNinetySixBytes) {
    FakeKernel k;
    const auto a = *k.submit(inquiry(0));
    const auto b = *k.submit(inquiry(0));
    Ring ring(k.map());
    take_all(ring);
    // Fixed format with VALID, FILEMARK, EOM, ILI, INFORMATION, command-specific and SKSV.
    const Bytes fixed = {0xF0, 0x00, 0xE3, 0x00, 0x00, 0x12, 0x34, 0x0A, 0xDE, 0xAD,
                         0xBE, 0xEF, 0x00, 0x02, 0x00, 0x80, 0x12, 0x34};
    Bytes huge(120);
    std::iota(huge.begin(), huge.end(), uint8_t{1});
    ASSERT_TRUE(ring.complete(a, Response{0x02, fixed, 0}));
    ASSERT_TRUE(ring.complete(b, Response{0x02, huge, 0}));
    const auto reaped = k.reap();
    ASSERT_EQ(reaped.size(), 2u);
    EXPECT_TRUE(std::equal(fixed.begin(), fixed.end(), reaped[0].sense.begin()));
    EXPECT_TRUE(std::all_of(reaped[0].sense.begin() + 18, reaped[0].sense.end(), [](uint8_t v) { return v == 0; }));
    EXPECT_EQ(reaped[1].sense, Bytes(huge.begin(), huge.begin() + 96));
}

TEST(TcmuRing, CompletesOutOfOrderAtTheTail) {
    FakeKernel k;
    const auto a = *k.submit(inquiry(0));
    const auto b = *k.submit({0x00, 0, 0, 0, 0, 0});
    const auto c = *k.submit({0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});  // a longer entry
    Ring ring(k.map());
    ASSERT_EQ(take_all(ring).size(), 3u);
    const uint32_t slot_a = 0;
    const uint32_t slot_b = get<uint32_t>(k.entry(slot_a)) & ~7u;
    const uint32_t slot_c = slot_b + (get<uint32_t>(k.entry(slot_b)) & ~7u);

    // C first: into A's slot, whose entry was copied out when A was taken.
    ASSERT_TRUE(ring.complete(c, Response{0x00, {}, 0}));
    auto reaped = k.reap();
    ASSERT_EQ(reaped.size(), 1u);
    EXPECT_EQ(reaped[0].cmd_id, c);
    EXPECT_EQ(reaped[0].slot, slot_a);
    EXPECT_EQ(k.tail(), slot_b);
    EXPECT_TRUE(k.entry(slot_c)[VTL_TCMU_HDR_UFLAGS] & Ring::kMark);  // C's own slot, given up

    // A next: into B's slot; then B into C's given-up slot.
    ASSERT_TRUE(ring.complete(a, Response{0x00, {}, 0}));
    ASSERT_TRUE(ring.complete(b, Response{0x08, {}, 0}));
    reaped = k.reap();
    ASSERT_EQ(reaped.size(), 2u);
    EXPECT_EQ(reaped[0].cmd_id, a);
    EXPECT_EQ(reaped[0].slot, slot_b);
    EXPECT_EQ(reaped[1].cmd_id, b);
    EXPECT_EQ(reaped[1].slot, slot_c);
    EXPECT_EQ(reaped[1].status, 0x08);
    EXPECT_EQ(k.tail(), k.head());
    EXPECT_TRUE(k.outstanding().empty());
    EXPECT_EQ(ring.in_flight(), 0u);
}

TEST(TcmuRing, RefusesToCompleteACommandItDoesNotHold) {
    FakeKernel k;
    const auto a = *k.submit(inquiry(0));
    Ring ring(k.map());
    EXPECT_FALSE(ring.complete(a, Response{}));  // not taken yet
    take_all(ring);
    EXPECT_FALSE(ring.complete(a + 1, Response{}));
    EXPECT_EQ(k.tail(), 0u);
    EXPECT_TRUE(ring.complete(a, Response{}));
    EXPECT_FALSE(ring.complete(a, Response{}));  // twice
    EXPECT_EQ(k.reap().size(), 1u);
}

TEST(TcmuRing, SkipsThePadAtTheEndOfTheRing) {
    FakeKernel k(512);
    Ring ring(k.map());
    // 112 + 8 = 120-byte entries: the fifth does not fit in the 32 bytes left at the end.
    for (int i = 0; i < 4; ++i) {
        const auto id = *k.submit(inquiry(0));
        ASSERT_EQ(take_all(ring).size(), 1u);
        ASSERT_TRUE(ring.complete(id, Response{}));
        ASSERT_EQ(k.reap().size(), 1u);
    }
    EXPECT_EQ(k.head(), 480u);
    const auto id = *k.submit(inquiry(0), {{0, 10}});
    EXPECT_EQ(k.head(), 120u);  // after a 32-byte PAD at 480, the entry went to offset 0
    EXPECT_EQ(get<uint32_t>(k.entry(480)), 32u | VTL_TCMU_OP_PAD);
    const auto cmds = take_all(ring);
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].cmd_id, id);
    EXPECT_EQ(cmds[0].iovs.at(0), k.iov({0, 10}));
    ASSERT_TRUE(ring.complete(id, Response{0x00, {}, 10}));
    const auto reaped = k.reap();  // the kernel walks over the PAD to the slot at 0
    ASSERT_EQ(reaped.size(), 1u);
    EXPECT_EQ(reaped[0].slot, 0u);
    EXPECT_EQ(k.tail(), 120u);
}

TEST(TcmuRing, HandsOutTmrEntriesAndReclaimsTheirSpace) {
    FakeKernel k;
    const auto a = *k.submit(inquiry(0));
    const auto b = *k.submit(inquiry(0));
    ASSERT_TRUE(k.submit_tmr(VTL_TCMU_TMR_ABORT_TASK, {b, 77}));
    Ring ring(k.map());
    std::vector<TmrEntry> tmrs;
    EXPECT_EQ(take_all(ring, &tmrs).size(), 2u);
    ASSERT_EQ(tmrs.size(), 1u);
    EXPECT_EQ(tmrs[0].type, VTL_TCMU_TMR_ABORT_TASK);
    EXPECT_EQ(tmrs[0].cmd_ids, (std::vector<uint16_t>{b, 77}));
    EXPECT_FALSE(ring.reclaim());  // commands still hold the slots before it

    ASSERT_TRUE(ring.complete(b, Response{0x40, {}, 0}));
    ASSERT_TRUE(ring.complete(a, Response{}));
    EXPECT_EQ(k.tail(), k.head());  // past the TMR entry too
    EXPECT_EQ(k.reap().size(), 2u);

    // A TMR with nothing in flight (LUN RESET of an idle device) is reclaimed at once.
    ASSERT_TRUE(k.submit_tmr(VTL_TCMU_TMR_LUN_RESET, {}));
    tmrs.clear();
    take_all(ring, &tmrs);
    ASSERT_EQ(tmrs.size(), 1u);
    EXPECT_TRUE(tmrs[0].cmd_ids.empty());
    EXPECT_TRUE(ring.reclaim());
    EXPECT_EQ(k.tail(), k.head());
}

TEST(TcmuRing, GathersAndScattersNonContiguousBuffers) {
    FakeKernel k;
    const std::vector<Buffer> pieces = {{8192, 100}, {0, 50}, {20000, 200}};
    const auto id = *k.submit({0x0A, 0, 0, 1, 0x5E, 0}, pieces);
    Bytes out(350);
    std::iota(out.begin(), out.end(), uint8_t{0});
    size_t at = 0;
    for (const auto& p : pieces) {
        std::copy_n(out.begin() + at, p.length, k.data(p).begin());
        at += p.length;
    }
    Ring ring(k.map());
    const auto cmd = take_all(ring).at(0);
    EXPECT_EQ(cmd.cmd_id, id);
    EXPECT_EQ(Ring::total_length(cmd.iovs), 350u);
    EXPECT_FALSE(ring.contiguous(cmd.iovs));
    Bytes gathered(350);
    EXPECT_EQ(ring.gather(cmd.iovs, gathered), 350u);
    EXPECT_EQ(gathered, out);

    Bytes in(300);
    std::iota(in.begin(), in.end(), uint8_t{100});
    EXPECT_EQ(ring.scatter(cmd.iovs, in), 300u);
    EXPECT_TRUE(std::equal(in.begin(), in.begin() + 100, k.data(pieces[0]).begin()));
    EXPECT_TRUE(std::equal(in.begin() + 100, in.begin() + 150, k.data(pieces[1]).begin()));
    EXPECT_TRUE(std::equal(in.begin() + 150, in.end(), k.data(pieces[2]).begin()));
    EXPECT_EQ(k.data(pieces[2])[150], out[150 + 150]);  // untouched beyond the data

    // Adjacent pieces are one span of the mapping.
    const auto id2 = *k.submit({0x0A, 0, 0, 0, 0x10, 0}, {{4096, 8}, {4104, 8}});
    const auto cmd2 = take_all(ring).at(0);
    EXPECT_EQ(cmd2.cmd_id, id2);
    const auto span = ring.contiguous(cmd2.iovs);
    ASSERT_TRUE(span);
    EXPECT_EQ(span->data(), k.data({4096, 16}).data());
    EXPECT_EQ(span->size(), 16u);
}

TEST(TcmuRing, BidiCommandsKeepTheirTwoBuffersApart) {
    FakeKernel k;
    const auto id = *k.submit({0x53, 0, 0, 0, 0, 0, 0, 0, 1, 0}, {{0, 512}}, {{4096, 512}});
    Ring ring(k.map());
    const auto cmd = take_all(ring).at(0);
    EXPECT_EQ(cmd.cmd_id, id);
    EXPECT_EQ(cmd.iovs, (std::vector<Iov>{k.iov({0, 512})}));
    EXPECT_EQ(cmd.bidi_iovs, (std::vector<Iov>{k.iov({4096, 512})}));
}

TEST(TcmuRing, RejectsEntriesThatBreakTheAbi) {
    {
        FakeKernel k;
        k.submit(inquiry(0));
        put<uint32_t>(k.entry(0), 0u | VTL_TCMU_OP_CMD);  // zero length
        Ring ring(k.map());
        EXPECT_THROW(take_all(ring), RingError);
    }
    {
        FakeKernel k;
        k.submit(inquiry(0), {{0, 16}});
        put<uint64_t>(k.entry(0) + VTL_TCMU_REQ_IOV + VTL_TCMU_IOV_LEN, uint64_t{1} << 40);  // past the mapping
        Ring ring(k.map());
        EXPECT_THROW(take_all(ring), RingError);
    }
    {
        FakeKernel k;
        k.submit(inquiry(0), {{0, 16}});
        put<uint64_t>(k.entry(0) + VTL_TCMU_REQ_IOV + VTL_TCMU_IOV_BASE, uint64_t{FakeKernel::kCmdrOff});  // the ring
        Ring ring(k.map());
        EXPECT_THROW(take_all(ring), RingError);
    }
    {
        FakeKernel k;
        k.submit(inquiry(0));
        put<uint64_t>(k.entry(0) + VTL_TCMU_REQ_CDB_OFF, 0);  // the mailbox
        Ring ring(k.map());
        EXPECT_THROW(take_all(ring), RingError);
    }
}

// A restarted process finds the entries the previous one never completed, and can tell when
// some are gone.
TEST(TcmuRing, LeftoversOfAPreviousProcess) {
    FakeKernel k;
    const auto a = *k.submit(inquiry(0));
    const auto b = *k.submit(inquiry(0));
    {
        Ring first(k.map());
        ASSERT_EQ(take_all(first).size(), 2u);  // taken, never completed: the process died
    }
    Ring second(k.map());
    auto left = second.inspect();
    EXPECT_EQ(left.commands, 2u);
    EXPECT_EQ(left.lost, 0u);
    auto cmds = take_all(second);
    ASSERT_EQ(cmds.size(), 2u);
    EXPECT_EQ(cmds[0].cmd_id, a);
    EXPECT_EQ(cmds[1].cmd_id, b);

    // This one completes B out of order (into A's slot), handles a TMR, and dies.
    ASSERT_TRUE(k.submit_tmr(VTL_TCMU_TMR_ABORT_TASK, {a}));
    std::vector<TmrEntry> tmrs;
    take_all(second, &tmrs);
    EXPECT_EQ(tmrs.size(), 1u);
    ASSERT_TRUE(second.complete(b, Response{}));
    EXPECT_EQ(k.reap().size(), 1u);

    Ring third(k.map());
    left = third.inspect();
    EXPECT_EQ(left.commands, 0u);  // A's entry is gone...
    EXPECT_EQ(left.lost, 1u);      // ...which B's given-up slot tells
    EXPECT_EQ(left.tmrs, 0u);      // the TMR was handled
    tmrs.clear();
    EXPECT_TRUE(take_all(third, &tmrs).empty());
    EXPECT_TRUE(tmrs.empty());

    // The kernel resets the ring (BUSY to A); serving starts over at 0.
    EXPECT_EQ(k.reset(), (std::set<uint16_t>{a}));
    third.resync();
    const auto c = *k.submit(inquiry(0));
    cmds = take_all(third);
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].cmd_id, c);
    ASSERT_TRUE(third.complete(c, Response{}));
    EXPECT_EQ(k.reap().at(0).cmd_id, c);
}

TEST(TcmuRing, UnhandledTmrEntriesAreLeftovers) {
    FakeKernel k;
    const auto a = *k.submit(inquiry(0));
    ASSERT_TRUE(k.submit_tmr(VTL_TCMU_TMR_ABORT_TASK, {a}));
    Ring ring(k.map());
    const auto left = ring.inspect();
    EXPECT_EQ(left.commands, 1u);
    EXPECT_EQ(left.tmrs, 1u);
    EXPECT_EQ(left.lost, 0u);
}

// Random traffic on a small ring: many wraps, PADs, TMRs, out-of-order completions. Every
// completion the kernel reaps must carry exactly what was completed for that cmd_id.
TEST(TcmuRing, RandomTrafficKeepsTheKernelConsistent) {
    FakeKernel k(1024, 64 * 1024);
    Ring ring(k.map());
    std::mt19937 rng(12345);
    std::map<uint16_t, Bytes> held;              // taken by the ring: id -> expected sense
    std::map<uint16_t, std::pair<uint8_t, Bytes>> sent;  // completed, not yet reaped
    size_t submitted = 0, reaped_total = 0, tmrs_seen = 0;
    auto check = [&](const std::vector<Reaped>& reaped) {
        for (const auto& r : reaped) {
            auto it = sent.find(r.cmd_id);
            ASSERT_NE(it, sent.end()) << "reaped cmd_id " << r.cmd_id << " that was not completed";
            EXPECT_EQ(r.status, it->second.first);
            Bytes expected(96, 0);
            std::copy_n(it->second.second.begin(), std::min<size_t>(96, it->second.second.size()), expected.begin());
            EXPECT_EQ(r.sense, expected);
            sent.erase(it);
            ++reaped_total;
        }
    };
    for (int step = 0; step < 20000; ++step) {
        switch (rng() % 5) {
            case 0:
            case 1: {
                static const size_t lengths[] = {6, 10, 12, 16, 32};
                Bytes cdb(lengths[rng() % 5], 0);
                cdb[0] = static_cast<uint8_t>(rng());
                std::vector<Buffer> iovs;
                for (uint32_t i = 0, n = rng() % 4; i < n; ++i) iovs.push_back({i * 8192, 1 + static_cast<uint32_t>(rng() % 4096)});
                if (k.submit(cdb, iovs)) ++submitted;
                break;
            }
            case 2:
                if (rng() % 8 == 0 && !held.empty()) k.submit_tmr(VTL_TCMU_TMR_ABORT_TASK, {held.begin()->first});
                ring.poll(
                    [&](CommandEntry&& c) {
                        Bytes sense(rng() % 100);
                        for (auto& v : sense) v = static_cast<uint8_t>(rng());
                        held.emplace(c.cmd_id, std::move(sense));
                    },
                    [&](TmrEntry&&) { ++tmrs_seen; });
                if (ring.reclaim()) check(k.reap());
                break;
            case 3: {
                if (held.empty()) break;
                auto it = std::next(held.begin(), static_cast<long>(rng() % held.size()));
                const uint8_t status = static_cast<uint8_t>(rng() % 3 == 0 ? 0x02 : 0x00);
                ASSERT_TRUE(ring.complete(it->first, Response{status, it->second, static_cast<uint32_t>(rng() % 3)}));
                ASSERT_TRUE(sent.emplace(it->first, std::make_pair(status, it->second)).second);
                held.erase(it);
                break;
            }
            case 4:
                check(k.reap());
                break;
        }
    }
    // Take what is still queued, complete everything, and let the kernel reap it all.
    ring.poll([&](CommandEntry&& c) { held.emplace(c.cmd_id, Bytes{}); }, [&](TmrEntry&&) { ++tmrs_seen; });
    for (const auto& [id, sense] : held) {
        ASSERT_TRUE(ring.complete(id, Response{0, sense, 0}));
        sent.emplace(id, std::make_pair(uint8_t{0}, sense));
    }
    check(k.reap());
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(reaped_total, submitted);
    EXPECT_TRUE(k.outstanding().empty());
    EXPECT_EQ(ring.in_flight(), 0u);
    EXPECT_EQ(k.tail(), k.head());
    EXPECT_GT(submitted, 2000u);
    EXPECT_GT(tmrs_seen, 10u);
}

// --- Device: a ring bound to a logical unit on a real EventLoop --------------------------

// Commands of a test device (10-byte vendor CDBs):
//   C0h ECHO  bytes 2-5: length. Returns that much of the data-out buffer as data-in.
//   C1h SLOW  bytes 2-5: milliseconds. Completes later with 4 bytes; abortable.
//   C2h SENSE CHECK CONDITION with fixed sense (FILEMARK, EOM, ILI, INFORMATION) and 10 bytes.
//   C3h READY GOOD, reports unit attentions.
// and 1Ch, a data-in opcode that returns no data.
class TestDevice final : public vtl::Device {
public:
    explicit TestDevice(std::atomic<int>& aborts) : aborts_(aborts) {}
    const DeviceIdentity& identity() const override { return identity_; }
    void attach(LogicalUnit& lu) override {
        const std::vector<uint8_t> usage = {0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
        auto add = [&](uint8_t op, const char* name, UnitAttentionRule ua, Handler h) {
            auto u = usage;
            u[0] = op;
            lu.commands().add(CommandInfo{.opcode = op, .name = name, .usage = u, .unit_attention = ua, .handler = h});
        };
        add(0xC0, "ECHO", UnitAttentionRule::Ignore, [](Exec& x) {
            const uint32_t n = scsi::get_be32(&x.cdb()[2]);
            const auto out = x.data_out().first(std::min<size_t>(n, x.data_out().size()));
            return Result::good(Bytes(out.begin(), out.end()));
        });
        add(0xC1, "SLOW", UnitAttentionRule::Ignore, [this, &lu](Exec& x) {
            const auto task = x.task();
            const auto delay = std::chrono::milliseconds(scsi::get_be32(&x.cdb()[2]));
            const auto timer = lu.clock().schedule_after(delay, [&lu, task] { lu.complete(task, Result::good({1, 2, 3, 4})); });
            task->on_abort([this, &lu, timer] {
                lu.clock().cancel(timer);
                ++aborts_;
            });
            return Result::pending();
        });
        add(0xC2, "SENSE", UnitAttentionRule::Ignore, [](Exec&) {
            auto r = Result::check(
                scsi::Sense(scsi::SenseKey::NoSense, scsi::asc::kFilemarkDetected).filemark().eom().ili().information(0x1234));
            r.data = Bytes(10, 0xAB);
            return r;
        });
        add(0xC3, "READY", UnitAttentionRule::Report, [](Exec&) { return Result::good(); });
        // A data-in opcode (RECEIVE DIAGNOSTIC RESULTS) that returns nothing.
        lu.commands().add(CommandInfo{.opcode = 0x1C,
                                      .name = "EMPTY READ",
                                      .usage = {0x1C, 0, 0, 0xFF, 0xFF, 0},
                                      .unit_attention = UnitAttentionRule::Ignore,
                                      .handler = [](Exec&) { return Result::good(); }});
    }

private:
    DeviceIdentity identity_;
    std::atomic<int>& aborts_;
};

Bytes vendor(uint8_t op, uint32_t value = 0) {
    return {op, 0, static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 8),
            static_cast<uint8_t>(value), 0, 0, 0, 0};
}

class TcmuDevice : public ::testing::Test {
protected:
    TcmuDevice() {
        loop.start();
        lu = make_lu();
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
        device_fd = fds[0];
        kernel_fd = fds[1];
    }
    ~TcmuDevice() override {
        device.reset();
        loop.stop();
        ::close(device_fd);
        ::close(kernel_fd);
    }

    // A restarted process has a new logical unit; the old one keeps its tasks until the end.
    void restart_lu() {
        old_lus.push_back(std::move(lu));
        lu = make_lu();
    }

    std::unique_ptr<LogicalUnit> make_lu() {
        return std::make_unique<LogicalUnit>("t0/dev", loop, std::make_unique<TestDevice>(aborts),
                                             LogicalUnit::Options{.serial = false});
    }

    void start(Device::Options options = {}) {
        device = std::make_unique<Device>(*lu, Channel{device_fd, kernel.map()}, std::move(options));
        device->start();
    }

    // The uio interrupt: "entries were added".
    void kick() {
        const uint32_t one = 1;
        ASSERT_EQ(::write(kernel_fd, &one, 4), 4);
    }

    uint16_t send(const Bytes& cdb, const std::vector<Buffer>& iovs = {}) {
        const auto id = kernel.submit(cdb, iovs);
        if (!id) throw std::runtime_error("ring full");
        kick();
        return *id;
    }

    // Reaps (as the kernel does on the device's notifications) until `id` completed.
    Reaped wait_for(uint16_t id, std::chrono::milliseconds timeout = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            char buf[256];
            while (::read(kernel_fd, buf, sizeof buf) > 0) {
            }
            for (auto& r : kernel.reap()) reaped.emplace(r.cmd_id, std::move(r));
            if (auto it = reaped.find(id); it != reaped.end()) {
                Reaped r = std::move(it->second);
                reaped.erase(it);
                return r;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                ADD_FAILURE() << "cmd_id " << id << " never completed";
                return {};
            }
            std::this_thread::sleep_for(1ms);
        }
    }

    bool completed_within(uint16_t id, std::chrono::milliseconds t) {
        std::this_thread::sleep_for(t);
        for (auto& r : kernel.reap()) reaped.emplace(r.cmd_id, std::move(r));
        return reaped.contains(id);
    }

    void wait_in_flight(size_t n) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (device->in_flight() != n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
        ASSERT_EQ(device->in_flight(), n);
    }

    EventLoop loop;
    std::atomic<int> aborts{0};
    std::unique_ptr<LogicalUnit> lu;
    std::vector<std::unique_ptr<LogicalUnit>> old_lus;
    FakeKernel kernel{64 * 1024, 256 * 1024};
    int device_fd = -1;
    int kernel_fd = -1;
    std::unique_ptr<Device> device;
    std::map<uint16_t, Reaped> reaped;
};

TEST_F(TcmuDevice, DataOutIsGatheredAndDataInScatteredOverSeveralIovs) {
    start();
    const std::vector<Buffer> pieces = {{8192, 1000}, {0, 500}, {40960, 548}};
    Bytes pattern(2048);
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7 + 1);
    size_t at = 0;
    for (const auto& p : pieces) {
        std::copy_n(pattern.begin() + at, p.length, kernel.data(p).begin());
        at += p.length;
    }
    // ECHO returns what it was given, into the same iovs.
    const auto id = send(vendor(0xC0, 2048), pieces);
    const auto r = wait_for(id);
    EXPECT_EQ(r.status, 0x00);
    EXPECT_EQ(r.uflags, Ring::kMark | VTL_TCMU_UFLAG_READ_LEN);
    EXPECT_EQ(r.read_len, 2048u);
    at = 0;
    for (const auto& p : pieces) {
        EXPECT_TRUE(std::equal(pattern.begin() + at, pattern.begin() + at + p.length, kernel.data(p).begin()));
        at += p.length;
    }
}

TEST_F(TcmuDevice, ShortDataInReportsTheLengthTransferred) {
    start();
    const Buffer buf{0, 4096};
    std::fill(kernel.data(buf).begin(), kernel.data(buf).end(), uint8_t{0x5A});
    const auto id = send(vendor(0xC0, 100), {buf});
    const auto r = wait_for(id);
    EXPECT_EQ(r.status, 0x00);
    EXPECT_EQ(r.uflags & VTL_TCMU_UFLAG_READ_LEN, VTL_TCMU_UFLAG_READ_LEN);
    EXPECT_EQ(r.read_len, 100u);
}

TEST_F(TcmuDevice, CheckConditionCarriesDataAndTheWholeSense) {
    start();
    const Buffer buf{0, 64};
    const auto id = send(vendor(0xC2), {buf});
    const auto r = wait_for(id);
    EXPECT_EQ(r.status, 0x02);
    // READ_LEN even with CHECK CONDITION: the kernel then moves the data and the residual too.
    EXPECT_EQ(r.uflags & VTL_TCMU_UFLAG_READ_LEN, VTL_TCMU_UFLAG_READ_LEN);
    EXPECT_EQ(r.read_len, 10u);
    EXPECT_TRUE(std::all_of(kernel.data({0, 10}).begin(), kernel.data({0, 10}).end(), [](uint8_t v) { return v == 0xAB; }));
    const Bytes fixed(r.sense.begin(), r.sense.begin() + 18);
    EXPECT_EQ(fixed[0], 0xF0);               // VALID, current, fixed
    EXPECT_EQ(fixed[2], 0xE0);               // FILEMARK, EOM, ILI, NO SENSE
    EXPECT_EQ(scsi::get_be32(&fixed[3]), 0x1234u);  // INFORMATION
    EXPECT_EQ(fixed[7], 10);                 // additional length
    EXPECT_EQ(fixed[12], 0x00);
    EXPECT_EQ(fixed[13], 0x01);              // 00/01 FILEMARK DETECTED
}

TEST_F(TcmuDevice, VendorOpcodeTheCoreDoesNotKnowCompletesWithInvalidOpcode) {
    start();
    EXPECT_EQ(wait_for(send(vendor(0xC3))).sense[12], 0x29);  // the power-on unit attention first
    const auto id = send(vendor(0xC5), {{0, 512}});
    const auto r = wait_for(id);
    EXPECT_EQ(r.status, 0x02);
    EXPECT_EQ(r.uflags, Ring::kMark);  // nothing transferred: no READ_LEN (the kernel would ignore 0)
    EXPECT_EQ(r.sense[2] & 0x0F, 0x05);
    EXPECT_EQ(r.sense[12], 0x20);
    EXPECT_EQ(r.sense[13], 0x00);
}

TEST_F(TcmuDevice, ReadBufferLeftEmptyIsZeroedNotStale) {
    start();
    // GOOD with no data: the kernel ignores a data-in length of 0 and hands the host the whole
    // buffer, so it must not hold a previous command's bytes.
    const Buffer buf{0, 64};
    std::fill(kernel.data(buf).begin(), kernel.data(buf).end(), uint8_t{0xEE});
    const auto r = wait_for(send({0x1C, 0, 0, 0, 64, 0}, {buf}));
    EXPECT_EQ(r.status, 0x00);
    EXPECT_EQ(r.uflags, Ring::kMark);
    EXPECT_TRUE(std::all_of(kernel.data(buf).begin(), kernel.data(buf).end(), [](uint8_t v) { return v == 0; }));
}

TEST_F(TcmuDevice, FirstCommandGetsPowerOnUnitAttention) {
    int first_calls = 0;
    Device::Options options;
    options.on_first_command = [&] { ++first_calls; };
    start(options);
    auto r = wait_for(send(vendor(0xC3)));
    EXPECT_EQ(r.status, 0x02);
    EXPECT_EQ(r.sense[2] & 0x0F, 0x06);
    EXPECT_EQ(r.sense[12], 0x29);
    r = wait_for(send(vendor(0xC3)));
    EXPECT_EQ(r.status, 0x00);
    EXPECT_EQ(first_calls, 1);
}

TEST_F(TcmuDevice, SlowCommandDoesNotHoldUpTheOthers) {
    start();
    const auto slow = send(vendor(0xC1, 200));
    const auto slower = send(vendor(0xC1, 60000));
    const auto fast = send(vendor(0xC0, 0));
    EXPECT_EQ(wait_for(fast, 30s).status, 0x00);
    EXPECT_EQ(wait_for(slow, 30s).status, 0x00);  // out of order: the one before it is still running
    EXPECT_FALSE(reaped.contains(slower));
    device->abort_in_flight();
    EXPECT_EQ(wait_for(slower).status, 0x40);
}

TEST_F(TcmuDevice, AbortTaskFromATmrEntry) {
    start();
    const auto slow = send(vendor(0xC1, 60000), {{0, 16}});
    wait_in_flight(1);
    ASSERT_TRUE(kernel.submit_tmr(VTL_TCMU_TMR_ABORT_TASK, {slow, 999}));  // 999: unknown, ignored
    kick();
    const auto r = wait_for(slow);
    EXPECT_EQ(r.status, 0x40);  // TASK ABORTED
    EXPECT_EQ(aborts.load(), 1);
    EXPECT_EQ(device->in_flight(), 0u);
    EXPECT_EQ(kernel.tail(), kernel.head());  // the TMR entry's space is back
    EXPECT_EQ(wait_for(send(vendor(0xC0, 0))).status, 0x00);
}

TEST_F(TcmuDevice, LunResetFromATmrEntry) {
    start();
    EXPECT_EQ(wait_for(send(vendor(0xC3))).status, 0x02);  // 29/00 consumed
    const auto a = send(vendor(0xC1, 60000));
    const auto b = send(vendor(0xC1, 60000));
    wait_in_flight(2);
    ASSERT_TRUE(kernel.submit_tmr(VTL_TCMU_TMR_LUN_RESET, {a, b}));
    kick();
    EXPECT_EQ(wait_for(a).status, 0x40);
    EXPECT_EQ(wait_for(b).status, 0x40);
    EXPECT_EQ(aborts.load(), 2);
    const auto r = wait_for(send(vendor(0xC3)));
    EXPECT_EQ(r.status, 0x02);
    EXPECT_EQ(r.sense[12], 0x29);  // 29/03: the reset reached the logical unit
    EXPECT_EQ(r.sense[13], 0x03);
}

TEST_F(TcmuDevice, ManyCommandsInFlightCompleteOutOfOrder) {
    start();
    std::vector<uint16_t> ids;
    for (int i = 0; i < 60; ++i) ids.push_back(send(vendor(0xC1, static_cast<uint32_t>((60 - i) * 3))));
    std::set<uint16_t> seen;
    for (auto id : ids) {
        const auto r = wait_for(id);
        EXPECT_EQ(r.status, 0x00);
        seen.insert(r.cmd_id);
    }
    EXPECT_EQ(seen.size(), ids.size());
    EXPECT_TRUE(kernel.outstanding().empty());
}

TEST_F(TcmuDevice, DrainStopsTakingAndARestartRunsWhatWasLeft) {
    start();
    EXPECT_EQ(wait_for(send(vendor(0xC0, 0))).status, 0x00);
    device->drain();
    std::this_thread::sleep_for(20ms);
    const auto left = send(vendor(0xC0, 0));
    EXPECT_FALSE(completed_within(left, 200ms));
    device.reset();

    restart_lu();
    start();  // a new process: the entry queued while nobody served the ring runs now
    EXPECT_EQ(wait_for(left).status, 0x00);
}

TEST_F(TcmuDevice, AbortInFlightEndsSlowCommands) {
    start();
    const auto slow = send(vendor(0xC1, 60000));
    wait_in_flight(1);
    device->drain();
    device->abort_in_flight();
    EXPECT_EQ(wait_for(slow).status, 0x40);
    EXPECT_EQ(device->in_flight(), 0u);
}

TEST_F(TcmuDevice, RestartAfterLostEntriesResetsTheRing) {
    start();
    const auto slow = send(vendor(0xC1, 60000));
    wait_in_flight(1);
    const auto fast = send(vendor(0xC0, 0));
    EXPECT_EQ(wait_for(fast).status, 0x00);  // written into the slow command's slot
    device.reset();                           // "killed": the slow command's entry is gone

    restart_lu();
    std::set<uint16_t> busy;
    int resets = 0;
    Device::Options options;
    options.reset_ring = [&]() -> std::optional<std::string> {
        ++resets;
        busy = kernel.reset();
        return std::nullopt;
    };
    start(options);
    const auto next = send(vendor(0xC0, 0));
    EXPECT_EQ(wait_for(next).status, 0x00);
    EXPECT_EQ(resets, 1);
    EXPECT_EQ(busy, (std::set<uint16_t>{slow}));
}

// Two devices, each with its own thread and ring: a slow command on one holds up nothing on
// the other.
TEST_F(TcmuDevice, DevicesAreIndependent) {
    start();
    FakeKernel other_kernel{64 * 1024, 64 * 1024};
    auto other_lu = make_lu();
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    auto other = std::make_unique<Device>(*other_lu, Channel{fds[0], other_kernel.map()}, Device::Options{});
    other->start();

    const auto slow = send(vendor(0xC1, 60000));
    wait_in_flight(1);
    const auto id = *other_kernel.submit(vendor(0xC0, 0));
    const uint32_t one = 1;
    ASSERT_EQ(::write(fds[1], &one, 4), 4);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    std::vector<Reaped> got;
    while (got.empty() && std::chrono::steady_clock::now() < deadline) {
        got = other_kernel.reap();
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].cmd_id, id);
    device->abort_in_flight();
    EXPECT_EQ(wait_for(slow).status, 0x40);
    other.reset();
    ::close(fds[0]);
    ::close(fds[1]);
}

// --- Discovery ----------------------------------------------------------------------------

TEST(TcmuDiscovery, ParsesUioNames) {
    auto d = parse_uio_name("tcm-user/3/tape0/vtl/lib0/drive0");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->hba, 3u);
    EXPECT_EQ(d->lio_name, "tape0");
    EXPECT_EQ(d->subtype, "vtl");
    EXPECT_EQ(d->path, "lib0/drive0");

    d = parse_uio_name("tcm-user/0/ch/vtl/vtl/lib1/changer");  // dev_config repeating the subtype
    ASSERT_TRUE(d);
    EXPECT_EQ(d->path, "lib1/changer");

    d = parse_uio_name("tcm-user/0/disk/fbo/var/lib/disk.img");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->subtype, "fbo");
    EXPECT_EQ(d->path, "");

    d = parse_uio_name("tcm-user/0/bare");  // no dev_config
    ASSERT_TRUE(d);
    EXPECT_EQ(d->subtype, "");

    EXPECT_FALSE(parse_uio_name("uio_pci_generic"));
    EXPECT_FALSE(parse_uio_name("tcm-user/x/tape0/vtl/a/b"));
    EXPECT_FALSE(parse_uio_name("tcm-user/0"));
}

class TempTree {
public:
    TempTree() {
        std::string pattern = (std::filesystem::temp_directory_path() / "vtl-tcmu-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp");
        root_ = pattern;
    }
    ~TempTree() { std::filesystem::remove_all(root_); }
    const std::filesystem::path& root() const { return root_; }
    void write(const std::filesystem::path& rel, const std::string& text) {
        std::filesystem::create_directories((root_ / rel).parent_path());
        std::ofstream(root_ / rel) << text;
    }
    std::string read(const std::filesystem::path& rel) const {
        std::ifstream in(root_ / rel);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    std::filesystem::path root_;
};

TEST(TcmuDiscovery, ScansSysfs) {
    TempTree t;
    t.write("uio10/name", "tcm-user/0/tape1/vtl/lib0/drive1\n");
    t.write("uio10/maps/map0/size", "0x0000000040800000\n");
    t.write("uio2/name", "tcm-user/0/tape0/vtl/lib0/drive0\n");
    t.write("uio2/maps/map0/size", "0x40800000\n");
    t.write("uio3/name", "some other uio device\n");
    t.write("uio3/maps/map0/size", "0x1000\n");
    t.write("uio4/name", "tcm-user/0/half/vtl/lib0/changer\n");  // no map yet
    const auto found = scan_uio(t.root());
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].uio, "uio2");
    EXPECT_EQ(found[0].path, "lib0/drive0");
    EXPECT_EQ(found[0].map_size, 0x40800000u);
    EXPECT_EQ(found[1].uio, "uio10");
    EXPECT_EQ(configfs_dir("/cfg/core", found[1]), std::filesystem::path("/cfg/core/user_0/tape1"));
    EXPECT_TRUE(scan_uio(t.root() / "missing").empty());
}

TEST(TcmuDiscovery, ChecksTheAttributesAndResetsTheRing) {
    TempTree t;
    t.write("attrib/cmd_time_out", "0\n");
    t.write("attrib/tmr_notification", "1\n");
    t.write("action/reset_ring", "");
    EXPECT_TRUE(check_attributes(t.root()).empty());

    t.write("attrib/cmd_time_out", "30\n");
    t.write("attrib/tmr_notification", "0\n");
    const auto problems = check_attributes(t.root());
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_NE(problems[0].find((t.root() / "attrib/cmd_time_out").string()), std::string::npos);
    EXPECT_NE(problems[0].find("is 30, must be 0"), std::string::npos);
    EXPECT_NE(problems[1].find("tmr_notification is 0, must be 1"), std::string::npos);

    EXPECT_EQ(reset_ring(t.root()), std::nullopt);
    EXPECT_EQ(t.read("action/reset_ring"), "1");
    EXPECT_TRUE(reset_ring(t.root() / "nope").has_value());
}

}  // namespace
}  // namespace vtl::tcmu
