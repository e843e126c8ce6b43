#include "library/emulator.h"

namespace vtl::library {

Emulator::Emulator(const config::Config& config, Clock& clock, Library::Options options) {
    for (const auto& lib : config.libraries) libraries_.push_back(std::make_unique<Library>(lib, clock, options));
}

Emulator::~Emulator() = default;

Library* Emulator::library(std::string_view name) {
    for (auto& lib : libraries_) {
        if (lib->name() == name) return lib.get();
    }
    return nullptr;
}

LogicalUnit* Emulator::find(std::string_view path) {
    const size_t slash = path.find('/');
    if (slash == std::string_view::npos) return nullptr;
    Library* lib = library(path.substr(0, slash));
    return lib ? lib->find(path.substr(slash + 1)) : nullptr;
}

}  // namespace vtl::library
