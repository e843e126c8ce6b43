// The TCMU transport's arrangement: a library on a real EventLoop, each drive with its own I/O
// worker, and commands run by the transport's thread itself through EventLoop::execute. A READ
// or WRITE then completes on that thread before execute() returns (no hand-off to the clock or
// the worker), a READ's record lands in the transport's buffer (Command::data_in_buffer), and a
// hook that edits data-in still sees and changes it.
#include <future>
#include <thread>

#include "core/logical_unit.h"
#include "loop_library_rig.h"

using namespace vtl;
using namespace vtl::ssctest;
using namespace std::chrono_literals;

namespace {

struct Outcome {
    bool done = false;  // completed before execute() returned
    std::thread::id thread;
    scsi::Status status = scsi::Status::Good;
    Bytes sense;
    Bytes data;
    bool in_buffer = false;
    const uint8_t* data_at = nullptr;
    uint32_t residual = 0;
};

class ExecRig : public LoopLibraryRig {
public:
    ExecRig() : LoopLibraryRig("ex", 1, "EXE00", 64u << 20) {}

    LogicalUnit& drive() { return *lib_->find("drive0"); }

    // Runs the command on this thread as the TCMU device thread does; `buffer` is its data-in
    // buffer (empty: data-in comes back in a vector).
    Outcome exec(Bytes cdb, uint32_t in = 0, const Bytes& out = {}, std::span<uint8_t> buffer = {}) {
        Command cmd;
        cmd.tag = ++tag_;
        cmd.nexus.initiator = "tcmu";
        cmd.cdb = std::move(cdb);
        cmd.data_out = out;
        cmd.data_in_length = in;
        cmd.data_in_buffer = buffer;
        auto result = std::make_shared<Outcome>();
        auto task = std::make_shared<Task>(std::move(cmd), [result](Task& t) {
            result->done = true;
            result->thread = std::this_thread::get_id();
            result->status = t.status();
            result->sense = t.sense_data();
            result->data.assign(t.data_in().begin(), t.data_in().end());
            result->in_buffer = t.data_in_in_buffer();
            result->data_at = t.data_in().data();
            result->residual = t.residual();
        });
        loop_.execute([this, task] { drive().submit(task); });
        return *result;
    }

    void load() {
        load_and_wait(0, [&] { return exec(fixtures::test_unit_ready()).status == scsi::Status::Good; });
    }
};

// Flips the first byte of every GOOD READ's data-in, as the fault plan's corrupt action does.
class FlipFirstByte final : public LuHooks {
public:
    void after(LogicalUnit&, const Task& task, Result& result) override {
        if (task.cdb()[0] == 0x08 && !result.data.empty()) result.data[0] ^= 0xFF;
    }
    bool edits_data() const override { return true; }
};

}  // namespace

TEST(SscExecute, ReadAndWriteCompleteOnTheCallingThreadAndReadsLandInTheBuffer) {
    ExecRig rig;
    rig.load();
    const Bytes record = pattern(64 * 1024, 7);
    const auto w = rig.exec(write6(64 * 1024), 0, record);
    EXPECT_TRUE(w.done);
    EXPECT_EQ(w.thread, std::this_thread::get_id());
    EXPECT_EQ(w.status, scsi::Status::Good);
    ASSERT_TRUE(rig.exec(write6(100), 0, pattern(100, 8)).done);
    ASSERT_EQ(rig.exec(write_filemarks(1)).status, scsi::Status::Good);
    ASSERT_EQ(rig.exec(rewind()).status, scsi::Status::Good);

    // The record goes straight into the buffer; bytes after it are not touched.
    std::vector<uint8_t> ring(128 * 1024, 0xEE);
    const auto r = rig.exec(read6(64 * 1024), 64 * 1024, {}, std::span(ring).first(64 * 1024));
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.thread, std::this_thread::get_id());
    EXPECT_EQ(r.status, scsi::Status::Good);
    EXPECT_TRUE(r.in_buffer);
    EXPECT_EQ(r.data_at, ring.data());
    EXPECT_EQ(r.data, record);
    EXPECT_TRUE(std::equal(record.begin(), record.end(), ring.begin()));
    EXPECT_EQ(r.residual, 0u);

    // A short record: ILI with the signed residual, the 100 bytes in the buffer.
    const auto s = rig.exec(read6(512), 512, {}, std::span(ring).first(512));
    ASSERT_TRUE(s.done);
    EXPECT_TRUE(s.in_buffer);
    EXPECT_EQ(s.data, pattern(100, 8));
    EXPECT_EQ(s.residual, 412u);
    ASSERT_EQ(s.status, scsi::Status::CheckCondition);
    ASSERT_GE(s.sense.size(), 7u);
    EXPECT_EQ(s.sense[2], 0x20);  // NO SENSE, ILI
    EXPECT_EQ(scsi::get_be32(s.sense.data() + 3), 412u);

    // A filemark: nothing transferred, the whole buffer as residual.
    const auto f = rig.exec(read6(512), 512, {}, std::span(ring).first(512));
    ASSERT_EQ(f.status, scsi::Status::CheckCondition);
    EXPECT_TRUE(f.data.empty());
    EXPECT_EQ(f.residual, 512u);
}

TEST(SscExecute, HookThatEditsDataInSeesTheRecordAndItsEditIsWhatIsReturned) {
    ExecRig rig;
    rig.load();
    const Bytes record = pattern(4096, 3);
    ASSERT_EQ(rig.exec(write6(4096), 0, record).status, scsi::Status::Good);
    ASSERT_EQ(rig.exec(rewind()).status, scsi::Status::Good);
    FlipFirstByte flip;
    rig.on_loop([&] { rig.drive().add_hooks(&flip); });
    std::vector<uint8_t> ring(4096, 0);
    const auto r = rig.exec(read6(4096), 4096, {}, ring);
    rig.on_loop([&] { rig.drive().remove_hooks(&flip); });
    ASSERT_EQ(r.status, scsi::Status::Good);
    EXPECT_FALSE(r.in_buffer);  // copied out for the hook: the transport copies the edited bytes
    Bytes expected = record;
    expected[0] ^= 0xFF;
    EXPECT_EQ(r.data, expected);
}

TEST(EventLoopExecute, RunsOnTheCallerWithWhatItPostsAndDefersAfterTheLock) {
    EventLoop loop;
    loop.start();
    std::vector<std::string> order;
    std::thread::id posted_on;
    bool deferred_could_defer = true;
    loop.execute([&] {
        order.push_back("work");
        EXPECT_TRUE(can_defer_unlocked());
        defer_unlocked([&] {
            order.push_back("deferred");
            deferred_could_defer = can_defer_unlocked();
            loop.post([&] { order.push_back("posted by deferred"); });
        });
        loop.post([&] {
            order.push_back("posted");
            posted_on = std::this_thread::get_id();
        });
    });
    EXPECT_EQ(order, (std::vector<std::string>{"work", "posted", "deferred", "posted by deferred"}));
    EXPECT_EQ(posted_on, std::this_thread::get_id());
    EXPECT_FALSE(deferred_could_defer);
    EXPECT_FALSE(can_defer_unlocked());
    // On the loop thread, work inside work runs at once.
    std::promise<bool> nested;
    loop.post([&] {
        bool ran = false;
        loop.execute([&] { ran = true; });
        nested.set_value(ran);
    });
    EXPECT_TRUE(nested.get_future().get());
    loop.stop();
}
