#include "library/library.h"

#include "device/medium_changer.h"
#include "device/tape_drive.h"
#include "library/identities.h"

namespace vtl::library {

Library::Library(config::LibraryConfig config, Clock& clock) : config_(std::move(config)), clock_(clock) {
    auto lu_name = [&](const std::string& device) { return config_.name + "/" + device; };
    // The changer runs commands concurrently (a READ ELEMENT STATUS need not wait for a move);
    // a drive runs one ordered command at a time, as SSC drives do.
    devices_.push_back(Entry{config_.changer,
                             std::make_unique<LogicalUnit>(lu_name(config_.changer), clock_,
                                                           std::make_unique<MediumChanger>(changer_identity(config_)),
                                                           LogicalUnit::Options{.serial = false})});
    for (const auto& drive : config_.drives) {
        devices_.push_back(Entry{drive.name,
                                 std::make_unique<LogicalUnit>(lu_name(drive.name), clock_,
                                                               std::make_unique<TapeDrive>(drive_identity(config_, drive)),
                                                               LogicalUnit::Options{.serial = true})});
    }
}

Library::~Library() = default;

LogicalUnit* Library::find(std::string_view device) {
    for (auto& e : devices_) {
        if (e.name == device) return e.lu.get();
    }
    return nullptr;
}

std::vector<Library::DeviceRef> Library::devices() {
    std::vector<DeviceRef> out;
    out.reserve(devices_.size());
    for (auto& e : devices_) out.push_back(DeviceRef{e.name, *e.lu});
    return out;
}

}  // namespace vtl::library
