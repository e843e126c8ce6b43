// The built vtlctl against a built vtld (--no-tcmu, a temp state directory and socket): the
// JSON scripts read, the exit codes, and vtld's clean stop on SIGTERM.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "library_fixture.h"

extern char** environ;

namespace {

using nlohmann::json;

struct CmdResult {
    int exit = -1;
    std::string out;
    std::string err;
};

class VtlctlTest : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string state = (dir_.path() / "state").string();
        std::vector<std::string> args = {VTL_VTLD_PATH,      "--no-tcmu", "--state-dir", state,
                                         "--control-socket", socket(),    "--log-level", "error"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ASSERT_EQ(::posix_spawn(&vtld_, VTL_VTLD_PATH, nullptr, nullptr, argv.data(), environ), 0);
        for (int i = 0; i < 1000 && !std::filesystem::exists(socket()); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ASSERT_TRUE(std::filesystem::exists(socket())) << "vtld did not create its control socket";
    }

    void TearDown() override {
        if (vtld_ > 0) {
            ::kill(vtld_, SIGKILL);
            ::waitpid(vtld_, nullptr, 0);
        }
    }

    std::string socket() const { return (dir_.path() / "vtld.sock").string(); }

    // vtlctl --socket <ours> ARGS, with stdout and stderr captured.
    CmdResult vtlctl(const std::string& args, bool with_socket = true) {
        const auto out = dir_.path() / "out";
        const auto err = dir_.path() / "err";
        const std::string cmd =
            fmt::format("{} {} {} >{} 2>{}", VTL_VTLCTL_PATH, with_socket ? "--socket " + socket() : "", args,
                        out.string(), err.string());
        const int status = std::system(cmd.c_str());
        CmdResult r;
        r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        auto slurp = [](const std::filesystem::path& p) {
            std::ifstream in(p);
            std::stringstream s;
            s << in.rdbuf();
            return s.str();
        };
        r.out = slurp(out);
        r.err = slurp(err);
        return r;
    }

    vtl::libtest::TempDir dir_;
    pid_t vtld_ = -1;
};

TEST_F(VtlctlTest, JsonRepliesAndExitCodes) {
    CmdResult r = vtlctl("--json libraries");
    ASSERT_EQ(r.exit, 0) << r.err;
    const json libs = json::parse(r.out);
    ASSERT_EQ(libs.size(), 1u);
    EXPECT_EQ(libs[0]["name"], "lib0");
    EXPECT_EQ(libs[0]["cartridges"], 40);
    EXPECT_EQ(libs[0]["state_dir"], (dir_.path() / "state" / "lib0").string());

    r = vtlctl("--json devices lib0");
    ASSERT_EQ(r.exit, 0) << r.err;
    const json devices = json::parse(r.out);
    ASSERT_EQ(devices.size(), 5u);
    EXPECT_EQ(devices[0]["path"], "lib0/changer");
    EXPECT_EQ(devices[4]["path"], "lib0/drive3");
    EXPECT_EQ(devices[4]["tcmu"], "disabled");

    EXPECT_EQ(vtlctl("--json door lib0 open").out, json({{"library", "lib0"}, {"ie_door", "open"}}).dump(2) + "\n");
    r = vtlctl("--json insert lib0 3 NEW001L8");
    ASSERT_EQ(r.exit, 0) << r.err;
    EXPECT_EQ(json::parse(r.out), json::parse(R"j({"address": 19, "type": "ie", "index": 3, "full": true,
                                                  "barcode": "NEW001L8", "impexp": true})j"));
    r = vtlctl("insert lib0 3 NEW002L8");
    EXPECT_EQ(r.exit, 1);
    EXPECT_EQ(r.err, "vtlctl: import/export slot 3 is not empty (refused)\n");
    EXPECT_EQ(r.out, "");

    r = vtlctl("--json clock virtual");
    ASSERT_EQ(r.exit, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["mode"], "virtual");
    r = vtlctl("--json clock advance 12m");
    ASSERT_EQ(r.exit, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["advanced_ms"], 720000);

    r = vtlctl("--json fault add --json '{\"device\":\"lib0/drive0\",\"action\":\"busy\"}'");
    ASSERT_EQ(r.exit, 0) << r.err;
    EXPECT_EQ(json::parse(r.out), json({{"id", 1}}));
    r = vtlctl("--json fault list");
    ASSERT_EQ(r.exit, 0) << r.err;
    EXPECT_EQ(json::parse(r.out), json::parse(R"j([{"device":"lib0/drive0","action":"busy","id":1,"fired":0,
                                                   "seen":0,"retired":false}])j"));

    // Usage and connection errors: exit 2 with one line.
    r = vtlctl("door lib0 ajar");
    EXPECT_EQ(r.exit, 2);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    r = vtlctl("--socket /nonexistent/vtld.sock libraries", false);
    EXPECT_EQ(r.exit, 2);
    EXPECT_EQ(r.err,
              "vtlctl: cannot connect to /nonexistent/vtld.sock (is vtld running?): No such file or directory\n");

    // SIGTERM: vtld stops cleanly and removes its socket.
    ASSERT_EQ(::kill(vtld_, SIGTERM), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(vtld_, &status, 0), vtld_);
    vtld_ = -1;
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_FALSE(std::filesystem::exists(socket()));
}

}  // namespace
