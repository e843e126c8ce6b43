// Cartridge semantics as the SSC commands will use them: records of every size, filemarks,
// end of data, overwriting in the middle, spacing in both directions with its stop conditions,
// locate, partitions, compression with honest counters, capacity thresholds, erase and MAM.
#include <gtest/gtest.h>

#include <random>

#include "storage/record_format.h"
#include "storage/store.h"
#include "storage_test_util.h"

using namespace vtl::storage;
using vtl::storage::testing::record_data;
using vtl::storage::testing::TempDir;
using vtl::storage::testing::text_data;

namespace {

constexpr uint64_t kSeed = 11;

class StorageCartridge : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = Store::open(dir_.path());
        ASSERT_TRUE(s.ok()) << s.error().message;
        store_ = std::move(*s);
    }

    std::unique_ptr<Cartridge> open(std::string_view barcode = "TST001L8", std::optional<Layout> layout = {}) {
        OpenOptions o;
        o.layout = layout;
        auto c = store_->open_cartridge(barcode, o);
        EXPECT_TRUE(c.ok()) << c.error().message;
        if (!c.ok()) return nullptr;
        EXPECT_FALSE((*c)->fence()) << (*c)->fence()->message;
        return std::move(*c);
    }

    static void write(Cartridge& c, uint64_t index, size_t size, bool compress = false) {
        auto r = c.write_record(record_data(kSeed, index, size), compress);
        ASSERT_TRUE(r.ok()) << r.error().message;
    }

    // Reads the next object and checks it is record `index` of `size` bytes.
    static void expect_record(Cartridge& c, uint64_t index, size_t size) {
        std::vector<uint8_t> buffer(size + 16);
        auto r = c.read_next(buffer);
        ASSERT_TRUE(r.ok()) << r.error().message;
        ASSERT_EQ(r->kind, ReadKind::Record);
        ASSERT_EQ(r->length, size);
        ASSERT_EQ(r->copied, size);
        buffer.resize(size);
        ASSERT_TRUE(buffer == record_data(kSeed, index, size)) << "record " << index << " differs";
    }

    static ReadKind next_kind(Cartridge& c) {
        std::vector<uint8_t> buffer(1 << 20);
        auto r = c.read_next(buffer);
        EXPECT_TRUE(r.ok()) << r.error().message;
        return r.ok() ? r->kind : ReadKind::EndOfData;
    }

    TempDir dir_;
    std::unique_ptr<Store> store_;
};

// Objects: 0 R, 1 R, 2 R, 3 F, 4 R, 5 R, 6 F, 7 F, 8 R; end of data 9.
void write_space_layout(Cartridge& c) {
    const char* shape = "RRRFRRFFR";
    for (int i = 0; shape[i]; ++i) {
        if (shape[i] == 'R') {
            ASSERT_TRUE(c.write_record(record_data(kSeed, i, 100 + i)).ok());
        } else {
            ASSERT_TRUE(c.write_filemarks(1).ok());
        }
    }
}

struct SpaceCase {
    uint64_t start;
    int64_t count;
    uint64_t end;
    uint64_t done;
    SpaceStop stop;
};

}  // namespace

TEST_F(StorageCartridge, RecordsOfEverySizeRoundTripAcrossReopen) {
    const std::vector<size_t> sizes = {1, 2, 3, 511, 512, 4095, 4096, 65535, 65536, 100001, 262144,
                                       1 << 20, (8 << 20) - 1, 8 << 20, kMaxRecordLength};
    {
        auto c = open();
        for (size_t i = 0; i < sizes.size(); ++i) write(*c, i, sizes[i]);
        ASSERT_TRUE(c->write_filemarks(1).ok());
        EXPECT_EQ(c->eod(), sizes.size() + 1);
        EXPECT_TRUE(c->at_eod());
    }
    auto c = open();
    EXPECT_EQ(c->position(), (Position{0, 0}));
    EXPECT_TRUE(c->at_bop());
    EXPECT_EQ(c->eod(), sizes.size() + 1);
    for (size_t i = 0; i < sizes.size(); ++i) expect_record(*c, i, sizes[i]);
    EXPECT_EQ(next_kind(*c), ReadKind::Filemark);
    EXPECT_EQ(c->file_number(), 1u);
    std::vector<uint8_t> buffer(16);
    for (int i = 0; i < 2; ++i) {  // end of data does not move
        auto r = c->read_next(buffer);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->kind, ReadKind::EndOfData);
        EXPECT_EQ(c->position(), (Position{0, sizes.size() + 1}));
    }
    EXPECT_TRUE(c->verify().ok());
}

