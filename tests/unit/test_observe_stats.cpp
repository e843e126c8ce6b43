// Command statistics on a real in-memory library: counts, errors by status and sense, bytes,
// latency buckets on the virtual clock, robots, and the Prometheus text exactly.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "initiator.h"
#include "observe/stats.h"
#include "observe_support.h"

using namespace vtl;
using namespace std::chrono_literals;
using observe::Stats;
using obstest::Hold;
using obstest::Rig;

namespace {

const std::vector<uint8_t> kTur = {0x00, 0, 0, 0, 0, 0};
const std::vector<uint8_t> kInquiry = {0x12, 0, 0, 0, 96, 0};

std::vector<uint64_t> counts_of(const observe::CommandStats& s) {
    return {s.latency.counts.begin(), s.latency.counts.end()};
}

// Per-bucket counts with `n` in bucket `i` and none elsewhere.
std::vector<uint64_t> one_bucket(size_t i, uint64_t n = 1) {
    std::vector<uint64_t> v(observe::kLatencyBucketsUs.size() + 1, 0);
    v.at(i) = n;
    return v;
}

}  // namespace

TEST(ObserveStats, CountsErrorsSenseAndBytesPerDeviceAndCommand) {
    Rig rig;
    Stats stats(rig.emulator);
    fixtures::Initiator host(rig.drive0(), rig.clock);

    const auto ua = host.send(kTur);  // the power-on attention 6/29/00
    ASSERT_EQ(ua.status, scsi::Status::CheckCondition);
    const auto empty = host.send(kTur);  // no cartridge: 2/3A/00
    ASSERT_EQ(empty.status, scsi::Status::CheckCondition);
    const auto inq1 = host.send(kInquiry, 96);
    const auto inq2 = host.send({0x12, 0, 0, 0, 36, 0}, 36);
    ASSERT_EQ(inq1.status, scsi::Status::Good);
    ASSERT_EQ(inq2.status, scsi::Status::Good);
    ASSERT_GT(inq1.data.size(), 36u);
    ASSERT_EQ(inq2.data.size(), 36u);
    // WRITE(6), variable, 1024 bytes, into an empty drive: refused, but the data was sent.
    const auto write = host.send({0x0A, 0x00, 0x00, 0x04, 0x00, 0x00}, 0, std::vector<uint8_t>(1024, 0xA5));
    ASSERT_EQ(write.status, scsi::Status::CheckCondition);
    const auto unknown = host.send({0x02, 0, 0, 0, 0, 0});  // no such opcode on a drive
    ASSERT_EQ(unknown.status, scsi::Status::CheckCondition);

    const auto* tur = stats.find("t0/drive0", "TEST UNIT READY");
    ASSERT_NE(tur, nullptr);
    EXPECT_EQ(tur->count, 2u);
    EXPECT_EQ(tur->errors, 2u);
    EXPECT_EQ(tur->errors_by_status, (std::map<std::string, uint64_t>{{"CHECK CONDITION", 2}}));
    EXPECT_EQ(tur->sense, (std::map<std::string, uint64_t>{{"2/3A/00", 1}, {"6/29/00", 1}}));
    EXPECT_EQ(tur->bytes_in, 0u);
    EXPECT_EQ(tur->bytes_out, 0u);

    const auto* inq = stats.find("t0/drive0", "INQUIRY");
    ASSERT_NE(inq, nullptr);
    EXPECT_EQ(inq->count, 2u);
    EXPECT_EQ(inq->errors, 0u);
    EXPECT_TRUE(inq->errors_by_status.empty());
    EXPECT_EQ(inq->bytes_in, inq1.data.size() + 36);
    EXPECT_EQ(inq->bytes_out, 0u);
    EXPECT_EQ(counts_of(*inq), one_bucket(0, 2)) << "no time passed: the first bucket";
    EXPECT_EQ(inq->latency.sum_ns, 0u);

    const auto* wr = stats.find("t0/drive0", "WRITE(6)");
    ASSERT_NE(wr, nullptr);
    EXPECT_EQ(wr->count, 1u);
    EXPECT_EQ(wr->errors, 1u);
    EXPECT_EQ(wr->bytes_out, 1024u);
    EXPECT_EQ(wr->sense, (std::map<std::string, uint64_t>{{"2/3A/00", 1}}));

    const auto* unk = stats.find("t0/drive0", "opcode 02h");
    ASSERT_NE(unk, nullptr);
    EXPECT_EQ(unk->sense, (std::map<std::string, uint64_t>{{"5/20/00", 1}}));

    EXPECT_EQ(stats.find("t0/drive1", "INQUIRY"), nullptr);

    // The same figures as JSON; every attached device is listed, used or not.
    const auto j = stats.to_json();
    const auto& d0 = j.at("devices").at("t0/drive0").at("commands");
    EXPECT_EQ(d0.size(), 4u);
    EXPECT_EQ(d0.at("TEST UNIT READY").at("count"), 2);
    EXPECT_EQ(d0.at("TEST UNIT READY").at("errors"), 2);
    EXPECT_EQ(d0.at("TEST UNIT READY").at("errors_by_status").at("CHECK CONDITION"), 2);
    EXPECT_EQ(d0.at("TEST UNIT READY").at("sense").at("6/29/00"), 1);
    EXPECT_EQ(d0.at("INQUIRY").at("bytes_in"), inq1.data.size() + 36);
    EXPECT_EQ(d0.at("WRITE(6)").at("bytes_out"), 1024);
    EXPECT_EQ(d0.at("INQUIRY").at("latency_us").at("buckets").size(), observe::kLatencyBucketsUs.size());
    EXPECT_EQ(d0.at("INQUIRY").at("latency_us").at("counts"), nlohmann::json(one_bucket(0, 2)));
    for (const char* dev : {"t0/changer", "t0/drive1", "t0/drive2"}) {
        EXPECT_EQ(j.at("devices").at(dev).at("commands"), nlohmann::json::object()) << dev;
    }
}

