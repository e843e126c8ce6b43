// Damaged cartridge files: a seeded loop flips bytes, truncates at every kind of boundary,
// appends garbage, zeroes pages and deletes files of one cartridge, then opens and reads it.
// Opening never crashes or hangs; the cartridge either reads back a valid prefix of what was
// written (never a wrong byte) or is fenced with a reason naming the file and offset; a second
// cartridge in the same store is never affected.
//
// VTL_CORRUPTION_SEED=<n> repeats a run.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <random>

#include "storage/cartridge_header.h"
#include "storage/record_format.h"
#include "storage/store.h"
#include "storage_test_util.h"

using namespace vtl::storage;
using vtl::storage::testing::record_data;
using vtl::storage::testing::TempDir;
using vtl::storage::testing::text_data;

namespace {

struct Expected {
    bool filemark = false;
    std::vector<uint8_t> data;
};
using Model = std::vector<std::vector<Expected>>;  // per partition

void write_object(Cartridge& c, Model& model, uint8_t p, const Expected& e, bool compress) {
    if (e.filemark) {
        ASSERT_TRUE(c.write_filemarks(1, false).ok());
    } else {
        ASSERT_TRUE(c.write_record(e.data, compress).ok());
    }
    model[p].push_back(e);
}

// FUZZ01L8: two partitions, records of many sizes (some compressed), filemarks, a MAM, and a
// tail written after the last sync point. GOOD01L8: the bystander.
Model build(Store& store) {
    Model model(2);
    {
        auto c = store.open_cartridge("FUZZ01L8", OpenOptions{true, Layout{1 << 30, {}}});
        EXPECT_TRUE(c.ok());
        EXPECT_TRUE((*c)->format(Layout{1 << 30, {512 << 20, 0}}).ok());
        for (int i = 0; i < 60; ++i) {
            Expected e;
            e.filemark = i % 7 == 6;
            if (!e.filemark) {
                const size_t size = i == 30 ? 300000 : 1 + (i * 7919) % 20000;
                e.data = i % 3 == 0 ? text_data(i, size) : record_data(5, i, size);
            }
            write_object(**c, model, 0, e, i % 3 == 0);
        }
        EXPECT_TRUE((*c)->locate(1, 0).ok());
        for (int i = 0; i < 10; ++i) write_object(**c, model, 1, Expected{i == 5, i == 5 ? std::vector<uint8_t>() : record_data(6, i, 100 + i)}, false);
        auto mam = (*c)->mam();
        EXPECT_TRUE(mam.ok());
        (*mam)->set_number(mam_id::kLoadCount, 3);
        EXPECT_TRUE((*mam)->set(Attribute{0x0800, mam_format::kAscii, false, {'A', 'B'}}).ok());
        EXPECT_TRUE((*mam)->commit().ok());
        EXPECT_TRUE((*c)->sync().ok());
    }
    StoreOptions unsynced;
    unsynced.cartridge.sync_on_close = false;
    auto other = Store::open(store.directory().parent_path(), unsynced);
    EXPECT_TRUE(other.ok());
    {
        auto c = (*other)->open_cartridge("FUZZ01L8");
        EXPECT_TRUE(c.ok());
        EXPECT_TRUE((*c)->space_to_eod().ok());
        for (int i = 0; i < 5; ++i) write_object(**c, model, 0, Expected{false, record_data(7, i, 3000 + i)}, false);
    }
    {
        auto g = store.open_cartridge("GOOD01L8", OpenOptions{true, Layout{1 << 30, {}}});
        EXPECT_TRUE(g.ok());
        for (int i = 0; i < 20; ++i) EXPECT_TRUE((*g)->write_record(record_data(8, i, 2000)).ok());
        EXPECT_TRUE((*g)->write_filemarks(1).ok());
    }
    return model;
}

// Offsets worth cutting a file at: structure boundaries and their neighbours.
std::vector<uint64_t> boundaries(const std::filesystem::path& file, uint64_t size) {
    std::vector<uint64_t> out = {0, 1, size / 2, size ? size - 1 : 0};
    const std::string name = file.filename().string();
    if (name.ends_with(".records")) {
        std::ifstream in(file, std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
        std::string why;
        for (uint64_t at = 0; at + kRecordHeaderSize <= bytes.size();) {
            auto h = decode_record_header(&bytes[at], why);
            if (!h) break;
            for (uint64_t d : {uint64_t(0), uint64_t(1), uint64_t(kRecordHeaderSize - 1), uint64_t(kRecordHeaderSize),
                               kRecordHeaderSize + h->stored / 2}) {
                out.push_back(at + d);
            }
            at += kRecordHeaderSize + h->stored;
        }
    } else if (name.ends_with(".index") || name.ends_with(".marks")) {
        for (uint64_t at = 0; at <= size; at += 16) out.insert(out.end(), {at, at + 1, at + 15});
    } else if (name == "header") {
        out.insert(out.end(), {kHeaderSlotSize - 1, kHeaderSlotSize, kHeaderSlotSize + 1, kHeaderFileSize - 4});
    }
    std::erase_if(out, [&](uint64_t v) { return v > size; });
    return out;
}

std::string mutate(const std::filesystem::path& cart, std::mt19937_64& rng) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(cart)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    const auto file = files[rng() % files.size()];
    const uint64_t size = std::filesystem::file_size(file);
    const std::string name = file.filename().string();
    switch (rng() % 6) {
        case 0:
        case 1: {  // flip bytes
            if (size == 0) return name + ": empty, unchanged";
            std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
            const int n = 1 + static_cast<int>(rng() % 8);
            std::string what = name + ": flipped bytes at";
            for (int i = 0; i < n; ++i) {
                const uint64_t at = rng() % size;
                f.seekg(static_cast<std::streamoff>(at));
                const char old = static_cast<char>(f.get());
                f.seekp(static_cast<std::streamoff>(at));
                f.put(static_cast<char>(old ^ static_cast<char>(1 + rng() % 255)));
                what += " " + std::to_string(at);
            }
            return what;
        }
        case 2: {  // truncate at a boundary
            const auto cuts = boundaries(file, size);
            const uint64_t at = cuts[rng() % cuts.size()];
            std::filesystem::resize_file(file, at);
            return name + ": truncated to " + std::to_string(at);
        }
        case 3: {  // append garbage (sometimes a plausible record header)
            std::ofstream f(file, std::ios::binary | std::ios::app);
            const int n = 1 + static_cast<int>(rng() % 5000);
            if (rng() % 2) {
                RecordHeader h;
                h.object = rng() % 100;
                h.partition = static_cast<uint8_t>(rng() % 2);
                h.epoch = static_cast<uint32_t>(rng() % 3);
                h.length = h.stored = static_cast<uint32_t>(rng() % 100 + 1);
                uint8_t b[kRecordHeaderSize];
                h.encode(b);
                f.write(reinterpret_cast<const char*>(b), sizeof b);
            }
            for (int i = 0; i < n; ++i) f.put(static_cast<char>(rng()));
            return name + ": " + std::to_string(n) + " bytes of garbage appended";
        }
        case 4: {  // zero a page
            if (size == 0) return name + ": empty, unchanged";
            std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
            const uint64_t at = (rng() % size) & ~uint64_t(4095);
            f.seekp(static_cast<std::streamoff>(at));
            for (uint64_t i = at; i < std::min(size, at + 4096); ++i) f.put('\0');
            return name + ": page at " + std::to_string(at) + " zeroed";
        }
        default:
            std::filesystem::remove(file);
            return name + ": deleted";
    }
}

void check_bystander(Store& store) {
    auto g = store.open_cartridge("GOOD01L8");
    ASSERT_TRUE(g.ok()) << g.error().message;
    ASSERT_FALSE((*g)->fence()) << (*g)->fence()->message;
    ASSERT_EQ((*g)->eod(), 21u);
    ASSERT_TRUE((*g)->verify().ok());
    std::vector<uint8_t> buffer(2000);
    ASSERT_TRUE((*g)->locate(0, 19).ok());
    auto r = (*g)->read_next(buffer);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(buffer == record_data(8, 19, 2000));
}

}  // namespace

