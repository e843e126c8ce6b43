#include "ssc/medium_memory.h"

#include <spdlog/spdlog.h>

#include "storage/cartridge.h"

namespace vtl::ssc {

namespace {

constexpr uint64_t kMiB = 1u << 20;

void commit(storage::Cartridge& c, storage::Mam& m, const char* what) {
    if (auto r = m.commit(); !r.ok()) {
        spdlog::warn("[ssc] cartridge {}: MAM update after {} failed: {}", c.barcode(), what, r.error().message);
    }
}

}  // namespace

uint64_t record_load(storage::Cartridge& c, const std::string& device) {
    auto m = c.mam();
    if (!m.ok()) return 0;
    storage::Mam& mam = **m;
    mam.add_number(mam::kLoadCount, 1);
    for (uint16_t id = mam::kDeviceAtLastLoad + 3; id > mam::kDeviceAtLastLoad; --id) {
        if (const auto* prev = mam.find(static_cast<uint16_t>(id - 1))) {
            auto moved = *prev;
            moved.id = id;
            (void)mam.set(std::move(moved));
        }
    }
    (void)mam.set(storage::Attribute{mam::kDeviceAtLastLoad, storage::mam_format::kAscii, true,
                                     std::vector<uint8_t>(device.begin(), device.end())});
    mam.set_number(mam::kMbWrittenThisLoad, 0);
    mam.set_number(mam::kMbReadThisLoad, 0);
    commit(c, mam, "load");
    return mam.number(mam::kLoadCount).value_or(0);
}

void record_unload(storage::Cartridge& c) {
    auto m = c.mam();
    if (!m.ok()) return;
    storage::Mam& mam = **m;
    const auto& k = c.counters();
    const uint64_t written = k.bytes_to_medium / kMiB;
    const uint64_t read = k.bytes_from_medium / kMiB;
    mam.set_number(mam::kMbWrittenThisLoad, written);
    mam.set_number(mam::kMbReadThisLoad, read);
    mam.add_number(mam::kTotalMbWritten, written);
    mam.add_number(mam::kTotalMbRead, read);
    commit(c, mam, "unload");
}

uint64_t record_cleaning_use(storage::Cartridge& c) {
    auto m = c.mam();
    if (!m.ok()) return 0;
    storage::Mam& mam = **m;
    mam.add_number(mam::kLoadCount, 1);
    commit(c, mam, "cleaning");
    return mam.number(mam::kLoadCount).value_or(0);
}

void record_format(storage::Cartridge& c) {
    auto m = c.mam();
    if (!m.ok()) return;
    storage::Mam& mam = **m;
    mam.add_number(mam::kInitializationCount, 1, 2);
    commit(c, mam, "format");
}

}  // namespace vtl::ssc