TEST(ObserveStats, LatencyLandsInItsBucketOnTheInjectedClock) {
    Rig rig;
    Stats stats(rig.emulator);
    Hold hold("INQUIRY", 0s);
    rig.drive0().add_hooks(&hold);
    fixtures::Initiator host(rig.drive0(), rig.clock);
    host.clear_power_on_attention();

    struct Case {
        Duration delay;
        size_t bucket;
    };
    // Upper bounds are included (le): exactly 10 us is the first bucket, a nanosecond more the
    // second. 13 minutes (a robot recovery) is <= 1000 s; two hours is above every bound.
    const Case cases[] = {{0s, 0}, {10us, 0}, {10us + 1ns, 1}, {2ms, 5}, {3ms, 5}, {13min, 16}, {50min, 17}, {2h, 18}};
    Duration total{};
    std::vector<uint64_t> expected(observe::kLatencyBucketsUs.size() + 1, 0);
    for (const auto& c : cases) {
        SCOPED_TRACE(c.delay.count());
        hold.set_delay(c.delay);
        const auto p = host.submit(kInquiry, 96);
        rig.clock.advance(c.delay);
        ASSERT_TRUE(p.done());
        ASSERT_EQ(p.response().status, scsi::Status::Good);
        ++expected[c.bucket];
        total += c.delay;
    }
    const auto* inq = stats.find("t0/drive0", "INQUIRY");
    ASSERT_NE(inq, nullptr);
    EXPECT_EQ(counts_of(*inq), expected);
    EXPECT_EQ(inq->latency.sum_ns, static_cast<uint64_t>(total.count()));
    EXPECT_EQ(inq->latency.count(), std::size(cases));
    rig.drive0().remove_hooks(&hold);
}

TEST(ObserveStats, AnAbortedCommandIsAnErrorWithItsTimeUntilTheAbort) {
    Rig rig;
    Stats stats(rig.emulator);
    Hold hold("INQUIRY", 1min);
    rig.drive0().add_hooks(&hold);
    fixtures::Initiator host(rig.drive0(), rig.clock);
    host.clear_power_on_attention();

    const auto p = host.submit(kInquiry, 96);
    rig.clock.advance(20s);
    ASSERT_FALSE(p.done());
    ASSERT_TRUE(host.abort(p));
    ASSERT_EQ(p.response().status, scsi::Status::TaskAborted);
    rig.clock.advance(1min);  // the hold was cancelled: nothing more

    const auto* inq = stats.find("t0/drive0", "INQUIRY");
    ASSERT_NE(inq, nullptr);
    EXPECT_EQ(inq->count, 1u);
    EXPECT_EQ(inq->errors, 1u);
    EXPECT_EQ(inq->errors_by_status, (std::map<std::string, uint64_t>{{"TASK ABORTED", 1}}));
    EXPECT_TRUE(inq->sense.empty());
    EXPECT_EQ(counts_of(*inq), one_bucket(13)) << "20 s: <= 30 s";
    EXPECT_EQ(inq->latency.sum_ns, static_cast<uint64_t>(Duration(20s).count()));
    rig.drive0().remove_hooks(&hold);
}

