// One tape library: a logical unit for its changer and for each drive, built from its config.
// Everything it owns runs on the clock it was built on.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/logical_unit.h"

namespace vtl::library {

class Library {
public:
    struct DeviceRef {
        const std::string& name;  // "changer", "drive0"
        LogicalUnit& lu;          // named "<library>/<device>"
    };

    Library(config::LibraryConfig config, Clock& clock);
    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;

    const std::string& name() const { return config_.name; }
    const config::LibraryConfig& config() const { return config_; }
    Clock& clock() { return clock_; }

    // By device name; nullptr if the library has no such device.
    LogicalUnit* find(std::string_view device);
    LogicalUnit& changer() { return *devices_.front().lu; }
    // The changer first, then the drives in config order.
    std::vector<DeviceRef> devices();

private:
    struct Entry {
        std::string name;
        std::unique_ptr<LogicalUnit> lu;
    };

    config::LibraryConfig config_;
    Clock& clock_;
    std::vector<Entry> devices_;
};

}  // namespace vtl::library
