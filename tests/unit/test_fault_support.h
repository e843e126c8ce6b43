// What the fault plan tests share: an Emulator with one small library (three drives, LTO-8
// cartridges in slots 1-5) on a VirtualClock, a FaultPlan over it, hosts on the changer and on
// drive0, and helpers that run commands to completion on the clock.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cdb.h"
#include "config/config.h"
#include "core/virtual_clock.h"
#include "device/tape_drive.h"
#include "element_status_view.h"
#include "fault/fault_plan.h"
#include "initiator.h"
#include "library/emulator.h"
#include "library_fixture.h"
#include "sense_view.h"
#include "smc_support.h"
#include "support.h"
#include "test_ssc_support.h"

namespace vtl::faulttest {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;
using fixtures::Initiator;
using fixtures::Response;
using nlohmann::json;
using testsupport::IsCheck;
using testsupport::sense;

inline config::Timings zero_timings() { return ssctest::DriveRig::zero_timings(); }

class FaultRig {
public:
    explicit FaultRig(uint64_t seed = 0, std::optional<config::Timings> timings = zero_timings()) {
        auto lib = libtest::small_library();
        if (timings) lib.timings = *timings;
        cfg_.libraries.push_back(lib);
        emulator_ = std::make_unique<library::Emulator>(cfg_, clock_);
        plan_ = std::make_unique<fault::FaultPlan>(*emulator_, clock_, seed);
        changer_ = std::make_unique<Initiator>(library().changer(), clock_);
        changer_->clear_power_on_attention();
        drive_ = std::make_unique<Initiator>(*emulator_->find("t0/drive0"), clock_);
        drive_->clear_power_on_attention();
    }
    ~FaultRig() { plan_.reset(); }

    VirtualClock& clock() { return clock_; }
    fault::FaultPlan& plan() { return *plan_; }
    library::Library& library() { return *emulator_->libraries().front(); }
    const config::LibraryConfig& config() const { return cfg_.libraries.front(); }
    Initiator& changer() { return *changer_; }
    Initiator& drive() { return *drive_; }
    TapeDrive& tape_drive(int i = 0) {
        return static_cast<TapeDrive&>(library().find("drive" + std::to_string(i))->device());
    }
    uint16_t slot(uint32_t n) const { return libtest::slot(config(), n); }
    uint16_t dte(uint32_t i) const { return libtest::drive(config(), i); }
    uint16_t ie(uint32_t i) const { return libtest::ie(config(), i); }

    uint64_t add(const std::string& rule) { return plan_->add(json::parse(rule)); }

    // Submits and moves the clock until the command completes.
    Response run(Initiator& host, Bytes cdb, uint32_t in = 0, Bytes out = {}) {
        auto p = host.submit(std::move(cdb), in, std::move(out));
        clock_.run_ready();
        for (int i = 0; i < 100'000 && !p.done(); ++i) {
            if (!clock_.step()) break;
        }
        if (!p.done()) throw std::runtime_error("command never completed");
        return p.response();
    }
    Response tur(Initiator& host) { return run(host, fixtures::test_unit_ready()); }

    // Consumes unit attentions until TEST UNIT READY stops reporting one.
    void drain(Initiator& host) {
        for (int i = 0; i < 32; ++i) {
            auto r = host.send(fixtures::test_unit_ready());
            const auto s = fixtures::decode_sense(r.sense);
            if (r.status != scsi::Status::CheckCondition || !s || s->key != 0x06) return;
        }
    }

    // Moves the cartridge in slot `n` into drive0 and waits until it is threaded.
    void load(uint32_t n = 1) {
        auto r = run(changer(), smctest::move_medium(0, slot(n), dte(0)));
        ASSERT_EQ(r.status, scsi::Status::Good);
        for (int i = 0; i < 1000 && tape_drive().state() != DriveMechanism::State::Loaded; ++i) {
            if (!clock_.step()) break;
        }
        ASSERT_EQ(tape_drive().state(), DriveMechanism::State::Loaded);
        drain(drive());
    }

    // The element at `address` as READ ELEMENT STATUS reports it.
    fixtures::ElementDescriptor element(uint16_t address) {
        auto r = changer_->send(fixtures::read_element_status(true, 0, address, 1, 1024), 1024);
        EXPECT_EQ(r.status, scsi::Status::Good);
        auto v = fixtures::decode_element_status(r.data);
        if (!v || v->descriptor_count() != 1) throw std::runtime_error("one-element status does not decode");
        return v->pages.at(0).descriptors.at(0);
    }
    std::string tag_at(uint16_t address) {
        auto d = element(address);
        return d.full && d.primary_tag ? d.primary_tag->identifier : std::string();
    }

private:
    config::Config cfg_;
    VirtualClock clock_;
    std::unique_ptr<library::Emulator> emulator_;
    std::unique_ptr<fault::FaultPlan> plan_;
    std::unique_ptr<Initiator> changer_;
    std::unique_ptr<Initiator> drive_;
};

inline ::testing::AssertionResult IsStatus(const Response& r, scsi::Status s) {
    if (!r.done) return ::testing::AssertionFailure() << "not done";
    if (r.status != s) {
        auto v = fixtures::decode_sense(r.sense);
        return ::testing::AssertionFailure()
               << fmt::format("status {:02X}h{}, expected {:02X}h", int(r.status),
                              v ? fmt::format(" sense {:X}/{:02X}/{:02X}", v->key, v->asc, v->ascq) : "", int(s));
    }
    return ::testing::AssertionSuccess();
}
inline ::testing::AssertionResult IsGood(const Response& r) { return IsStatus(r, scsi::Status::Good); }

}  // namespace vtl::faulttest
