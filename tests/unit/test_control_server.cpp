// The control server's methods through the client vtlctl uses: libraries, devices, operator
// actions, clock, and the protocol's errors, each reply asserted whole.
#include <sys/stat.h>

#include "device/device.h"
#include "library/identities.h"
#include "test_control_support.h"

namespace vtl::controltest {
namespace {

using nlohmann::json;

TEST_F(ControlTest, LibrariesDescribeLayoutAndState) {
    const auto& c = config_.libraries.front();
    EXPECT_EQ(client().call("libraries"), json::parse(R"j([{
        "name": "t0", "personality": "generic", "serial": ")j" +
                                                      c.serial + R"j(",
        "state_dir": ")j" + c.state_dir.string() + R"j(",
        "robots": 1, "drives": 3, "slots": 12, "ie_slots": 2, "cartridges": 8,
        "ie_door": "closed", "ie_locked": false, "operations_in_flight": 0,
        "robots_queued": 0, "robots_busy": 0}])j"));
}

TEST_F(ControlTest, DevicesListIdentityAndTcmuState) {
    const json devices = client().call("devices");
    ASSERT_EQ(devices.size(), 4u);
    for (const auto& d : devices) {
        // The identity each logical unit answers INQUIRY with.
        LogicalUnit* lu = emulator_->find(d["path"].get<std::string>());
        ASSERT_NE(lu, nullptr) << d;
        const auto& id = lu->device().identity();
        EXPECT_EQ(d, json({{"library", "t0"},
                           {"name", d["name"]},
                           {"path", "t0/" + d["name"].get<std::string>()},
                           {"type", d["name"] == "changer" ? "changer" : "tape"},
                           {"lun", 0},
                           {"vendor", vtl::library::trimmed(id.vendor)},
                           {"product", vtl::library::trimmed(id.product)},
                           {"revision", vtl::library::trimmed(id.revision)},
                           {"serial", id.serial},
                           {"naa", fmt::format("{:016x}", id.naa)},
                           {"tcmu", "disabled"}}));
    }
    EXPECT_EQ(devices[0]["name"], "changer");
    EXPECT_EQ(devices[1]["name"], "drive0");
    EXPECT_EQ(devices[1]["product"], "ULT3580-TD8");
    EXPECT_EQ(devices[3]["product"], "ULT3580-TD9");
    EXPECT_EQ(devices[1]["serial"], config_.libraries.front().drives[0].serial);
    EXPECT_EQ(client().call("devices", {{"library", "t0"}}), devices);
    EXPECT_EQ(error_of("devices", {{"library", "nope"}}),
              json({{"code", "not_found"}, {"message", "no library \"nope\""}}));
}

TEST_F(ControlTest, InsertAndTakeThroughTheImportExportDoor) {
    EXPECT_EQ(error_of("insert", {{"library", "t0"}, {"ie", 1}, {"barcode", "B00001L8"}}),
              json({{"code", "refused"}, {"message", "the import/export door is closed; open it first"}}));
    EXPECT_EQ(client().call("door", {{"library", "t0"}, {"open", true}}),
              json({{"library", "t0"}, {"ie_door", "open"}}));
    EXPECT_EQ(client().call("insert", {{"library", "t0"}, {"ie", 1}, {"barcode", "B00001L8"}}),
              json::parse(R"j({"address": 17, "type": "ie", "index": 1, "full": true,
                              "barcode": "B00001L8", "impexp": true})j"));
    // The library holds it now: one more cartridge, at I/E address 0x0011.
    EXPECT_EQ(client().call("libraries")[0]["cartridges"], 9);
    EXPECT_EQ(on_loop([&] { return lib().inventory().find("B00001L8"); }), std::optional<uint16_t>(0x0011));
    EXPECT_EQ(error_of("insert", {{"library", "t0"}, {"ie", 0}, {"barcode", "A00001L8"}}),
              json({{"code", "refused"}, {"message", "barcode A00001L8 is already in the library (element 0x1000)"}}));

    EXPECT_EQ(client().call("take", {{"library", "t0"}, {"ie", 1}}),
              json::parse(R"j({"address": 17, "type": "ie", "index": 1, "full": false,
                              "impexp": false, "taken": "B00001L8"})j"));
    EXPECT_EQ(on_loop([&] { return lib().inventory().find("B00001L8"); }), std::nullopt);
    EXPECT_EQ(error_of("take", {{"library", "t0"}, {"ie", 1}}),
              json({{"code", "refused"}, {"message", "import/export slot 1 is empty"}}));

    EXPECT_EQ(client().call("door", {{"library", "t0"}, {"open", false}}),
              json({{"library", "t0"}, {"ie_door", "closed"}}));
    EXPECT_FALSE(on_loop([&] { return lib().ie_door_open(); }));
}

TEST_F(ControlTest, ClockAdvanceCompletesAPendingMove) {
    const json state = client().call("clock.virtual");
    EXPECT_EQ(state["mode"], "virtual");
    EXPECT_EQ(state["scale"], 0);
    const auto& c = config_.libraries.front();
    libtest::Outcome outcome;
    on_loop([&] {
        lib().start_move({.source = libtest::slot(c, 1), .destination = libtest::drive(c, 0)}, outcome.callback());
        return 0;
    });
    // Time stands still: the move waits in the robot however long we wait here.
    EXPECT_EQ(client().call("libraries")[0]["operations_in_flight"], 1);
    EXPECT_EQ(client().call("clock")["now_ns"], state["now_ns"]);

    const json advanced = client().call("clock.advance", {{"duration", "12m"}});
    EXPECT_EQ(advanced["advanced_ms"], 720000);
    EXPECT_EQ(advanced["mode"], "virtual");
    EXPECT_EQ(advanced["now_ns"].get<int64_t>() - state["now_ns"].get<int64_t>(), int64_t{720'000'000'000});
    EXPECT_EQ(client().call("libraries")[0]["operations_in_flight"], 0);
    EXPECT_EQ(on_loop([&] { return outcome.calls; }), 1);
    EXPECT_FALSE(on_loop([&] { return outcome.sense.has_value(); }));
    EXPECT_EQ(on_loop([&] { return lib().inventory().find("A00001L8"); }),
              std::optional<uint16_t>(libtest::drive(c, 0)));

    EXPECT_EQ(client().call("clock.scale", {{"factor", 60}})["scale"], 60);
    EXPECT_EQ(client().call("clock.real")["mode"], "real");
    EXPECT_EQ(error_of("clock.scale", {{"factor", 0}}),
              json({{"code", "bad_params"}, {"message", "parameter \"factor\": expected a number > 0"}}));
    EXPECT_EQ(error_of("clock.advance", {{"duration", "soon"}})["code"], "bad_params");
}

TEST_F(ControlTest, ProtocolErrorsAreExact) {
    EXPECT_EQ(json::parse(client().call_raw(R"j({"id":7,"method":"nope"})j")),
              json::parse(
                  R"j({"id":7,"error":{"code":"unknown_method","message":"no method \"nope\" (see \"methods\")"}})j"));
    EXPECT_EQ(json::parse(client().call_raw("this is not json")),
              json::parse(R"j({"id":null,"error":{"code":"parse_error","message":"the request is not JSON"}})j"));
    EXPECT_EQ(json::parse(client().call_raw(R"j({"id":8,"params":{}})j")),
              json::parse(R"j({"id":8,"error":{"code":"invalid_request","message":"\"method\" must be a string"}})j"));
    EXPECT_EQ(json::parse(client().call_raw(R"j({"id":9,"method":"libraries","params":[]})j")),
              json::parse(R"j({"id":9,"error":{"code":"bad_params","message":"\"params\" must be an object"}})j"));
    EXPECT_EQ(
        json::parse(client().call_raw(R"j({"id":"a","method":"door","params":{"library":"t0","open":"yes"}})j")),
        json::parse(
            R"j({"id":"a","error":{"code":"bad_params","message":"parameter \"open\": expected true or false"}})j"));
    EXPECT_EQ(error_of("insert", {{"library", "t0"}, {"ie", "1"}, {"barcode", "X"}}),
              json({{"code", "bad_params"}, {"message", "parameter \"ie\": expected a non-negative integer"}}));
    EXPECT_EQ(error_of("insert", {{"library", "t0"}, {"ie", 2}, {"barcode", "X"}}),
              json({{"code", "bad_params"}, {"message", "parameter \"ie\": t0 has import/export slots 0..1"}}));
    EXPECT_EQ(error_of("libraries", {{"verbose", true}}),
              json({{"code", "bad_params"}, {"message", "unknown parameter \"verbose\" (expected: none)"}}));
    EXPECT_EQ(error_of("take", {{"library", "t0"}, {"ie", 1}, {"slot", 2}}),
              json({{"code", "bad_params"}, {"message", "unknown parameter \"slot\" (expected: library, ie)"}}));
    // The connection survives every error.
    EXPECT_EQ(client().call("door", {{"open", true}}), json({{"library", "t0"}, {"ie_door", "open"}}));
}