TEST_F(StorageCartridge, ShortAndLongReadsReportTheRecordLength) {
    auto c = open();
    write(*c, 0, 1000);
    write(*c, 1, 1000, true);
    write(*c, 2, 300000);
    ASSERT_TRUE(c->locate(0, 0).ok());
    std::vector<uint8_t> small(10);
    auto r = c->read_next(small);  // ILI case: the drive reports residual 1000 - 10
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->length, 1000u);
    EXPECT_EQ(r->copied, 10u);
    EXPECT_TRUE(std::equal(small.begin(), small.end(), record_data(kSeed, 0, 1000).begin()));
    EXPECT_EQ(c->position().object, 1u);
    r = c->read_next(small);  // the same through a compressed (or raw, if incompressible) record
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->copied, 10u);
    EXPECT_TRUE(std::equal(small.begin(), small.end(), record_data(kSeed, 1, 1000).begin()));
    r = c->read_next({});  // an empty buffer only verifies
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->length, 300000u);
    EXPECT_EQ(r->copied, 0u);
    ASSERT_TRUE(c->locate(0, 0).ok());
    std::vector<uint8_t> big(5000);
    r = c->read_next(big);  // longer request: the record's length tells the residual
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->length, 1000u);
    EXPECT_EQ(r->copied, 1000u);
}

TEST_F(StorageCartridge, FilemarksAndFileNumbers) {
    auto c = open();
    write_space_layout(*c);
    ASSERT_TRUE(c->locate(0, 0).ok());
    const std::vector<ReadKind> kinds = {ReadKind::Record,   ReadKind::Record,   ReadKind::Record,
                                         ReadKind::Filemark, ReadKind::Record,   ReadKind::Record,
                                         ReadKind::Filemark, ReadKind::Filemark, ReadKind::Record,
                                         ReadKind::EndOfData};
    const std::vector<uint64_t> files = {0, 0, 0, 1, 1, 1, 2, 3, 3, 3};
    for (size_t i = 0; i < kinds.size(); ++i) {
        EXPECT_EQ(c->file_number(), i == 0 ? 0 : files[i - 1]) << i;
        EXPECT_EQ(next_kind(*c), kinds[i]) << i;
    }
    EXPECT_EQ(c->filemarks_before({0, 9}), 3u);
    EXPECT_EQ(c->filemarks_before({0, 7}), 2u);
}

