#include "ssc/write_policy.h"

#include <algorithm>

#include "scsi/bytes.h"
#include "ssc/tape_alert.h"
#include "storage/cartridge.h"

namespace vtl::ssc {

namespace {

std::vector<uint8_t> extension_page(const TapeDrive& drive) {
    return drive.mode_page(config_extension::kCode, config_extension::kSubpage);
}

}  // namespace

bool append_only(const TapeDrive& drive) {
    const auto page = extension_page(drive);
    return page.size() > config_extension::kWriteMode &&
           (page[config_extension::kWriteMode] >> 4) == config_extension::kAppendOnly;
}

uint64_t programmable_early_warning(const TapeDrive& drive) {
    const auto page = extension_page(drive);
    if (page.size() < config_extension::kPews + 2) return 0;
    return uint64_t(scsi::get_be16(&page[config_extension::kPews])) * config_extension::kPewsUnit;
}

bool at_append_point(const storage::Cartridge& c) {
    const storage::Position at = c.position();
    const uint64_t eod = c.eod();
    if (at.object >= eod) return true;
    const uint64_t marks_before = c.filemarks_before(at);
    if (c.filemarks_before({at.partition, eod}) - marks_before != eod - at.object) return false;  // a record ahead
    if (at.object == 0) return true;
    return marks_before - c.filemarks_before({at.partition, at.object - 1}) == 1;  // just after a filemark
}

TapeDrive::JobOutcome append_only_refusal() {
    return {Result::check(scsi::Sense(scsi::SenseKey::DataProtect, asc::kOperatorSelectedWriteProtect)),
            alert_bit(alert::kWriteProtect)};
}

std::optional<scsi::Sense> EarlyWarningZone::after_write(const storage::Cartridge& c, uint64_t zone_size,
                                                         uint64_t mount) {
    if (mount != mount_) {
        mount_ = mount;
        reported_ = false;
    }
    const storage::CapacityInfo cap = c.capacity();
    if (zone_size == 0 || cap.capacity == 0) {
        reported_ = false;
        return std::nullopt;
    }
    const uint64_t zone_start = cap.early_warning_at - std::min(zone_size, cap.early_warning_at);
    if (cap.used < zone_start) {
        reported_ = false;  // left (or never reached) the zone on the BOP side
        return std::nullopt;
    }
    if (reported_) return std::nullopt;
    reported_ = true;
    return scsi::Sense::no_sense(asc::kProgrammableEarlyWarning).eom().information(0);
}

WriteGate WriteGate::begin(TapeDrive& drive, WriteControl& control) {
    WriteGate g;
    g.append_only = ssc::append_only(drive);
    g.overwrite_allowed = control.permit.take(drive.tape()) == AllowOverwrite::CurrentPosition;
    g.pew_size = programmable_early_warning(drive);
    g.mount = drive.tape().mounts();
    g.pew = control.pew;
    return g;
}

std::optional<TapeDrive::JobOutcome> WriteGate::refuse(const storage::Cartridge& c) const {
    if (append_only && !overwrite_allowed && !at_append_point(c)) return append_only_refusal();
    return std::nullopt;
}

}  // namespace vtl::ssc