TEST_F(ControlTest, SocketIsOwnerOnlyAndRemovedOnStop) {
    struct stat st {};
    ASSERT_EQ(::stat(socket_path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // A second server on the same live socket is refused; the first keeps serving.
    EXPECT_THROW(control::Server(control::Context{.emulator = *emulator_, .loop = loop_}, control::all_methods(),
                                 control::ServerOptions{.socket = socket_path()}),
                 std::runtime_error);
    EXPECT_EQ(client().call("libraries").size(), 1u);
    client_.reset();
    server_.reset();
    EXPECT_FALSE(std::filesystem::exists(socket_path()));
}

TEST_F(ControlTest, TcpNeedsTheToken) {
    EXPECT_THROW(start_server({.tcp_port = 0}), std::runtime_error);
    start_server({.tcp_port = 0, .token = "s3cret"});
    const uint16_t port = server_->tcp_port();
    ASSERT_NE(port, 0);
    try {
        control::Client::tcp(port, "wrong");
        ADD_FAILURE() << "a wrong token was accepted";
    } catch (const control::ControlError& e) {
        EXPECT_EQ(e.code(), "unauthorized");
    }
    auto tcp = control::Client::tcp(port, "s3cret");
    EXPECT_EQ(tcp.call("libraries"), client().call("libraries"));
}

}  // namespace
}  // namespace vtl::controltest
