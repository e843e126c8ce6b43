// The daemon's arrangement: a library on a real EventLoop, each drive with its own I/O worker
// thread. Two drives stream at once; data, positions and sense come out as on the inline path.
#include <future>

#include "loop_library_rig.h"

using namespace vtl;
using namespace vtl::ssctest;
using namespace std::chrono_literals;

namespace {

class LoopRig : public LoopLibraryRig {
public:
    explicit LoopRig(uint32_t drives) : LoopLibraryRig("th", drives, "THR00", 256u << 20) {}

    Response send(const std::string& device, Bytes cdb, uint32_t in = 0, Bytes out = {}) {
        auto promise = std::make_shared<std::promise<Response>>();
        auto data = std::make_shared<Bytes>(std::move(out));
        auto future = promise->get_future();
        loop_.post([this, device, cdb = std::move(cdb), in, data, promise]() mutable {
            Command cmd;
            cmd.tag = ++tag_;
            cmd.nexus.initiator = "iqn.test:threads";
            cmd.cdb = std::move(cdb);
            cmd.data_out = *data;
            cmd.data_in_length = in;
            auto task = std::make_shared<Task>(std::move(cmd), [promise, data](Task& t) {
                Response r;
                r.done = true;
                r.status = t.status();
                r.sense = t.sense_data();
                r.data.assign(t.data_in().begin(), t.data_in().end());
                r.residual = t.residual();
                promise->set_value(std::move(r));
            });
            lib_->find(device)->submit(task);
        });
        return future.get();
    }

    void load(uint32_t drive) {
        const std::string name = fmt::format("drive{}", drive);
        load_and_wait(drive, [&] { return send(name, fixtures::test_unit_ready()).status == scsi::Status::Good; });
    }
};

}  // namespace

TEST(SscThreads, TwoDrivesStreamAtOnceOnWorkerThreads) {
    LoopRig rig(2);
    rig.load(0);
    rig.load(1);
    constexpr int kRecords = 64;
    auto writer = [&](int d) {
        const std::string name = fmt::format("drive{}", d);
        for (int i = 0; i < kRecords; ++i) {
            const auto r = rig.send(name, write6(64 * 1024), 0, pattern(64 * 1024, uint32_t(d * 1000 + i)));
            if (r.status != scsi::Status::Good) return false;
        }
        return rig.send(name, write_filemarks(1)).status == scsi::Status::Good;
    };
    auto a = std::async(std::launch::async, writer, 0);
    auto b = std::async(std::launch::async, writer, 1);
    ASSERT_TRUE(a.get());
    ASSERT_TRUE(b.get());
    for (int d = 0; d < 2; ++d) {
        const std::string name = fmt::format("drive{}", d);
        ASSERT_TRUE(IsGood(rig.send(name, rewind())));
        for (int i = 0; i < kRecords; ++i) {
            const auto r = rig.send(name, read6(64 * 1024), 64 * 1024);
            ASSERT_TRUE(IsGood(r)) << d << "/" << i;
            ASSERT_EQ(r.data, pattern(64 * 1024, uint32_t(d * 1000 + i))) << d << "/" << i;
        }
        EXPECT_TRUE(IsStreamCheck(rig.send(name, read6(512), 512), 0x0, 0x00, 0x01, 512, true));
        const auto pos = rig.send(name, fixtures::read_position(0x06), 32);
        EXPECT_EQ(fixtures::decode_read_position_long(pos.data)->logical_object, uint64_t(kRecords) + 1);
    }
    // An unload through the worker, then the library is torn down with work still possible.
    EXPECT_TRUE(IsGood(rig.send("drive0", load_unload(false))));
}
