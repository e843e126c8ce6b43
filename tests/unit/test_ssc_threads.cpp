// The daemon's arrangement: a library on a real EventLoop, each drive with its own I/O worker
// thread. Two drives stream at once; data, positions and sense come out as on the inline path.
#include <future>

#include "core/event_loop.h"
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;
using namespace std::chrono_literals;

namespace {

class LoopRig {
public:
    explicit LoopRig(uint32_t drives) {
        auto cfg = config::library_defaults("th");
        cfg.slots = 10;
        cfg.timings = DriveRig::zero_timings();
        for (uint32_t i = 0; i < drives; ++i) {
            config::DriveConfig d;
            d.name = fmt::format("drive{}", i);
            d.serial = fmt::format("10130000{:02}", i);
            cfg.drives.push_back(d);
            cfg.cartridges.push_back(config::CartridgeConfig{.barcode = fmt::format("THR00{}L8", i),
                                                             .slot = i + 1,
                                                             .type = config::MediaType::Data,
                                                             .generation = 8,
                                                             .capacity = 256u << 20});
        }
        cfg_ = cfg;
        loop_.start();
        on_loop([&] { lib_ = std::make_unique<library::Library>(cfg_, loop_); });
    }
    ~LoopRig() {
        on_loop([&] { lib_.reset(); });
        loop_.stop();
    }

    template <typename F>
    void on_loop(F f) {
        std::promise<void> done;
        loop_.post([&] {
            f();
            done.set_value();
        });
        done.get_future().get();
    }

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
        on_loop([&] {
            lib_->start_move(library::MoveRequest{.source = uint16_t(cfg_.addresses.slot + drive),
                                                  .destination = uint16_t(cfg_.addresses.drive + drive)},
                             nullptr);
        });
        const std::string name = fmt::format("drive{}", drive);
        for (int i = 0; i < 500; ++i) {
            // 29/00 first, 28/00 once loaded, then GOOD.
            if (send(name, fixtures::test_unit_ready()).status == scsi::Status::Good) return;
            std::this_thread::sleep_for(10ms);
        }
        FAIL() << name << " did not become ready";
    }

private:
    config::LibraryConfig cfg_;
    EventLoop loop_;
    std::unique_ptr<library::Library> lib_;
    uint64_t tag_ = 0;
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
