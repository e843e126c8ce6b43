// The control methods over the fault plan, statistics, trace and library lifecycle, through the
// client vtlctl uses, against the same objects called directly on the loop thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_control_support.h"

namespace vtl::controltest {
namespace {

using nlohmann::json;

// "K/AA/QQ" of fixed-format sense.
std::string key_asc(const ControlTest::Answer& a) {
    if (a.sense.size() < 14) return "no sense";
    return fmt::format("{:X}/{:02X}/{:02X}", a.sense[2] & 0x0F, a.sense[12], a.sense[13]);
}

const json kRule = json::parse(R"j({"device": "t0/drive0", "command": "TEST UNIT READY", "action": "check_condition",
                                   "sense": "3/11/00"})j");

TEST_F(ControlTest, FaultsAddListFireRemove) {
    EXPECT_EQ(client().call("faults.list"), json::array());
    EXPECT_EQ(client().call("faults.add", {{"rule", kRule}}), json({{"id", 1}}));
    json listed = kRule;
    listed.update({{"id", 1}, {"fired", 0}, {"seen", 0}, {"retired", false}});
    EXPECT_EQ(client().call("faults.list"), json::array({listed}));

    // The first command of a nexus owes 29/00; the rule takes the next one.
    EXPECT_EQ(test_unit_ready("t0/drive0").sense.at(12), 0x29);
    const Answer a = test_unit_ready("t0/drive0");
    EXPECT_EQ(a.status, scsi::Status::CheckCondition);
    EXPECT_EQ(key_asc(a), "3/11/00");
    // Not matched: the empty drive's own answer, NOT READY 02/3A/00 (after its 29/00).
    EXPECT_EQ(test_unit_ready("t0/drive1").sense.at(12), 0x29);
    EXPECT_EQ(key_asc(test_unit_ready("t0/drive1")), "2/3A/00");
    EXPECT_EQ(client().call("faults.list")[0]["fired"], 1);
    EXPECT_EQ(client().call("faults.stats")["fired_total"], 1);

    EXPECT_EQ(client().call("faults.remove", {{"id", 1}}), json({{"removed", 1}}));
    EXPECT_EQ(client().call("faults.list"), json::array());
    EXPECT_EQ(key_asc(test_unit_ready("t0/drive0")), "2/3A/00");
    EXPECT_EQ(error_of("faults.remove", {{"id", 1}}), json({{"code", "not_found"}, {"message", "no fault rule 1"}}));
}

TEST_F(ControlTest, FaultsLoadClearAndBadRules) {
    const json ids = client().call("faults.load", {{"toml", R"toml([[fault]]
device = "t0/drive0"
command = "READ(6)"
action = "busy"

[[fault]]
device = "t0/drive1"
action = "hang"
)toml"},
                                                   {"source", "plan.toml"}});
    EXPECT_EQ(ids, json({{"ids", {1, 2}}}));
    EXPECT_EQ(client().call("faults.list").size(), 2u);
    EXPECT_EQ(client().call("faults.clear"), json({{"removed", 2}}));
    EXPECT_EQ(client().call("faults.list"), json::array());

    // The plan's own message, naming the field.
    std::string expected;
    try {
        on_loop([&] { return faults_->add(json{{"device", "t0/drive0"}}); });
    } catch (const fault::FaultError& e) {
        expected = e.what();
    }
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(error_of("faults.add", {{"rule", {{"device", "t0/drive0"}}}}),
              json({{"code", "bad_params"}, {"message", expected}}));
    EXPECT_EQ(error_of("faults.add", {{"rule", "busy"}}),
              json({{"code", "bad_params"}, {"message", "parameter \"rule\": expected an object"}}));
    EXPECT_EQ(error_of("faults.load", {{"toml", "[[fault]]\naction = 3\n"}})["code"], "bad_params");
}

TEST_F(ControlTest, StatsAndPrometheusMatchTheStatsObject) {
    test_unit_ready("t0/drive0");
    test_unit_ready("t0/drive0");
    json expected = on_loop([&] { return stats_->to_json(); });
    expected["faults"] = on_loop([&] { return faults_->stats(); });
    const json got = client().call("stats");
    EXPECT_EQ(got, expected);
    EXPECT_EQ(got["devices"]["t0/drive0"]["commands"]["TEST UNIT READY"]["count"], 2);
    EXPECT_EQ(got["devices"]["t0/drive0"]["commands"]["TEST UNIT READY"]["errors"], 2);  // 29/00, 3A/00
    EXPECT_EQ(client().call("stats.prometheus"), json(on_loop([&] { return stats_->prometheus(); })));
    EXPECT_EQ(client().call("stats.reset"), json({{"reset", true}}));
    EXPECT_EQ(on_loop([&] { return stats_->find("t0/drive0", "TEST UNIT READY"); }), nullptr);
}

TEST_F(ControlTest, MetricsEndpointServesPrometheusText) {
    start_server({.metrics_port = 0});
    test_unit_ready("t0/changer");
    const std::string body = on_loop([&] { return stats_->prometheus(); });
    auto get = [&](const std::string& request) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(server_->metrics_port());
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        EXPECT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
        std::string reply;
        char buf[4096];
        for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) reply.append(buf, static_cast<size_t>(n));
        ::close(fd);
        return reply;
    };
    EXPECT_EQ(get("GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n"),
              fmt::format("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{}",
                          body.size(), body));
    EXPECT_EQ(get("GET / HTTP/1.0\r\n\r\n"),
              "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 33\r\n\r\n"
              "only GET /metrics is served here\n");
}

