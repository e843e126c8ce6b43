// LOAD UNLOAD (SSC-4): unload goes through the drive's mechanism, so the library sees the
// cartridge ejected in the drive's mouth and its robot can pick it; load threads a cartridge
// sitting in the mouth again, or rewinds a loaded one.
#include "ssc/ssc.h"
#include "ssc/ssc_common.h"
#include "storage/cartridge.h"

namespace vtl::ssc {

namespace {

constexpr uint8_t kLoadUnload = 0x1B;

struct LoadUnloadCdb {
    bool immed = false;
    bool hold = false;
    bool eot = false;
    bool reten = false;
    bool load = false;
};

TapeDrive::JobOutcome rewind_job(storage::Cartridge& c) {
    if (auto synced = c.sync(); !synced.ok()) return store_failure(synced.error(), true);
    auto r = c.locate(0, 0);
    if (!r.ok()) return store_failure(r.error(), false);
    return {Result::good()};
}

Result load_unload(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    LoadUnloadCdb c;
    r.reserved(1, 0xFE).reserved(2).reserved(3).reserved(4, 0xF0);
    c.immed = r.bit(1, 0);
    c.hold = r.bit(4, 3);
    c.eot = r.bit(4, 2);
    c.reten = r.bit(4, 1);
    c.load = r.bit(4, 0);
    r.require(!(c.load && c.eot), 4, 2);  // a load positions at BOP, never at the end
    if (r.error()) return Result::check(*r.error());

    using State = DriveMechanism::State;
    TaskPtr task = x.task();
    LogicalUnit* lu = &x.lu();
    auto answer = [lu, task, immed = c.immed](std::optional<scsi::Sense> s) {
        if (immed) return;  // already answered
        lu->complete(task, s ? Result::check(*s) : Result::good());
    };

    if (c.load) {
        if (d.state() == State::Ejected) {
            d.reload(answer);
            return c.immed ? Result::good() : Result::pending();
        }
        if (auto s = d.medium_ready()) return Result::check(*s);
        // Loaded already: LOAD (and RETEN, which an LTO drive does not need) rewinds.
        return d.run_job(task, rewind_job, TapeDrive::Motion::Rewind, c.immed);
    }
    if (c.hold) {
        // Unload with HOLD: rewind, but keep the cartridge threaded.
        if (auto s = d.medium_ready()) return Result::check(*s);
        return d.run_job(task, rewind_job, TapeDrive::Motion::Rewind, c.immed);
    }
    switch (d.state()) {
        case State::Empty: return Result::check(scsi::Sense::not_ready(scsi::asc::kMediumNotPresent));
        case State::Ejected: return Result::good();
        default: break;
    }
    if (x.lu().medium_removal_prevented()) {
        return Result::check(scsi::Sense::illegal_request(scsi::asc::kMediumRemovalPrevented));
    }
    d.eject(answer);
    return c.immed ? Result::good() : Result::pending();
}

}  // namespace

void register_load_unload(LogicalUnit& lu, TapeDrive& drive) {
    lu.commands().add(command(drive, kLoadUnload, std::nullopt, "LOAD UNLOAD",
                              {kLoadUnload, 0x01, 0x00, 0x00, 0x0F, kControlUsage}, kLoad, load_unload));
}

}  // namespace vtl::ssc
