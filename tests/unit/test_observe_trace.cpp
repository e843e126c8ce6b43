// The command trace: one JSON line per completed command, with exactly the documented fields,
// to a JSONL file (appended, written per line, stopped on a write error) and to subscribers.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "initiator.h"
#include "observe/describe.h"
#include "observe/trace.h"
#include "observe_support.h"

using namespace vtl;
using namespace std::chrono_literals;
using nlohmann::json;
using observe::Trace;
using obstest::Hold;
using obstest::Rig;

namespace {

const std::vector<uint8_t> kTur = {0x00, 0, 0, 0, 0, 0};
const std::vector<uint8_t> kInquiry = {0x12, 0, 0, 0, 96, 0};

std::set<std::string> keys(const json& j) {
    std::set<std::string> out;
    for (const auto& [k, v] : j.items()) out.insert(k);
    return out;
}

const std::set<std::string> kFields = {"t",    "device", "initiator", "tag",      "cdb",
                                       "name", "status", "data_in",   "data_out", "duration_us"};

std::vector<std::string> read_lines(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// Collects what a subscriber receives.
struct Collected {
    std::vector<json> lines;
    std::vector<std::string> raw;
    auto fn() {
        return [this](const std::string& line) {
            raw.push_back(line);
            lines.push_back(json::parse(line));
        };
    }
    void clear() {
        lines.clear();
        raw.clear();
    }
};

}  // namespace

TEST(ObserveTrace, GoodCommandHasExactlyTheDocumentedFields) {
    Rig rig;
    Trace trace(rig.emulator);
    Collected got;
    trace.subscribe(got.fn());
    Hold hold("INQUIRY", 2ms);
    rig.drive0().add_hooks(&hold);
    fixtures::Initiator host(rig.drive0(), rig.clock);
    host.clear_power_on_attention();
    got.clear();

    rig.clock.advance(90s);  // the virtual calendar starts at 2026-01-01T00:00:00Z
    // The transport hands a 16-byte buffer for a 6-byte CDB: the trace shows the 6.
    auto cdb = kInquiry;
    cdb.resize(16, 0);
    const auto p = host.submit(cdb, 255);
    rig.clock.advance(2ms);
    ASSERT_TRUE(p.done());
    ASSERT_EQ(p.response().status, scsi::Status::Good);
    const size_t returned = p.response().data.size();
    ASSERT_GT(returned, 0u);

    ASSERT_EQ(got.lines.size(), 1u);
    const json& line = got.lines[0];
    EXPECT_EQ(keys(line), kFields) << "no \"sense\" without sense data";
    EXPECT_EQ(line.at("t"), "2026-01-01T00:01:30.002000Z");
    EXPECT_EQ(line.at("device"), "t0/drive0");
    EXPECT_EQ(line.at("initiator"), "iqn.2026-01.test:host0");
    EXPECT_EQ(line.at("tag"), p.tag());
    EXPECT_EQ(line.at("cdb"), "120000006000");
    EXPECT_EQ(line.at("name"), "INQUIRY");
    EXPECT_EQ(line.at("status"), "GOOD");
    EXPECT_EQ(line.at("data_in"), returned);
    EXPECT_EQ(line.at("data_out"), 0);
    EXPECT_EQ(line.at("duration_us"), 2000);
    // The documented order, one line, no line feed.
    EXPECT_EQ(got.raw[0].rfind("{\"t\":\"2026-01-01T00:01:30.002000Z\",\"device\":\"t0/drive0\",\"initiator\":", 0),
              0u);
    EXPECT_EQ(got.raw[0].find('\n'), std::string::npos);
    rig.drive0().remove_hooks(&hold);
}

TEST(ObserveTrace, CheckConditionCarriesTheSenseAsSent) {
    Rig rig;
    Trace trace(rig.emulator);
    Collected got;
    trace.subscribe(got.fn());
    fixtures::Initiator host(rig.drive0(), rig.clock);
    host.clear_power_on_attention();
    ASSERT_EQ(got.lines.size(), 1u);
    // The power-on attention, in fixed format: 70h, key 6, additional length 10, ASC 29h.
    EXPECT_EQ(got.lines[0].at("sense"),
              "70000600000000"
              "0a"
              "00000000"
              "2900"
              "00000000");

    // WRITE(6) with 1024 bytes into an empty drive: 2/3A/00.
    const auto r = host.send({0x0A, 0x00, 0x00, 0x04, 0x00, 0x00}, 0, std::vector<uint8_t>(1024, 0x5A));
    ASSERT_EQ(r.status, scsi::Status::CheckCondition);
    ASSERT_EQ(got.lines.size(), 2u);
    const json& line = got.lines[1];
    auto fields = kFields;
    fields.insert("sense");
    EXPECT_EQ(keys(line), fields);
    EXPECT_EQ(line.at("name"), "WRITE(6)");
    EXPECT_EQ(line.at("cdb"), "0a0000040000");
    EXPECT_EQ(line.at("status"), "CHECK CONDITION");
    EXPECT_EQ(line.at("sense"), observe::hex(r.sense));
    const auto code = observe::sense_code(r.sense);
    ASSERT_TRUE(code);
    EXPECT_EQ(code->text(), "2/3A/00");
    EXPECT_EQ(line.at("data_in"), 0);
    EXPECT_EQ(line.at("data_out"), 1024);
    EXPECT_EQ(line.at("duration_us"), 0);
    EXPECT_EQ(line.at("t"), "2026-01-01T00:00:00.000000Z");
}

TEST(ObserveTrace, AbortedCommandShowsTaskAbortedAndItsTime) {
    Rig rig;
    Trace trace(rig.emulator);
    Collected got;
    trace.subscribe(got.fn());
    Hold hold("INQUIRY", 1h);
    rig.drive0().add_hooks(&hold);
    fixtures::Initiator host(rig.drive0(), rig.clock, "naa.5001405abcdef012");
    host.clear_power_on_attention();
    got.clear();

    const auto p = host.submit(kInquiry, 96);
    rig.clock.advance(5s);
    ASSERT_TRUE(host.abort(p));
    ASSERT_EQ(got.lines.size(), 1u);
    const json& line = got.lines[0];
    EXPECT_EQ(keys(line), kFields);
    EXPECT_EQ(line.at("status"), "TASK ABORTED");
    EXPECT_EQ(line.at("initiator"), "naa.5001405abcdef012");
    EXPECT_EQ(line.at("name"), "INQUIRY");
    EXPECT_EQ(line.at("tag"), p.tag());
    EXPECT_EQ(line.at("data_in"), 0);
    EXPECT_EQ(line.at("duration_us"), 5'000'000);
    EXPECT_EQ(line.at("t"), "2026-01-01T00:00:05.000000Z");
    rig.drive0().remove_hooks(&hold);
}

TEST(ObserveTrace, AppendsOneLinePerCommandToTheFile) {
    Rig rig;
    libtest::TempDir dir;
    const auto file = dir.path() / "trace.jsonl";
    { std::ofstream(file) << "{\"earlier\":true}\n"; }
    Trace trace(rig.emulator);
    EXPECT_EQ(trace.status(), (json{{"active", false}, {"file", ""}, {"lines", 0}, {"subscribers", 0}}));
    trace.start(file);
    fixtures::Initiator host(rig.drive0(), rig.clock);
    fixtures::Initiator changer(rig.lib().changer(), rig.clock);
    host.send(kTur);
    host.send(kInquiry, 96);
    changer.send(kInquiry, 96);
    EXPECT_EQ(trace.status(), (json{{"active", true}, {"file", file.string()}, {"lines", 3}, {"subscribers", 0}}));
    trace.stop();
    host.send(kInquiry, 96);  // not traced
    EXPECT_EQ(trace.status().at("active"), false);
    EXPECT_EQ(trace.status().at("lines"), 3);

    auto lines = read_lines(file);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "{\"earlier\":true}");
    const char* names[] = {"TEST UNIT READY", "INQUIRY", "INQUIRY"};
    const char* devices[] = {"t0/drive0", "t0/drive0", "t0/changer"};
    for (size_t i = 0; i < 3; ++i) {
        const auto j = json::parse(lines[i + 1]);
        EXPECT_EQ(j.at("name"), names[i]);
        EXPECT_EQ(j.at("device"), devices[i]);
    }

