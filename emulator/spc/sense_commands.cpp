// TEST UNIT READY (SPC-4 6.47) and REQUEST SENSE (SPC-4 6.39).
#include "core/logical_unit.h"
#include "scsi/cdb.h"
#include "scsi/opcodes.h"
#include "spc/spc.h"

namespace vtl {

namespace {

constexpr uint8_t kControlUsage = 0x07;  // NACA, FLAG, LINK: checked by the logical unit
constexpr uint32_t kNominalTimeout = 1;
constexpr uint32_t kRecommendedTimeout = 10;

struct TestUnitReadyCdb {
    std::optional<scsi::Sense> error;
};

TestUnitReadyCdb decode_test_unit_ready(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    r.reserved(1).reserved(2).reserved(3).reserved(4);
    return {r.error()};
}

Result test_unit_ready(Exec& x) {
    const auto cdb = decode_test_unit_ready(x.cdb());
    if (cdb.error) return Result::check(*cdb.error);
    if (auto not_ready = x.lu().device().readiness()) return Result::check(*not_ready);
    return Result::good();
}

struct RequestSenseCdb {
    bool desc = false;
    uint8_t allocation_length = 0;
    std::optional<scsi::Sense> error;
};

RequestSenseCdb decode_request_sense(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    RequestSenseCdb c;
    c.desc = r.bit(1, 0);
    c.allocation_length = r.u8(4);
    r.reserved(1, 0xFE).reserved(2).reserved(3);
    c.error = r.error();
    return c;
}

Result request_sense(Exec& x) {
    const auto cdb = decode_request_sense(x.cdb());
    if (cdb.error) return Result::check(*cdb.error);
    LogicalUnit& lu = x.lu();
    // What the nexus would be told next: a unit attention (consumed by being reported), else
    // why the device is not ready, else nothing. The format follows DESC, not D_SENSE.
    scsi::Sense sense = scsi::Sense::no_sense();
    if (auto ua = lu.unit_attentions().pop(x.nexus())) {
        sense = scsi::Sense::unit_attention(*ua);
    } else if (auto not_ready = lu.device().readiness()) {
        sense = *not_ready;
    }
    const auto format = cdb.desc ? scsi::SenseFormat::Descriptor : scsi::SenseFormat::Fixed;
    return Result::good(sense.encode(format), cdb.allocation_length);
}

}  // namespace

void register_sense_commands(LogicalUnit& lu) {
    lu.commands().add(CommandInfo{
        .opcode = scsi::op::kTestUnitReady,
        .name = "TEST UNIT READY",
        .usage = {scsi::op::kTestUnitReady, 0x00, 0x00, 0x00, 0x00, kControlUsage},
        .nominal_timeout_s = kNominalTimeout,
        .recommended_timeout_s = kRecommendedTimeout,
        .queueing = Queueing::Immediate,
        .unit_attention = UnitAttentionRule::Report,
        .allowed_when_reserved = nullptr,  // SPC-2 5.5.1: conflicts
        .handler = test_unit_ready,
    });
    lu.commands().add(CommandInfo{
        .opcode = scsi::op::kRequestSense,
        .name = "REQUEST SENSE",
        .usage = {scsi::op::kRequestSense, 0x01, 0x00, 0x00, 0xFF, kControlUsage},
        .nominal_timeout_s = kNominalTimeout,
        .recommended_timeout_s = kRecommendedTimeout,
        .queueing = Queueing::Immediate,
        .unit_attention = UnitAttentionRule::AsSenseData,
        .allowed_when_reserved = [](std::span<const uint8_t>) { return true; },
        .handler = request_sense,
    });
}

}  // namespace vtl
