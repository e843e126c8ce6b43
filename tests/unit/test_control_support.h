// The control tests' fixture: an in-process Emulator (library t0 of library_fixture.h) on a
// started EventLoop with a fault plan, statistics and trace as vtld has them, the control server
// on a socket in a temp directory, and a Client, the same one vtlctl uses. No TCMU.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <optional>

#include "config/config.h"
#include "control/client.h"
#include "control/server.h"
#include "core/event_loop.h"
#include "core/logical_unit.h"
#include "fault/fault_plan.h"
#include "library/emulator.h"
#include "library_fixture.h"
#include "observe/stats.h"
#include "observe/trace.h"

namespace vtl::controltest {

class ControlTest : public ::testing::Test {
public:
    struct Answer {
        scsi::Status status;
        std::vector<uint8_t> sense;
    };

protected:
    ControlTest() {
        config_.libraries.push_back(libtest::small_library());
        emulator_.emplace(config_, loop_);
        faults_.emplace(*emulator_, loop_, 1);
        stats_.emplace(*emulator_);
        trace_.emplace(*emulator_);
    }

    void SetUp() override {
        loop_.start();
        start_server({});
    }

    void TearDown() override {
        client_.reset();
        server_.reset();
        loop_.stop();
        trace_.reset();
        stats_.reset();
        faults_.reset();
    }

    // Restarts the server with `options` (the socket is always the temp one).
    void start_server(control::ServerOptions options, control::Context* context = nullptr) {
        client_.reset();
        server_.reset();
        options.socket = socket_path();
        control::Context ctx =
            context
                ? *context
                : control::Context{
                      .emulator = *emulator_, .loop = loop_, .faults = &*faults_, .stats = &*stats_, .trace = &*trace_};
        if (!context) ctx.tcmu_state = [](std::string_view) { return std::string("disabled"); };
        server_.emplace(std::move(ctx), control::all_methods(), std::move(options));
        server_->start();
        client_ = control::Client::unix_socket(socket_path());
    }

    std::filesystem::path socket_path() const { return dir_.path() / "vtld.sock"; }
    control::Client& client() { return *client_; }
    library::Library& lib() { return *emulator_->libraries().front(); }

    // Runs `f` on the loop thread and returns what it returns.
    template <typename F>
    auto on_loop(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto future = task.get_future();
        loop_.post([&task] { task(); });
        return future.get();
    }

    // The error a call ends with: {"code", "message"}.
    nlohmann::json error_of(std::string_view method, nlohmann::json params) {
        try {
            client().call(method, std::move(params));
        } catch (const control::ControlError& e) {
            return {{"code", e.code()}, {"message", e.what()}};
        }
        return nullptr;
    }

    // TEST UNIT READY to `path` from one initiator, submitted on the loop thread.
    Answer test_unit_ready(const std::string& path) {
        auto answer = std::make_shared<std::promise<Answer>>();
        auto future = answer->get_future();
        loop_.post([this, path, answer] {
            Command cmd;
            cmd.tag = ++tag_;
            cmd.nexus.initiator = "iqn.2026-01.test:host0";
            cmd.nexus.target.relative_id = 1;
            cmd.cdb = {0x00, 0, 0, 0, 0, 0};
            auto task = std::make_shared<Task>(std::move(cmd), [answer](Task& t) {
                answer->set_value(Answer{t.status(), t.sense_data()});
            });
            emulator_->find(path)->submit(task);
        });
        return future.get();
    }

    libtest::TempDir dir_;
    config::Config config_;
    EventLoop loop_;
    std::optional<library::Emulator> emulator_;
    std::optional<fault::FaultPlan> faults_;
    std::optional<observe::Stats> stats_;
    std::optional<observe::Trace> trace_;
    uint64_t tag_ = 0;
    std::optional<control::Server> server_;
    std::optional<control::Client> client_;
};

}  // namespace vtl::controltest
