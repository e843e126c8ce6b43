// Every library of a config, on one clock. Resolves "library/device" paths: the TCMU handler
// will look up a backstore's config string "vtl/<library>/<device>" here.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "library/library.h"

namespace vtl::library {

class Emulator {
public:
    // Libraries in memory unless options.persist (the daemon keeps each in its state_dir).
    Emulator(const config::Config& config, Clock& clock, Library::Options options = {});
    ~Emulator();
    Emulator(const Emulator&) = delete;
    Emulator& operator=(const Emulator&) = delete;

    Library* library(std::string_view name);
    // "lib0/drive0" -> that drive's logical unit; nullptr for anything else.
    LogicalUnit* find(std::string_view path);
    const std::vector<std::unique_ptr<Library>>& libraries() const { return libraries_; }

private:
    std::vector<std::unique_ptr<Library>> libraries_;
};

}  // namespace vtl::library
