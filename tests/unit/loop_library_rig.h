// A library on a real EventLoop, as the daemon runs it (each drive with its own I/O worker):
// `drives` LTO-8 drives drive0.., drive i with cartridge <prefix><i>L8 in slot i + 1. The
// arrangement test_ssc_execute.cpp and test_ssc_threads.cpp send their commands into.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "config/config.h"
#include "core/event_loop.h"
#include "library/library.h"
#include "test_ssc_support.h"

namespace vtl::ssctest {

class LoopLibraryRig {
public:
    LoopLibraryRig(const std::string& name, uint32_t drives, const std::string& barcode_prefix, uint64_t capacity) {
        cfg_ = config::library_defaults(name);
        cfg_.slots = drives + 2;
        cfg_.timings = DriveRig::zero_timings();
        for (uint32_t i = 0; i < drives; ++i) {
            config::DriveConfig d;
            d.name = fmt::format("drive{}", i);
            d.serial = fmt::format("10130000{:02}", i);
            cfg_.drives.push_back(d);
            cfg_.cartridges.push_back(config::CartridgeConfig{.barcode = fmt::format("{}{}L8", barcode_prefix, i),
                                                              .slot = i + 1,
                                                              .type = config::MediaType::Data,
                                                              .generation = 8,
                                                              .capacity = capacity});
        }
        loop_.start();
        on_loop([&] { lib_ = std::make_unique<library::Library>(cfg_, loop_); });
    }
    ~LoopLibraryRig() {
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

protected:
    // Moves drive `drive`'s cartridge into it, then waits until `ready` (a TEST UNIT READY sent
    // the caller's way: 29/00 first, 28/00 once loaded, then GOOD) says so.
    void load_and_wait(uint32_t drive, const std::function<bool()>& ready) {
        on_loop([&] {
            lib_->start_move(library::MoveRequest{.source = uint16_t(cfg_.addresses.slot + drive),
                                                  .destination = uint16_t(cfg_.addresses.drive + drive)},
                             nullptr);
        });
        for (int i = 0; i < 500; ++i) {
            if (ready()) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        FAIL() << "drive" << drive << " did not become ready";
    }

    config::LibraryConfig cfg_;
    EventLoop loop_;
    std::unique_ptr<library::Library> lib_;
    uint64_t tag_ = 0;
};

}  // namespace vtl::ssctest
