#include "observe/describe.h"

#include <fmt/format.h>

#include "scsi/cdb.h"

namespace vtl::observe {

std::span<const uint8_t> trimmed_cdb(const Task& task) {
    const auto cdb = task.cdb();
    const size_t n = scsi::cdb_length(cdb);
    return (n == 0 || n > cdb.size()) ? cdb : cdb.first(n);
}

std::string command_name(LogicalUnit& lu, const Task& task) {
    const auto cdb = trimmed_cdb(task);
    if (cdb.empty()) return "(empty CDB)";
    const auto match = lu.commands().find(cdb);
    if (match.info) return match.info->name;
    return fmt::format("opcode {:02X}h", cdb[0]);
}

const char* status_name(scsi::Status s) {
    switch (s) {
        case scsi::Status::Good:
            return "GOOD";
        case scsi::Status::CheckCondition:
            return "CHECK CONDITION";
        case scsi::Status::ConditionMet:
            return "CONDITION MET";
        case scsi::Status::Busy:
            return "BUSY";
        case scsi::Status::ReservationConflict:
            return "RESERVATION CONFLICT";
        case scsi::Status::TaskSetFull:
            return "TASK SET FULL";
        case scsi::Status::AcaActive:
            return "ACA ACTIVE";
        case scsi::Status::TaskAborted:
            return "TASK ABORTED";
    }
    return "?";
}

std::string hex(std::span<const uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0xF]);
    }
    return out;
}

std::string SenseCode::text() const { return fmt::format("{:X}/{:02X}/{:02X}", key, asc, ascq); }

std::optional<SenseCode> sense_code(std::span<const uint8_t> s) {
    if (s.empty()) return std::nullopt;
    const uint8_t response = s[0] & 0x7F;
    if ((response == 0x70 || response == 0x71) && s.size() >= 14) {
        return SenseCode{static_cast<uint8_t>(s[2] & 0x0F), s[12], s[13]};
    }
    if ((response == 0x72 || response == 0x73) && s.size() >= 4) {
        return SenseCode{static_cast<uint8_t>(s[1] & 0x0F), s[2], s[3]};
    }
    return std::nullopt;
}

Duration latency(LogicalUnit& lu, const Task& task) {
    const Duration d = lu.clock().now() - task.submitted();
    return d < Duration::zero() ? Duration::zero() : d;
}

}  // namespace vtl::observe
