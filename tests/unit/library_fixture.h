// Small libraries and helpers the library state-machine tests share: a config with drives of
// known generations and cartridges of every kind, temp state directories, and sense matchers
// for the Library API (which returns scsi::Sense, not bytes).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "config/config.h"
#include "scsi/sense.h"

namespace vtl::libtest {

// lib "t0": 1 robot at 0x0000, I/E 0x0010.., drives 0x0100.. (TD8, TD8, TD9), slots 0x1000..
// Slots 1-5: A00001L8..A00005L8; 6: CLN001CU; 7: A00007L5 (LTO-5); 8: A00008M8 (Type M);
// 9-10 empty, and slots 11.. empty.
inline config::LibraryConfig small_library(config::Personality p = config::Personality::Generic, uint32_t slots = 12) {
    auto lib = config::library_defaults("t0", p);
    lib.slots = slots;
    lib.ie_slots = 2;
    const char* models[] = {"ULT3580-TD8", "ULT3580-TD8", "ULT3580-TD9"};
    for (int i = 0; i < 3; ++i) {
        config::DriveConfig d;
        d.name = fmt::format("drive{}", i);
        d.model = models[i];
        d.serial = config::default_drive_serial(lib.name, d.name);
        lib.drives.push_back(d);
    }
    auto add = [&](std::string barcode, uint32_t slot) {
        auto info = *config::parse_barcode(barcode);
        lib.cartridges.push_back(config::CartridgeConfig{.barcode = barcode,
                                                         .slot = slot,
                                                         .type = info.type.value_or(config::MediaType::Data),
                                                         .generation = info.generation});
    };
    for (uint32_t i = 1; i <= 5; ++i) add(fmt::format("A0000{}L8", i), i);
    add("CLN001CU", 6);
    add("A00007L5", 7);
    add("A00008M8", 8);
    return lib;
}

inline uint16_t slot(const config::LibraryConfig& c, uint32_t n) { return static_cast<uint16_t>(c.addresses.slot + n - 1); }
inline uint16_t drive(const config::LibraryConfig& c, uint32_t i) { return static_cast<uint16_t>(c.addresses.drive + i); }
inline uint16_t ie(const config::LibraryConfig& c, uint32_t i) { return static_cast<uint16_t>(c.addresses.ie + i); }
inline uint16_t robot(const config::LibraryConfig& c, uint32_t i = 0) {
    return static_cast<uint16_t>(c.addresses.transport + i);
}

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "vtl-test-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline ::testing::AssertionResult IsSense(const std::optional<scsi::Sense>& s, uint8_t key, uint8_t asc, uint8_t ascq) {
    if (!s) return ::testing::AssertionFailure() << "no sense (the operation may start / succeeded)";
    const auto k = static_cast<uint8_t>(s->key());
    if (k != key || s->code().asc != asc || s->code().ascq != ascq) {
        return ::testing::AssertionFailure()
               << fmt::format("sense {:X}/{:02X}/{:02X}, expected {:X}/{:02X}/{:02X}", k, s->code().asc, s->code().ascq,
                              key, asc, ascq);
    }
    return ::testing::AssertionSuccess();
}

// Records a Done callback's outcome.
struct Outcome {
    int calls = 0;
    std::optional<scsi::Sense> sense;
    auto callback() {
        return [this](std::optional<scsi::Sense> s) {
            ++calls;
            sense = std::move(s);
        };
    }
};

}  // namespace vtl::libtest