    // Started again, it appends after what is there.
    trace.start(file);
    host.send(kInquiry, 96);
    trace.stop();
    lines = read_lines(file);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(json::parse(lines[4]).at("status"), "GOOD");
}

TEST(ObserveTrace, StartThrowsForAFileThatCannotBeOpened) {
    Rig rig;
    Trace trace(rig.emulator);
    libtest::TempDir dir;
    try {
        trace.start(dir.path() / "missing" / "trace.jsonl");
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("missing/trace.jsonl"), std::string::npos) << e.what();
    }
    EXPECT_EQ(trace.status().at("active"), false);
}

TEST(ObserveTrace, AWriteErrorStopsTheFileButNeverTheCommand) {
    Rig rig;
    Trace trace(rig.emulator);
    Collected got;
    trace.subscribe(got.fn());
    trace.start("/dev/full");  // every write fails with ENOSPC
    fixtures::Initiator host(rig.drive0(), rig.clock);
    host.clear_power_on_attention();
    EXPECT_EQ(host.send(kInquiry, 96).status, scsi::Status::Good);
    const auto s = trace.status();
    EXPECT_EQ(s.at("active"), false);
    EXPECT_EQ(s.at("lines"), 0);
    EXPECT_EQ(s.at("error"), "write to /dev/full failed: No space left on device");
    EXPECT_EQ(got.lines.size(), 2u) << "subscribers still get every line";
}

TEST(ObserveTrace, SubscribersComeAndGo) {
    Rig rig;
    Trace trace(rig.emulator);
    Collected a, b;
    const auto ida = trace.subscribe(a.fn());
    uint64_t idb = 0;
    int b_calls = 0;
    idb = trace.subscribe([&](const std::string& line) {
        ++b_calls;
        trace.unsubscribe(idb);  // from inside its own call
    });
    EXPECT_EQ(trace.status().at("subscribers"), 2);
    fixtures::Initiator host(rig.drive0(), rig.clock);
    host.send(kTur);
    host.send(kTur);
    EXPECT_EQ(a.lines.size(), 2u);
    EXPECT_EQ(b_calls, 1);
    trace.unsubscribe(ida);
    host.send(kTur);
    EXPECT_EQ(a.lines.size(), 2u);
    EXPECT_EQ(trace.status().at("subscribers"), 0);
}

TEST(ObserveTrace, ExtraUnitsAttachAndDetach) {
    Rig rig;
    Trace trace(rig.emulator);
    Collected got;
    trace.subscribe(got.fn());
    auto cfg = libtest::small_library();
    cfg.name = "t1";
    library::Library other(cfg, rig.clock);
    trace.attach(other.changer());
    fixtures::Initiator side(other.changer(), rig.clock);
    side.send(kInquiry, 96);
    ASSERT_EQ(got.lines.size(), 1u);
    EXPECT_EQ(got.lines[0].at("device"), "t1/changer");
    trace.detach(other.changer());
    side.send(kInquiry, 96);
    EXPECT_EQ(got.lines.size(), 1u);
}