TEST_F(StorageCartridge, SpaceBlocksStopsAtFilemarksEndOfDataAndBeginning) {
    auto c = open();
    write_space_layout(*c);
    const SpaceCase cases[] = {
        {0, 2, 2, 2, SpaceStop::None},        {0, 3, 3, 3, SpaceStop::None},
        {0, 4, 4, 3, SpaceStop::Filemark},    {3, 1, 4, 0, SpaceStop::Filemark},
        {4, 5, 7, 2, SpaceStop::Filemark},    {8, 1, 9, 1, SpaceStop::None},
        {8, 2, 9, 1, SpaceStop::EndOfData},   {9, 1, 9, 0, SpaceStop::EndOfData},
        {0, 0, 0, 0, SpaceStop::None},        {2, -2, 0, 2, SpaceStop::None},
        {2, -3, 0, 2, SpaceStop::BeginningOfPartition}, {4, -1, 3, 0, SpaceStop::Filemark},
        {6, -2, 4, 2, SpaceStop::None},       {6, -3, 3, 2, SpaceStop::Filemark},
        {8, -1, 7, 0, SpaceStop::Filemark},   {9, -1, 8, 1, SpaceStop::None},
        {0, -1, 0, 0, SpaceStop::BeginningOfPartition}, {0, INT64_MAX, 4, 3, SpaceStop::Filemark},
        {9, INT64_MIN, 7, 1, SpaceStop::Filemark},
    };
    for (const auto& k : cases) {
        SCOPED_TRACE(::testing::Message() << "start " << k.start << " count " << k.count);
        ASSERT_TRUE(c->locate(0, k.start).ok());
        auto r = c->space_blocks(k.count);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(c->position().object, k.end);
        EXPECT_EQ(r->done, k.done);
        EXPECT_EQ(r->stop, k.stop);
    }
    // After spacing past a filemark the next read is the record after it.
    ASSERT_TRUE(c->locate(0, 0).ok());
    ASSERT_TRUE(c->space_blocks(10).ok());
    expect_record(*c, 4, 104);
}

TEST_F(StorageCartridge, SpaceFilemarksCountsAndStops) {
    auto c = open();
    write_space_layout(*c);
    const SpaceCase cases[] = {
        {0, 1, 4, 1, SpaceStop::None},       {0, 2, 7, 2, SpaceStop::None},
        {0, 3, 8, 3, SpaceStop::None},       {0, 4, 9, 3, SpaceStop::EndOfData},
        {4, 1, 7, 1, SpaceStop::None},       {3, 1, 4, 1, SpaceStop::None},
        {9, 1, 9, 0, SpaceStop::EndOfData},  {0, 0, 0, 0, SpaceStop::None},
        {9, -1, 7, 1, SpaceStop::None},      {9, -3, 3, 3, SpaceStop::None},
        {9, -4, 0, 3, SpaceStop::BeginningOfPartition}, {4, -1, 3, 1, SpaceStop::None},
        {3, -1, 0, 0, SpaceStop::BeginningOfPartition}, {8, -2, 6, 2, SpaceStop::None},
        {0, INT64_MAX, 9, 3, SpaceStop::EndOfData},     // st's "space to end of data"
    };
    for (const auto& k : cases) {
        SCOPED_TRACE(::testing::Message() << "start " << k.start << " count " << k.count);
        ASSERT_TRUE(c->locate(0, k.start).ok());
        auto r = c->space_filemarks(k.count);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(c->position().object, k.end);
        EXPECT_EQ(r->done, k.done);
        EXPECT_EQ(r->stop, k.stop);
    }
}

TEST_F(StorageCartridge, SpaceSequentialFilemarksAndEndOfData) {
    auto c = open();
    write_space_layout(*c);
    const SpaceCase cases[] = {
        {0, 2, 8, 2, SpaceStop::None},      {0, 1, 4, 1, SpaceStop::None},
        {0, 3, 9, 0, SpaceStop::EndOfData}, {8, 2, 9, 0, SpaceStop::EndOfData},
        {9, -2, 6, 2, SpaceStop::None},     {6, -2, 0, 0, SpaceStop::BeginningOfPartition},
        {9, -1, 7, 1, SpaceStop::None},     {7, -1, 6, 1, SpaceStop::None},
    };
    for (const auto& k : cases) {
        SCOPED_TRACE(::testing::Message() << "start " << k.start << " count " << k.count);
        ASSERT_TRUE(c->locate(0, k.start).ok());
        auto r = c->space_sequential_filemarks(k.count);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(c->position().object, k.end);
        EXPECT_EQ(r->done, k.done);
        EXPECT_EQ(r->stop, k.stop);
    }
    ASSERT_TRUE(c->locate(0, 2).ok());
    ASSERT_TRUE(c->space_to_eod().ok());
    EXPECT_EQ(c->position().object, 9u);
    EXPECT_TRUE(c->at_eod());
}

