// MAINTENANCE IN service actions REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) and REPORT
// SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.36), both answered from the unit's own tables.
#include "core/logical_unit.h"
#include "scsi/cdb.h"
#include "scsi/opcodes.h"
#include "spc/spc.h"

namespace vtl {

namespace {

constexpr uint8_t kControlUsage = 0x07;  // NACA, FLAG, LINK: checked by the logical unit
constexpr uint32_t kNominalTimeout = 1;
constexpr uint32_t kRecommendedTimeout = 10;

// REPORTING OPTIONS (CDB byte 2 bits 2-0).
enum class ReportingOptions : uint8_t {
    All = 0,                         // all_commands format
    ByOpcode = 1,                    // one_command, opcode without service actions
    ByOpcodeAndServiceAction = 2,    // one_command, opcode with service actions
    ByOpcodeMaybeServiceAction = 3,  // one_command, service action only if the opcode has them
};
constexpr uint8_t kMaxReportingOptions = 3;

// Command descriptor (all_commands) byte 5 and one_command byte 1.
constexpr uint8_t kDescriptorCtdp = 0x02;
constexpr uint8_t kDescriptorServactv = 0x01;
constexpr uint8_t kOneCommandCtdp = 0x80;
constexpr uint8_t kSupportNotSupported = 0x01;
constexpr uint8_t kSupportStandard = 0x03;
constexpr uint16_t kTimeoutsDescriptorLength = 0x0A;

// REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS parameter data.
constexpr uint8_t kAts = 0x80;    // byte 0: ABORT TASK
constexpr uint8_t kLurs = 0x08;   // byte 0: LOGICAL UNIT RESET
constexpr uint8_t kItnrs = 0x01;  // byte 1: I_T NEXUS RESET
constexpr uint8_t kTmfAdditionalLength = 0x0C;

struct RsocCdb {
    bool rctd = false;
    ReportingOptions options = ReportingOptions::All;
    uint8_t opcode = 0;
    uint16_t service_action = 0;
    uint32_t allocation_length = 0;
    std::optional<scsi::Sense> error;  // the first invalid field
};

RsocCdb decode_rsoc(std::span<const uint8_t> cdb, const CommandSet& commands) {
    scsi::CdbReader r(cdb);
    RsocCdb c;
    c.rctd = r.bit(2, 7);
    const uint8_t options = r.bits(2, 0, 3);
    c.options = static_cast<ReportingOptions>(options);
    c.opcode = r.u8(3);
    c.service_action = r.be16(4);
    c.allocation_length = r.be32(6);
    // Asking for one opcode the wrong way (with or without a service action) is an invalid
    // REPORTING OPTIONS value; an opcode we do not know is answered "not supported" instead.
    const bool has_service_actions = commands.uses_service_actions(c.opcode);
    const bool plain_opcode = commands.find(c.opcode, std::nullopt) != nullptr;
    r.reserved(1, 0xE0)
        .reserved(2, 0x78)
        .require(options <= kMaxReportingOptions, 2, 2)
        .require(!(c.options == ReportingOptions::ByOpcode && has_service_actions), 2, 2)
        .require(!(c.options == ReportingOptions::ByOpcodeAndServiceAction && plain_opcode), 2, 2)
        .reserved(10);
    c.error = r.error();
    return c;
}

void timeouts_descriptor(scsi::ByteWriter& w, const CommandInfo& info) {
    w.be16(kTimeoutsDescriptorLength)
        .u8(0)  // reserved
        .u8(0)  // command specific
        .be32(info.nominal_timeout_s)
        .be32(info.recommended_timeout_s);
}

std::vector<uint8_t> all_commands(const CommandSet& commands, bool rctd) {
    std::vector<uint8_t> d;
    scsi::ByteWriter w(d);
    w.be32(0);  // COMMAND DATA LENGTH, patched below
    for (const CommandInfo* info : commands.all()) {
        w.u8(info->opcode)
            .u8(0)
            .be16(info->service_action.value_or(0))
            .u8(0)
            .u8((rctd ? kDescriptorCtdp : 0) | (info->service_action ? kDescriptorServactv : 0))
            .be16(static_cast<uint16_t>(info->usage.size()));
        if (rctd) timeouts_descriptor(w, *info);
    }
    w.patch_be32(0, static_cast<uint32_t>(d.size() - 4));
    return d;
}

std::vector<uint8_t> one_command(const CommandSet& commands, const RsocCdb& cdb) {
    const CommandInfo* info = nullptr;
    switch (cdb.options) {
        case ReportingOptions::ByOpcode:
            info = commands.find(cdb.opcode, std::nullopt);
            break;
        case ReportingOptions::ByOpcodeAndServiceAction:
            info = commands.find(cdb.opcode, cdb.service_action);
            break;
        case ReportingOptions::ByOpcodeMaybeServiceAction:
            info = commands.uses_service_actions(cdb.opcode) ? commands.find(cdb.opcode, cdb.service_action)
                                                              : commands.find(cdb.opcode, std::nullopt);
            break;
        case ReportingOptions::All:
            break;
    }
    std::vector<uint8_t> d;
    d.reserve(64);  // the header, a usage map, the timeouts descriptor (one allocation)
    scsi::ByteWriter w(d);
    if (!info) {
        w.u8(0).u8(kSupportNotSupported).be16(0);  // CDB SIZE 0, no usage data
        return d;
    }
    w.u8(0)
        .u8((cdb.rctd ? kOneCommandCtdp : 0) | kSupportStandard)
        .be16(static_cast<uint16_t>(info->usage.size()))
        .bytes(info->usage);
    if (cdb.rctd) timeouts_descriptor(w, *info);
    return d;
}

Result report_supported_operation_codes(Exec& x) {
    const CommandSet& commands = x.lu().commands();
    const RsocCdb cdb = decode_rsoc(x.cdb(), commands);
    if (cdb.error) return Result::check(*cdb.error);
    auto data = cdb.options == ReportingOptions::All ? all_commands(commands, cdb.rctd) : one_command(commands, cdb);
    return Result::good(std::move(data), cdb.allocation_length);
}

struct RstmfCdb {
    bool repd = false;
    uint32_t allocation_length = 0;
    std::optional<scsi::Sense> error;
};

RstmfCdb decode_rstmf(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    RstmfCdb c;
    c.repd = r.bit(2, 7);
    c.allocation_length = r.be32(6);
    r.reserved(1, 0xE0).reserved(2, 0x7F).reserved(3).reserved(4).reserved(5).reserved(10);
    c.error = r.error();
    return c;
}

Result report_supported_task_management_functions(Exec& x) {
    const RstmfCdb cdb = decode_rstmf(x.cdb());
    if (cdb.error) return Result::check(*cdb.error);
    // The functions LogicalUnit implements: abort_task, lun_reset, nexus_loss.
    std::vector<uint8_t> d;
    scsi::ByteWriter w(d);
    w.u8(kAts | kLurs).u8(kItnrs).u8(0);
    if (cdb.repd) {
        // Extended form: no task management function timeouts (TMFTMOV=0), so all zero.
        w.u8(kTmfAdditionalLength).zeros(kTmfAdditionalLength);
    } else {
        w.u8(0);
    }
    return Result::good(std::move(d), cdb.allocation_length);
}

}  // namespace

void register_report_opcodes(LogicalUnit& lu) {
    constexpr uint8_t op = scsi::op::kMaintenanceIn;
    lu.commands().add(CommandInfo{
        .opcode = op,
        .service_action = scsi::op::kSaReportSupportedOperationCodes,
        .name = "REPORT SUPPORTED OPERATION CODES",
        .usage = {op, 0x1F, 0x87, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, kControlUsage},
        .nominal_timeout_s = kNominalTimeout,
        .recommended_timeout_s = kRecommendedTimeout,
        .queueing = Queueing::Immediate,
        .unit_attention = UnitAttentionRule::Report,
        .allowed_when_reserved = [](std::span<const uint8_t>) { return true; },
        .handler = report_supported_operation_codes,
    });
    lu.commands().add(CommandInfo{
        .opcode = op,
        .service_action = scsi::op::kSaReportSupportedTaskManagementFunctions,
        .name = "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS",
        .usage = {op, 0x1F, 0x80, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, kControlUsage},
        .nominal_timeout_s = kNominalTimeout,
        .recommended_timeout_s = kRecommendedTimeout,
        .queueing = Queueing::Immediate,
        .unit_attention = UnitAttentionRule::Report,
        .allowed_when_reserved = [](std::span<const uint8_t>) { return true; },  // SPC-3 table 31
        .handler = report_supported_task_management_functions,
    });
}

}  // namespace vtl
