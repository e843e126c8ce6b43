// OPEN/CLOSE IMPORT/EXPORT ELEMENT (SMC-3): a host opens the I/E station for the operator, or
// closes it. Byte 1 reserved, bytes 2-3 ELEMENT ADDRESS (an import/export element), byte 4
// ACTION CODE (bits 4-0: 00h open, 01h close; the others are reserved or vendor specific).
#include <variant>

#include "core/logical_unit.h"
#include "device/medium_changer.h"
#include "library/library.h"
#include "scsi/cdb.h"
#include "smc/smc.h"

namespace vtl::smc {

namespace {

constexpr uint32_t kNominalTimeout = 10;
constexpr uint32_t kRecommendedTimeout = 60;

enum class IeAction : uint8_t { Open = 0x00, Close = 0x01 };

struct OpenCloseCdb {
    uint16_t address = 0;
    IeAction action = IeAction::Open;
};

std::variant<OpenCloseCdb, scsi::Sense> decode_open_close(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    OpenCloseCdb c;
    r.reserved(1, static_cast<uint8_t>(~kObsoleteLunBits));
    c.address = r.be16(2);
    const uint8_t action = r.bits(4, 0, 5);
    r.reserved(4, 0xE0).require(action <= uint8_t(IeAction::Close), 4, 4);
    c.action = static_cast<IeAction>(action);
    if (r.error()) return *r.error();
    return c;
}

Result open_close(Exec& x, MediumChanger& changer) {
    auto decoded = decode_open_close(x.cdb());
    if (auto* err = std::get_if<scsi::Sense>(&decoded)) return Result::check(*err);
    const auto& c = std::get<OpenCloseCdb>(decoded);
    library::Library& lib = changer.library();
    const Element* e = lib.inventory().at(c.address);
    if (!e || e->type != ElementType::ImportExport) {
        return Result::check(scsi::Sense::illegal_request(scsi::asc::kInvalidElementAddress));
    }
    // Asking for the state the station is already in is not an error.
    if (c.action == IeAction::Open) {
        if (lib.ie_door_open()) return Result::good();
        // PREVENT MEDIUM REMOVAL on the changer locks the station against opening.
        if (lib.ie_locked()) return Result::check(scsi::Sense::illegal_request(scsi::asc::kMediumRemovalPrevented));
        // Otherwise the robot is working at the station: the host may retry when it is done.
        if (auto why = lib.open_ie_door()) {
            x.lu().log().info("[{}] OPEN IMPORT/EXPORT ELEMENT: {}", x.lu().name(), *why);
            return Result::check(scsi::Sense::not_ready(scsi::asc::kOperationInProgress));
        }
        return Result::good();
    }
    if (!lib.ie_door_open()) return Result::good();
    if (auto why = lib.close_ie_door()) {
        x.lu().log().info("[{}] CLOSE IMPORT/EXPORT ELEMENT: {}", x.lu().name(), *why);
        return Result::check(scsi::Sense::not_ready(scsi::asc::kOperationInProgress));
    }
    return Result::good();
}

}  // namespace

void register_ie_commands(LogicalUnit& lu, MediumChanger& changer) {
    MediumChanger* c = &changer;
    lu.commands().add(CommandInfo{
        .opcode = op::kOpenCloseImportExportElement,
        .name = "OPEN/CLOSE IMPORT/EXPORT ELEMENT",
        .usage = {op::kOpenCloseImportExportElement, 0x00, 0xFF, 0xFF, 0x1F, kControlUsage},
        .nominal_timeout_s = kNominalTimeout,
        .recommended_timeout_s = kRecommendedTimeout,
        .handler = [c](Exec& x) { return open_close(x, *c); },
    });
}

}  // namespace vtl::smc