TEST(ObserveStats, RobotsQueuedAndBusyPerLibrary) {
    Rig rig;
    Stats stats(rig.emulator);
    const auto& cfg = rig.lib().config();
    auto robots = [&] { return stats.to_json().at("robots").at("t0"); };
    EXPECT_EQ(robots(), (nlohmann::json{{"robots", 1}, {"queued", 0}, {"busy", 0}}));

    libtest::Outcome a, b;
    rig.lib().start_move({.source = libtest::slot(cfg, 1), .destination = libtest::slot(cfg, 9)}, a.callback());
    rig.lib().start_move({.source = libtest::slot(cfg, 2), .destination = libtest::slot(cfg, 10)}, b.callback());
    rig.clock.run_ready();
    EXPECT_EQ(robots(), (nlohmann::json{{"robots", 1}, {"queued", 1}, {"busy", 1}}));
    EXPECT_NE(stats.prometheus().find("vtl_robot_motions_queued{library=\"t0\"} 1\n"), std::string::npos);
    EXPECT_NE(stats.prometheus().find("vtl_robots_busy{library=\"t0\"} 1\n"), std::string::npos);

    rig.clock.advance(10min);
    ASSERT_EQ(a.calls, 1);
    ASSERT_EQ(b.calls, 1);
    EXPECT_FALSE(a.sense);
    EXPECT_FALSE(b.sense);
    EXPECT_EQ(robots(), (nlohmann::json{{"robots", 1}, {"queued", 0}, {"busy", 0}}));
}

TEST(ObserveStats, MoveMediumLatencyIsTheRobotsTime) {
    Rig rig;
    Stats stats(rig.emulator);
    const auto& cfg = rig.lib().config();
    fixtures::Initiator host(rig.lib().changer(), rig.clock);
    host.clear_power_on_attention();
    const uint16_t from = libtest::slot(cfg, 1), to = libtest::slot(cfg, 9);
    const auto p =
        host.submit({0xA5, 0, 0, 0, uint8_t(from >> 8), uint8_t(from), uint8_t(to >> 8), uint8_t(to), 0, 0, 0, 0});
    const TimePoint start = rig.clock.now();
    ASSERT_FALSE(p.done());
    // Step timer by timer: the move's answer comes with one of them, at a known time.
    while (!p.done() && rig.clock.step()) {
    }
    ASSERT_TRUE(p.done());
    ASSERT_EQ(p.response().status, scsi::Status::Good);
    const Duration took = rig.clock.now() - start;
    ASSERT_GT(took, Duration::zero());
    size_t bucket = 0;
    while (bucket < observe::kLatencyBucketsUs.size() &&
           took > std::chrono::microseconds(observe::kLatencyBucketsUs[bucket])) {
        ++bucket;
    }
    const auto* mv = stats.find("t0/changer", "MOVE MEDIUM");
    ASSERT_NE(mv, nullptr);
    EXPECT_EQ(mv->count, 1u);
    EXPECT_EQ(counts_of(*mv), one_bucket(bucket));
    EXPECT_EQ(mv->latency.sum_ns, static_cast<uint64_t>(took.count()));
}