TEST_F(StorageCartridge, LocateAndPositionRoundTrip) {
    auto c = open();
    const int n = 2000;
    for (int i = 0; i < n; ++i) {
        if (i % 100 == 99) {
            ASSERT_TRUE(c->write_filemarks(1, false).ok());
        } else {
            write(*c, i, 1 + i % 700);
        }
    }
    ASSERT_TRUE(c->sync().ok());
    std::mt19937 rng(3);
    for (int k = 0; k < 500; ++k) {
        const uint64_t object = rng() % n;
        auto r = c->locate(0, object);
        ASSERT_TRUE(r.ok());
        EXPECT_FALSE(r->end_of_data);
        EXPECT_EQ(c->position(), (Position{0, object}));
        EXPECT_EQ(c->file_number(), object / 100);
        if (object % 100 == 99) {
            EXPECT_EQ(next_kind(*c), ReadKind::Filemark);
        } else {
            expect_record(*c, object, 1 + object % 700);
        }
        EXPECT_EQ(c->position().object, object + 1);
    }
    auto beyond = c->locate(0, n + 5);  // LOCATE past EOD: positioned at EOD, reported
    ASSERT_TRUE(beyond.ok());
    EXPECT_TRUE(beyond->end_of_data);
    EXPECT_EQ(c->position(), (Position{0, uint64_t(n)}));
    auto bad = c->locate(1, 0);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
}

TEST_F(StorageCartridge, WritingBeforeEndOfDataDiscardsTheRest) {
    {
        auto c = open();
        for (int i = 0; i < 10; ++i) write(*c, i, 5000 + i);
        ASSERT_TRUE(c->write_filemarks(1).ok());  // synced
        for (int i = 11; i < 15; ++i) write(*c, i, 5000 + i);  // not synced
        // Into unsynced data first.
        ASSERT_TRUE(c->locate(0, 13).ok());
        write(*c, 113, 77);
        EXPECT_EQ(c->eod(), 14u);
        // Then into synced data: a new record at 4 ends the partition there.
        ASSERT_TRUE(c->locate(0, 4).ok());
        write(*c, 104, 123);
        EXPECT_EQ(c->eod(), 5u);
        EXPECT_EQ(c->file_number(), 0u);
        ASSERT_TRUE(c->locate(0, 2).ok());
        ASSERT_TRUE(c->write_filemarks(2).ok());  // filemarks cut too
        EXPECT_EQ(c->eod(), 4u);
        write(*c, 200, 999);
    }
    auto c = open();
    EXPECT_EQ(c->eod(), 5u);
    expect_record(*c, 0, 5000);
    expect_record(*c, 1, 5001);
    EXPECT_EQ(next_kind(*c), ReadKind::Filemark);
    EXPECT_EQ(next_kind(*c), ReadKind::Filemark);
    expect_record(*c, 200, 999);
    EXPECT_EQ(next_kind(*c), ReadKind::EndOfData);
    ASSERT_TRUE(c->space_filemarks(-1).ok());
    EXPECT_EQ(c->position().object, 3u);
    EXPECT_TRUE(c->verify().ok());
}

TEST_F(StorageCartridge, EraseEndsDataAtThePosition) {
    {
        auto c = open();
        for (int i = 0; i < 6; ++i) write(*c, i, 300);
        ASSERT_TRUE(c->locate(0, 2).ok());
        ASSERT_TRUE(c->erase().ok());
        EXPECT_EQ(c->eod(), 2u);
    }
    auto c = open();
    EXPECT_EQ(c->eod(), 2u);
    expect_record(*c, 0, 300);
    expect_record(*c, 1, 300);
    EXPECT_EQ(next_kind(*c), ReadKind::EndOfData);
}