TEST(StorageCorruption, DamagedFilesGiveAValidPrefixOrAFenceAndNeverTouchOtherCartridges) {
    const char* seed_env = std::getenv("VTL_CORRUPTION_SEED");
    const uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : std::random_device{}();
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " (repeat with VTL_CORRUPTION_SEED=" << seed << ")");
    const auto level = spdlog::default_logger()->level();
    spdlog::set_level(spdlog::level::off);  // every fence is logged; the test checks the reasons

    TempDir base;
    Model model;
    {
        auto store = Store::open(base.path());
        ASSERT_TRUE(store.ok());
        model = build(**store);
        if (HasFailure()) return;
    }
    std::mt19937_64 rng(seed);
    int fenced = 0, full = 0, prefix = 0;
    const int iterations = 400;
    for (int it = 0; it < iterations; ++it) {
        TempDir work;
        std::filesystem::copy(base.path(), work.path(), std::filesystem::copy_options::recursive);
        const auto cart = work.path() / "cartridges" / "FUZZ01L8";
        std::string what = mutate(cart, rng);
        if (rng() % 4 == 0) what += "; " + mutate(cart, rng);
        SCOPED_TRACE(::testing::Message() << "iteration " << it << ": " << what);

        auto store = Store::open(work.path());
        ASSERT_TRUE(store.ok());
        auto opened = (*store)->open_cartridge("FUZZ01L8");
        ASSERT_TRUE(opened.ok()) << opened.error().message;
        Cartridge& c = **opened;
        bool was_fenced = false;
        bool complete = true;
        if (c.fence()) {
            was_fenced = true;
            ASSERT_TRUE(is_medium_error(c.fence()->code)) << c.fence()->message;
            ASSERT_NE(c.fence()->message.find("FUZZ01L8"), std::string::npos);
            ASSERT_TRUE(c.fence()->message.find("header") != std::string::npos ||
                        c.fence()->message.find(".records offset") != std::string::npos ||
                        c.fence()->message.find(".index offset") != std::string::npos ||
                        c.fence()->message.find(".marks offset") != std::string::npos ||
                        c.fence()->message.find("mam offset") != std::string::npos)
                << c.fence()->message;
            ASSERT_EQ(c.read_next({}).error().code, c.fence()->code);
        } else {
            std::vector<uint8_t> buffer(400000);
            for (uint8_t p = 0; p < c.partition_count() && !c.fence(); ++p) {
                ASSERT_LT(p, model.size());
                auto at = c.locate(p, 0);
                if (!at.ok()) {
                    ASSERT_TRUE(is_medium_error(at.error().code)) << at.error().message;
                    break;
                }
                for (size_t i = 0;; ++i) {
                    auto r = c.read_next(buffer);
                    if (!r.ok()) {
                        ASSERT_TRUE(is_medium_error(r.error().code)) << r.error().message;
                        ASSERT_TRUE(c.fence());
                        break;
                    }
                    if (r->kind == ReadKind::EndOfData) {
                        ASSERT_LE(i, model[p].size());
                        complete &= i == model[p].size();
                        break;
                    }
                    ASSERT_LT(i, model[p].size()) << "partition " << int(p) << " has more objects than were written";
                    const Expected& e = model[p][i];
                    ASSERT_EQ(r->kind == ReadKind::Filemark, e.filemark) << "partition " << int(p) << " object " << i;
                    if (!e.filemark) {
                        ASSERT_EQ(r->length, e.data.size()) << "partition " << int(p) << " object " << i;
                        ASSERT_TRUE(std::equal(e.data.begin(), e.data.end(), buffer.begin()))
                            << "wrong data in partition " << int(p) << " object " << i;
                    }
                }
            }
            // Random locates land on the right object or fail as a medium error.
            for (int k = 0; k < 10 && !c.fence(); ++k) {
                const uint8_t p = static_cast<uint8_t>(rng() % c.partition_count());
                const uint64_t o = rng() % (c.eod(p) + 1);
                auto at = c.locate(p, o);
                if (!at.ok()) {
                    ASSERT_TRUE(is_medium_error(at.error().code));
                    break;
                }
                auto r = c.read_next(buffer);
                if (!r.ok()) {
                    ASSERT_TRUE(is_medium_error(r.error().code));
                    break;
                }
                if (r->kind == ReadKind::EndOfData) continue;
                const Expected& e = model[p][o];
                ASSERT_EQ(r->kind == ReadKind::Filemark, e.filemark);
                if (!e.filemark) {
                    ASSERT_TRUE(std::equal(e.data.begin(), e.data.end(), buffer.begin()));
                }
            }
            was_fenced = c.fence().has_value();
            if (!was_fenced) {
                // Still writable: append, reopen, read it back.
                ASSERT_TRUE(c.locate(0, c.eod(0)).ok());
                const uint64_t end = c.eod(0);
                ASSERT_TRUE(c.write_record(record_data(9, 0, 1234)).ok());
                opened->reset();
                auto again = (*store)->open_cartridge("FUZZ01L8");
                ASSERT_TRUE(again.ok());
                if (!(*again)->fence()) {
                    ASSERT_EQ((*again)->eod(0), end + 1);
                    ASSERT_TRUE((*again)->locate(0, end).ok());
                    auto r = (*again)->read_next(buffer);
                    ASSERT_TRUE(r.ok());
                    ASSERT_EQ(r->length, 1234u);
                }
            }
        }
        fenced += was_fenced;
        if (!was_fenced) ++(complete ? full : prefix);
        check_bystander(**store);
        if (HasFatalFailure()) break;
    }
    spdlog::set_level(level);
    std::printf("[ StorageCorruption ] seed %llu: %d damaged cartridges: %d fenced, %d read back completely, %d as a "
                "shorter valid prefix\n",
                static_cast<unsigned long long>(seed), iterations, fenced, full, prefix);
}