TEST(ObserveStats, PrometheusTextExactly) {
    Rig rig;
    Stats stats(rig.emulator);
    Hold hold("INQUIRY", 2ms);
    rig.drive0().add_hooks(&hold);
    fixtures::Initiator host(rig.drive0(), rig.clock);
    ASSERT_EQ(host.send(kTur).status, scsi::Status::CheckCondition);  // 6/29/00
    const auto p = host.submit(kInquiry, 96);
    rig.clock.advance(2ms);
    ASSERT_EQ(p.response().status, scsi::Status::Good);
    const size_t inquiry_bytes = p.response().data.size();

    const std::string tur = R"(library="t0",device="drive0",command="TEST UNIT READY")";
    const std::string inq = R"(library="t0",device="drive0",command="INQUIRY")";
    const char* les[] = {"1e-05", "3e-05", "0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1",
                         "0.3",   "1",     "3",      "10",     "30",    "100",   "300",  "1000", "3000"};
    std::string histogram;
    for (const auto& [labels, bucket, sum] :
         {std::tuple{inq, size_t(5), std::string("0.002")}, std::tuple{tur, size_t(0), std::string("0")}}) {
        for (size_t i = 0; i < std::size(les); ++i) {
            histogram += "vtl_command_duration_seconds_bucket{" + labels + ",le=\"" + les[i] + "\"} " +
                         (i >= bucket ? "1" : "0") + "\n";
        }
        histogram += "vtl_command_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 1\n";
        histogram += "vtl_command_duration_seconds_sum{" + labels + "} " + sum + "\n";
        histogram += "vtl_command_duration_seconds_count{" + labels + "} 1\n";
    }
    const std::string expected =
        "# HELP vtl_commands_total Commands completed, by device and command.\n"
        "# TYPE vtl_commands_total counter\n"
        "vtl_commands_total{" +
        inq +
        "} 1\n"
        "vtl_commands_total{" +
        tur +
        "} 1\n"
        "# HELP vtl_command_errors_total Commands completed with a status other than GOOD or CONDITION MET, by "
        "status.\n"
        "# TYPE vtl_command_errors_total counter\n"
        "vtl_command_errors_total{" +
        tur +
        ",status=\"CHECK CONDITION\"} 1\n"
        "# HELP vtl_command_check_conditions_total CHECK CONDITION answers, by sense key/ASC/ASCQ.\n"
        "# TYPE vtl_command_check_conditions_total counter\n"
        "vtl_command_check_conditions_total{" +
        tur +
        ",sense=\"6/29/00\"} 1\n"
        "# HELP vtl_command_data_in_bytes_total Data-in bytes returned to initiators.\n"
        "# TYPE vtl_command_data_in_bytes_total counter\n"
        "vtl_command_data_in_bytes_total{" +
        inq + "} " + std::to_string(inquiry_bytes) +
        "\n"
        "vtl_command_data_in_bytes_total{" +
        tur +
        "} 0\n"
        "# HELP vtl_command_data_out_bytes_total Data-out bytes received from initiators.\n"
        "# TYPE vtl_command_data_out_bytes_total counter\n"
        "vtl_command_data_out_bytes_total{" +
        inq +
        "} 0\n"
        "vtl_command_data_out_bytes_total{" +
        tur +
        "} 0\n"
        "# HELP vtl_command_duration_seconds Time from a command's receipt to its completion, on the library clock.\n"
        "# TYPE vtl_command_duration_seconds histogram\n" +
        histogram +
        "# HELP vtl_robots Robots (medium transport elements) in the library.\n"
        "# TYPE vtl_robots gauge\n"
        "vtl_robots{library=\"t0\"} 1\n"
        "# HELP vtl_robots_busy Robots working on a motion.\n"
        "# TYPE vtl_robots_busy gauge\n"
        "vtl_robots_busy{library=\"t0\"} 0\n"
        "# HELP vtl_robot_motions_queued Motions waiting for a free robot.\n"
        "# TYPE vtl_robot_motions_queued gauge\n"
        "vtl_robot_motions_queued{library=\"t0\"} 0\n";
    EXPECT_EQ(stats.prometheus(), expected);
    rig.drive0().remove_hooks(&hold);
}

TEST(ObserveStats, ResetZeroesAndAttachDetachFollowExtraUnits) {
    Rig rig;
    Stats stats(rig.emulator);
    fixtures::Initiator host(rig.drive0(), rig.clock);
    host.send(kInquiry, 96);
    ASSERT_NE(stats.find("t0/drive0", "INQUIRY"), nullptr);
    stats.reset();
    EXPECT_EQ(stats.find("t0/drive0", "INQUIRY"), nullptr);
    EXPECT_EQ(stats.to_json().at("devices").at("t0/drive0").at("commands"), nlohmann::json::object());
    host.send(kInquiry, 96);
    EXPECT_EQ(stats.find("t0/drive0", "INQUIRY")->count, 1u) << "still attached after reset";

    // A unit outside the emulator's devices (as a bridged LUN 1 would be).
    auto cfg = libtest::small_library();
    cfg.name = "t1";
    library::Library other(cfg, rig.clock);
    stats.attach(other.changer());
    stats.attach(other.changer());  // twice is once
    fixtures::Initiator side(other.changer(), rig.clock);
    side.send(kInquiry, 96);
    EXPECT_EQ(stats.find("t1/changer", "INQUIRY")->count, 1u);
    stats.detach(other.changer());
    side.send(kInquiry, 96);
    EXPECT_EQ(stats.find("t1/changer", "INQUIRY")->count, 1u) << "detached";
}

TEST(ObserveStats, DestroyedStatsLeavesTheUnitsServing) {
    Rig rig;
    fixtures::Initiator host(rig.drive0(), rig.clock);
    {
        Stats stats(rig.emulator);
        host.send(kInquiry, 96);
        EXPECT_EQ(stats.find("t0/drive0", "INQUIRY")->count, 1u);
    }
    EXPECT_EQ(host.send(kInquiry, 96).status, scsi::Status::Good);  // no hook left behind (ASan checks)
}