TEST_F(ControlTest, TraceFollowStreamsEachCommand) {
    auto follower = control::Client::unix_socket(socket_path());
    std::vector<std::string> lines;
    std::thread reader([&] {
        follower.stream("trace.follow", json::object(), [&](const std::string& line) {
            lines.push_back(line);
            return lines.size() < 2;
        });
    });
    // Wait until the subscription is in place.
    for (int i = 0; i < 500 && client().call("trace.status")["subscribers"] != 1; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(client().call("trace.status")["subscribers"], 1);
    test_unit_ready("t0/changer");
    test_unit_ready("t0/changer");
    reader.join();
    ASSERT_EQ(lines.size(), 2u);
    const json first = json::parse(lines[0]);
    const json second = json::parse(lines[1]);
    EXPECT_EQ(first["device"], "t0/changer");
    EXPECT_EQ(first["name"], "TEST UNIT READY");
    EXPECT_EQ(first["cdb"], "000000000000");
    EXPECT_EQ(first["status"], "CHECK CONDITION");
    EXPECT_EQ(second["status"], "GOOD");
    EXPECT_FALSE(second.contains("sense"));
    EXPECT_EQ(second["tag"], first["tag"].get<uint64_t>() + 1);

    // Closing the follower unsubscribes it.
    follower = control::Client::unix_socket(socket_path());
    for (int i = 0; i < 500 && client().call("trace.status")["subscribers"] != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(client().call("trace.status")["subscribers"], 0);

    const auto file = dir_.path() / "trace.jsonl";
    EXPECT_EQ(client().call("trace.start", {{"file", file.string()}})["active"], true);
    test_unit_ready("t0/drive2");
    EXPECT_EQ(client().call("trace.stop")["lines"], 1);
    EXPECT_EQ(error_of("trace.start", {{"file", "relative.jsonl"}}),
              json({{"code", "bad_params"}, {"message", "parameter \"file\": expected an absolute path"}}));
}

TEST_F(ControlTest, InventoryIsTheLibrarysOwn) {
    EXPECT_EQ(client().call("inventory", {{"library", "t0"}}), on_loop([&] { return lib().inventory_json(); }));
    EXPECT_EQ(client().call("inventory"), client().call("inventory", {{"library", "t0"}}));
    EXPECT_EQ(client().call("inventory.picture"), json(on_loop([&] { return lib().inventory_picture(); })));
    EXPECT_EQ(error_of("inventory", {{"library", "t9"}}),
              json({{"code", "not_found"}, {"message", "no library \"t9\""}}));
}

TEST_F(ControlTest, InsertShowsInTheInventory) {
    client().call("door", {{"library", "t0"}, {"open", true}});
    client().call("insert", {{"library", "t0"}, {"ie", 0}, {"barcode", "B00009L8"}});
    const json inv = client().call("inventory", {{"library", "t0"}});
    json ie0;
    for (const auto& e : inv["elements"]) {
        if (e["address"] == 0x10) ie0 = e;
    }
    EXPECT_EQ(ie0["type"], "ie");
    EXPECT_EQ(ie0["full"], true);
    EXPECT_EQ(ie0["barcode"], "B00009L8");
    EXPECT_EQ(ie0["impexp"], true);
    EXPECT_EQ(inv["ie_door_open"], true);
}

TEST_F(ControlTest, CartridgesSnapshotsAndReset) {
    EXPECT_EQ(client().call("cartridge.create", {{"library", "t0"}, {"barcode", "C00001L8"}, {"slot", 9}}),
              json::parse(R"j({"library": "t0", "barcode": "C00001L8",
                              "element": {"address": 4104, "type": "slot", "index": 9, "full": true,
                                          "barcode": "C00001L8"}})j"));
    EXPECT_EQ(client().call("snapshot", {{"library", "t0"}, {"name", "one"}}),
              json({{"library", "t0"}, {"snapshot", "one"}}));
    EXPECT_EQ(client().call("snapshots", {{"library", "t0"}}), json::parse(R"j([{"name": "one", "cartridges": 9}])j"));
    EXPECT_EQ(client().call("cartridge.delete", {{"library", "t0"}, {"barcode", "C00001L8"}}),
              json({{"library", "t0"}, {"deleted", "C00001L8"}}));
    EXPECT_EQ(on_loop([&] { return lib().inventory().find("C00001L8"); }), std::nullopt);
    EXPECT_EQ(client().call("restore", {{"library", "t0"}, {"name", "one"}}),
              json({{"library", "t0"}, {"restored", "one"}}));
    EXPECT_EQ(on_loop([&] { return lib().inventory().find("C00001L8"); }), std::optional<uint16_t>(4104));
    EXPECT_EQ(client().call("reset", {{"library", "t0"}}), json({{"library", "t0"}, {"reset", true}}));
    EXPECT_EQ(on_loop([&] { return lib().inventory().find("C00001L8"); }), std::nullopt);
    EXPECT_EQ(client().call("snapshot.delete", {{"library", "t0"}, {"name", "one"}}),
              json({{"library", "t0"}, {"deleted", "one"}}));
    EXPECT_EQ(client().call("snapshots", {{"library", "t0"}}), json::array());
    EXPECT_EQ(error_of("restore", {{"library", "t0"}, {"name", "one"}})["code"], "refused");
}

TEST_F(ControlTest, ImageExportThenImport) {
    const auto image = dir_.path() / "a.tap";
    EXPECT_EQ(client().call("image.export", {{"library", "t0"}, {"barcode", "A00001L8"}, {"file", image.string()}}),
              json({{"library", "t0"}, {"barcode", "A00001L8"}, {"file", image.string()}, {"format", "simh"}}));
    EXPECT_TRUE(std::filesystem::exists(image));
    EXPECT_EQ(client().call("image.import", {{"library", "t0"}, {"barcode", "D00001L8"}, {"file", image.string()}}),
              json({{"library", "t0"}, {"barcode", "D00001L8"}, {"file", image.string()}, {"format", "simh"}}));
    EXPECT_EQ(error_of("image.export", {{"library", "t0"}, {"barcode", "A00001L8"}, {"file", "x.bin"}}),
              json({{"code", "bad_params"}, {"message", "parameter \"file\": expected an absolute path"}}));
    EXPECT_EQ(error_of("image.export", {{"library", "t0"}, {"barcode", "A00001L8"}, {"file", "/tmp/x.bin"}}),
              json({{"code", "bad_params"}, {"message", "/tmp/x.bin: name it .tap or .aws, or give \"format\""}}));
}

}  // namespace
}  // namespace vtl::controltest