TEST_F(StorageCartridge, PartitionsAreIndependentAndSurviveReopen) {
    {
        auto c = open("TST002L8", Layout{1 << 30, {}});
        write(*c, 0, 10);
        EXPECT_EQ(c->partition_count(), 1);
        // Repartition (FORMAT MEDIUM): everything is erased.
        ASSERT_TRUE(c->format(Layout{1 << 30, {1 << 20, 0, 2 << 20}}).ok());
        EXPECT_EQ(c->partition_count(), 3);
        EXPECT_EQ(c->layout().partitions, (std::vector<uint64_t>{1 << 20, (1 << 30) - (3 << 20), 2 << 20}));
        EXPECT_EQ(c->eod(0), 0u);
        for (uint8_t p = 0; p < 3; ++p) {
            ASSERT_TRUE(c->locate(p, 0).ok());
            for (int i = 0; i <= p; ++i) write(*c, 10 * p + i, 1000 + p);
            ASSERT_TRUE(c->write_filemarks(1).ok());
        }
        EXPECT_EQ(c->capacity(1).capacity, (1u << 30) - (3u << 20));
    }
    auto c = open("TST002L8");
    ASSERT_EQ(c->partition_count(), 3);
    for (uint8_t p = 0; p < 3; ++p) {
        EXPECT_EQ(c->eod(p), p + 2u);
        ASSERT_TRUE(c->locate(p, 0).ok());
        EXPECT_EQ(c->position().partition, p);
        for (int i = 0; i <= p; ++i) expect_record(*c, 10 * p + i, 1000 + p);
        EXPECT_EQ(next_kind(*c), ReadKind::Filemark);
        EXPECT_EQ(next_kind(*c), ReadKind::EndOfData);
    }
    // Writing in partition 1 does not touch partition 2.
    ASSERT_TRUE(c->locate(1, 0).ok());
    write(*c, 99, 5);
    EXPECT_EQ(c->eod(1), 1u);
    EXPECT_EQ(c->eod(2), 4u);
    // Back to one partition, and invalid layouts.
    EXPECT_EQ(c->format(Layout{100, {50, 60}}).error().code, Errc::InvalidArgument);
    EXPECT_EQ(c->format(Layout{100, {0, 0}}).error().code, Errc::InvalidArgument);
    EXPECT_EQ(c->format(Layout{100, {1, 1, 1, 1, 1}}).error().code, Errc::InvalidArgument);
    EXPECT_EQ(c->format(Layout{100, {100, 0}}).error().code, Errc::InvalidArgument);
    ASSERT_TRUE(c->format(Layout{1 << 20, {}}).ok());
    EXPECT_EQ(c->partition_count(), 1);
    EXPECT_EQ(c->eod(), 0u);
    EXPECT_EQ(c->locate(1, 0).error().code, Errc::InvalidArgument);
}

TEST_F(StorageCartridge, CompressionIsUsedOnlyWhenSmallerAndCountersAreHonest) {
    auto c = open();
    const auto text = text_data(1, 100000);
    const auto noise = record_data(kSeed, 2, 100000);
    auto a = c->write_record(text, true);
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(a->compressed);
    EXPECT_LT(a->stored, 10000u);
    auto b = c->write_record(noise, true);  // incompressible: stored as is
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(b->compressed);
    EXPECT_EQ(b->stored, 100000u);
    auto d = c->write_record(text, false);  // compression off
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d->compressed);
    const Counters& w = c->counters();
    EXPECT_EQ(w.bytes_from_host, 300000u);
    EXPECT_EQ(w.bytes_to_medium, a->stored + 200000u);
    EXPECT_EQ(w.records_written, 3u);
    EXPECT_EQ(c->capacity().used, a->stored + 200000u);

    c->reset_counters();
    ASSERT_TRUE(c->locate(0, 0).ok());
    std::vector<uint8_t> buffer(100000);
    auto r = c->read_next(buffer);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(buffer == text);
    std::vector<uint8_t> part(1000);
    r = c->read_next(part);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(std::equal(part.begin(), part.end(), noise.begin()));
    r = c->read_next(buffer);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(buffer == text);
    const Counters& rd = c->counters();
    EXPECT_EQ(rd.bytes_from_medium, a->stored + 200000u);  // whole records, even the short read
    EXPECT_EQ(rd.bytes_to_host, 201000u);
    EXPECT_EQ(rd.records_read, 3u);
    EXPECT_EQ(rd.bytes_from_host, 0u);
}

