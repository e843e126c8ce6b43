// INITIALIZE ELEMENT STATUS (SMC-3), INITIALIZE ELEMENT STATUS WITH RANGE, and its
// vendor twin E7h (IBM, Quantum, Spectra). The robot scans barcodes, taking time per element; the
// task is kept until the scan ends, and TEST UNIT READY answers 02/04/01 meanwhile.
//
// E7h layout: Linux sizes vendor opcodes C0h-FFh as 10-byte CDBs, which is 37h's length, so E7h
// takes 37h's fields at the same places: byte 1 FAST (bit 1) and RANGE (bit 0), bytes 2-3
// ELEMENT ADDRESS, bytes 6-7 NUMBER OF ELEMENTS, bytes 4-5 and 8 reserved, byte 9 CONTROL.
#include <optional>
#include <variant>

#include "core/logical_unit.h"
#include "device/medium_changer.h"
#include "library/library.h"
#include "scsi/cdb.h"
#include "smc/smc.h"
#include "smc/traits.h"

namespace vtl::smc {

namespace {

// Linux ch gives INITIALIZE ELEMENT STATUS 3600 s, mtx 30 minutes; a full scan of a large
// library takes minutes.
constexpr uint32_t kNominalTimeout = 600;
constexpr uint32_t kRecommendedTimeout = 3600;

using Range = std::optional<std::pair<uint16_t, uint16_t>>;  // first address, count

std::optional<scsi::Sense> decode_initialize(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    r.reserved(1, static_cast<uint8_t>(~kObsoleteLunBits)).reserved(2).reserved(3).reserved(4);
    return r.error();
}

struct WithRangeCdb {
    bool fast = false;  // scan only elements of unknown status: ours never are, so it changes nothing
    Range range;        // nullopt: RANGE=0, every element
};

std::variant<WithRangeCdb, scsi::Sense> decode_with_range(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    WithRangeCdb c;
    r.reserved(1, static_cast<uint8_t>(~kObsoleteLunBits & 0xFC));
    c.fast = r.bit(1, 1);
    // With RANGE=0 the address and count are ignored (SMC-3).
    if (r.bit(1, 0)) c.range = std::pair{r.be16(2), r.be16(6)};
    r.reserved(4).reserved(5).reserved(8);
    if (r.error()) return *r.error();
    return c;
}

Result initialize(Exec& x, MediumChanger& changer, Range range) {
    library::Library& lib = changer.library();
    if (range && !lib.inventory().at(range->first)) {
        return Result::check(scsi::Sense::illegal_request(scsi::asc::kInvalidElementAddress));
    }
    LogicalUnit* lu = &x.lu();
    TaskPtr task = x.task();
    MediumChanger* c = &changer;
    changer.initialization_started();
    const library::MoveId id = lib.initialize_element_status(range, [lu, task, c](std::optional<scsi::Sense> outcome) {
        c->initialization_ended();
        lu->complete(task, outcome ? Result::check(*outcome) : Result::good());
    });
    // An abort hands the scan to the library, which then never calls `done`: the scan is over
    // as far as TEST UNIT READY goes.
    const config::AbortPolicy policy = lib.config().bridge.abort_policy;
    library::Library* l = &lib;
    task->on_abort([l, c, id, policy] {
        l->abort(id, policy);
        c->initialization_ended();
    });
    return Result::pending();
}

Result initialize_element_status(Exec& x, MediumChanger& changer) {
    if (auto err = decode_initialize(x.cdb())) return Result::check(*err);
    return initialize(x, changer, std::nullopt);
}

Result initialize_with_range(Exec& x, MediumChanger& changer) {
    auto decoded = decode_with_range(x.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    return initialize(x, changer, std::get<WithRangeCdb>(decoded).range);
}

std::vector<uint8_t> with_range_usage(uint8_t opcode) {
    return {opcode, 0x03, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0x00, kControlUsage};
}

}  // namespace

void register_initialize_commands(LogicalUnit& lu, MediumChanger& changer) {
    MediumChanger* c = &changer;
    lu.commands().add(make_command(op::kInitializeElementStatus, "INITIALIZE ELEMENT STATUS",
                                   {op::kInitializeElementStatus, 0x00, 0x00, 0x00, 0x00, kControlUsage},
                                   kNominalTimeout, kRecommendedTimeout,
                                   [c](Exec& x) { return initialize_element_status(x, *c); }));
    lu.commands().add(make_command(op::kInitializeElementStatusWithRange, "INITIALIZE ELEMENT STATUS WITH RANGE",
                                   with_range_usage(op::kInitializeElementStatusWithRange), kNominalTimeout,
                                   kRecommendedTimeout, [c](Exec& x) { return initialize_with_range(x, *c); }));
    // The personality's traits, straight from the config: the library is still being built.
    if (traits(changer.library().config().personality).accepts_e7) {
        lu.commands().add(make_command(op::kVendorInitializeElementStatusWithRange,
                                       "INITIALIZE ELEMENT STATUS WITH RANGE (vendor)",
                                       with_range_usage(op::kVendorInitializeElementStatusWithRange), kNominalTimeout,
                                       kRecommendedTimeout, [c](Exec& x) { return initialize_with_range(x, *c); }));
    }
}

}  // namespace vtl::smc