TEST_F(StorageCartridge, EarlyWarningThenEndOfMediumWithASmallCapacity) {
    auto c = open("TST003L8", Layout{64 * 1024, {}});
    c->set_early_warning_margin(20 * 1024);
    const auto info = c->capacity();
    EXPECT_EQ(info.capacity, 64u * 1024);
    EXPECT_EQ(info.early_warning_at, 44u * 1024);
    EXPECT_EQ(info.record_limit, 48u * 1024);  // the last kFilemarkReserve (16 KiB) kept for filemarks
    int written = 0;
    bool warned = false;
    for (;; ++written) {
        auto r = c->write_record(record_data(kSeed, written, 4096));
        if (!r.ok()) {
            EXPECT_EQ(r.error().code, Errc::EndOfMedium) << r.error().message;
            EXPECT_NE(r.error().message.find("the last 16384 kept for filemarks"), std::string::npos)
                << r.error().message;
            break;
        }
        EXPECT_EQ(r->early_warning, (written + 1) * 4096 >= 44 * 1024) << written;
        warned |= r->early_warning;
    }
    EXPECT_TRUE(warned);
    EXPECT_EQ(written, 12);
    EXPECT_EQ(c->eod(), 12u);  // the refused record left nothing behind
    EXPECT_FALSE(c->capacity().end_of_medium());
    EXPECT_EQ(c->capacity().remaining(), 16u * 1024);
    // Filemarks may use the reserve: five do not fit and none is written, four fill it.
    EXPECT_EQ(c->write_filemarks(5).error().code, Errc::EndOfMedium);
    EXPECT_EQ(c->eod(), 12u);
    ASSERT_TRUE(c->write_filemarks(4).ok());
    EXPECT_TRUE(c->capacity().end_of_medium());
    EXPECT_EQ(c->capacity().remaining(), 0u);
    EXPECT_EQ(c->write_filemarks(1).error().code, Errc::EndOfMedium);
    EXPECT_EQ(c->write_record(record_data(kSeed, 0, 1)).error().code, Errc::EndOfMedium);
    EXPECT_EQ(c->eod(), 16u);
    // Overwriting from the middle frees what follows.
    ASSERT_TRUE(c->locate(0, 8).ok());
    auto again = c->write_record(record_data(kSeed, 0, 4096));
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->early_warning);
    EXPECT_EQ(c->eod(), 9u);
    // The compressed size is what counts against capacity.
    ASSERT_TRUE(c->format(Layout{64 * 1024, {}}).ok());
    for (int i = 0; i < 40; ++i) ASSERT_TRUE(c->write_record(text_data(i, 4096), true).ok()) << i;
}

TEST_F(StorageCartridge, FilemarksUseCapacityUpToEarlyWarningAndTheEnd) {
    auto c = open("TST009L8", Layout{64 * 1024, {}});
    c->set_early_warning_margin(8 * 1024);
    // Each filemark uses kFilemarkCapacity (4 KiB): 14 reach early warning at 56 KiB.
    for (int i = 1; i <= 13; ++i) {
        auto fm = c->write_filemarks(1, false);
        ASSERT_TRUE(fm.ok()) << i;
        EXPECT_FALSE(fm->early_warning) << i;
        EXPECT_EQ(c->capacity().used, uint64_t(i) * kFilemarkCapacity);
    }
    auto fm = c->write_filemarks(1);
    ASSERT_TRUE(fm.ok());
    EXPECT_TRUE(fm->early_warning);
    // Two places left: three are refused whole, two fit exactly.
    EXPECT_EQ(c->write_filemarks(3).error().code, Errc::EndOfMedium);
    EXPECT_EQ(c->eod(), 14u);
    ASSERT_TRUE(c->write_filemarks(2).ok());
    EXPECT_TRUE(c->capacity().end_of_medium());
    EXPECT_EQ(c->write_filemarks(1).error().code, Errc::EndOfMedium);
    EXPECT_EQ(c->write_record(record_data(kSeed, 0, 1)).error().code, Errc::EndOfMedium);
    // Records and filemarks count together, and only what is before the position: a record
    // written after the third filemark leaves three filemarks' worth of space behind it.
    ASSERT_TRUE(c->locate(0, 3).ok());
    ASSERT_TRUE(c->write_record(record_data(kSeed, 1, 1000)).ok());
    EXPECT_EQ(c->capacity().used, 3 * kFilemarkCapacity + 1000);
    // The same after reopening (the filemark list is read back at open).
    ASSERT_TRUE(c->sync().ok());
    c.reset();
    c = open("TST009L8");
    EXPECT_EQ(c->capacity().used, 3 * kFilemarkCapacity + 1000);
}

TEST_F(StorageCartridge, InvalidRecordsAreRefused) {
    auto c = open();
    EXPECT_EQ(c->write_record({}).error().code, Errc::InvalidArgument);
    std::vector<uint8_t> huge(kMaxRecordLength + 1);
    EXPECT_EQ(c->write_record(huge).error().code, Errc::InvalidArgument);
    EXPECT_EQ(c->eod(), 0u);
    auto fm = c->write_filemarks(0);  // a sync point only
    ASSERT_TRUE(fm.ok());
    EXPECT_EQ(c->eod(), 0u);
}

TEST_F(StorageCartridge, ManyFilemarksInOneCall) {
    auto c = open();
    ASSERT_TRUE(c->write_filemarks(5000).ok());
    write(*c, 1, 10);
    EXPECT_EQ(c->eod(), 5001u);
    ASSERT_TRUE(c->locate(0, 0).ok());
    auto r = c->space_filemarks(4999);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(c->position().object, 4999u);
    EXPECT_EQ(next_kind(*c), ReadKind::Filemark);
    expect_record(*c, 1, 10);
    EXPECT_TRUE(c->verify().ok());
}

TEST_F(StorageCartridge, MamAttributesPersistAndDeviceCountersUpdate) {
    {
        auto c = open();
        auto mam = c->mam();
        ASSERT_TRUE(mam.ok());
        ASSERT_TRUE((*mam)->set(Attribute{0x0800, mam_format::kAscii, false, {'V', 'E', 'N', 'D'}}).ok());
        ASSERT_TRUE((*mam)->set(Attribute{0x0806, mam_format::kAscii, false, std::vector<uint8_t>(32, 'X')}).ok());
        (*mam)->add_number(mam_id::kLoadCount, 1);
        (*mam)->add_number(mam_id::kLoadCount, 1);
        ASSERT_TRUE((*mam)->commit().ok());
        EXPECT_TRUE((*mam)->erase(0x0806));
        (*mam)->set_number(mam_id::kTotalMbWritten, 12345);
        // Not committed explicitly: closing the cartridge commits.
    }
    auto c = open();
    auto mam = c->mam();
    ASSERT_TRUE(mam.ok());
    EXPECT_EQ((*mam)->number(mam_id::kLoadCount), 2u);
    EXPECT_EQ((*mam)->number(mam_id::kTotalMbWritten), 12345u);
    const Attribute* vendor = (*mam)->find(0x0800);
    ASSERT_NE(vendor, nullptr);
    EXPECT_EQ(vendor->format, mam_format::kAscii);
    EXPECT_EQ(vendor->value, (std::vector<uint8_t>{'V', 'E', 'N', 'D'}));
    EXPECT_EQ((*mam)->find(0x0806), nullptr);
    const Attribute* load = (*mam)->find(mam_id::kLoadCount);
    ASSERT_NE(load, nullptr);
    EXPECT_EQ(load->value, (std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0, 2}));  // big-endian, as SPC reports it
    EXPECT_EQ((*mam)->set(Attribute{1, 0, false, std::vector<uint8_t>(70000)}).error().code, Errc::InvalidArgument);
}
