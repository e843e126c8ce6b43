// Tape images: SIMH .tap and AWSTAPE .aws import and export. Golden bytes written from the
// formats' descriptions, round trips (import reads back byte-identical through the store API,
// exports re-import and re-export identically), and malformed images refused with the offset
// and what was expected, creating nothing.
#include <gtest/gtest.h>

#include <fstream>

#include "storage/store.h"
#include "storage_test_util.h"

using namespace vtl::storage;
using vtl::storage::testing::record_data;
using vtl::storage::testing::TempDir;

namespace {

using Bytes = std::vector<uint8_t>;

void le32(Bytes& b, uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void le16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v));
    b.push_back(static_cast<uint8_t>(v >> 8));
}
void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

Bytes simh_record(const Bytes& data, bool bad = false) {
    Bytes b;
    const uint32_t word = static_cast<uint32_t>(data.size()) | (bad ? 0x80000000u : 0);
    le32(b, word);
    append(b, data);
    if (data.size() & 1) b.push_back(0);
    le32(b, word);
    return b;
}

Bytes aws_block(uint16_t length, uint16_t previous, uint8_t flags, const Bytes& data = {}) {
    Bytes b;
    le16(b, length);
    le16(b, previous);
    b.push_back(flags);
    b.push_back(0);
    append(b, data);
    return b;
}

Bytes read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), {});
}

void write_file(const std::filesystem::path& p, const Bytes& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

struct Obj {
    bool filemark = false;
    Bytes data;
    bool bad = false;
};

class StorageImage : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = Store::open(dir_.path());
        ASSERT_TRUE(s.ok());
        store_ = std::move(*s);
    }

    std::vector<Obj> read_all(std::string_view barcode) {
        std::vector<Obj> out;
        OpenOptions no_create;
        no_create.create = false;
        auto c = store_->open_cartridge(barcode, no_create);
        EXPECT_TRUE(c.ok()) << c.error().message;
        if (!c.ok()) return out;
        Bytes buffer(kMaxRecordLength);
        while (true) {
            auto r = (*c)->read_next(buffer);
            EXPECT_TRUE(r.ok()) << r.error().message;
            if (!r.ok() || r->kind == ReadKind::EndOfData) break;
            out.push_back(r->kind == ReadKind::Filemark ? Obj{true, {}, false}
                                                         : Obj{false, Bytes(buffer.begin(), buffer.begin() + r->length), r->bad});
        }
        return out;
    }

    void write_cartridge(std::string_view barcode, const std::vector<Obj>& objects) {
        auto c = store_->open_cartridge(barcode, OpenOptions{true, Layout{1ull << 32, {}}});
        ASSERT_TRUE(c.ok());
        for (const auto& o : objects) {
            if (o.filemark) {
                ASSERT_TRUE((*c)->write_filemarks(1, false).ok());
            } else if (o.bad) {
                ASSERT_TRUE((*c)->write_bad_record(o.data).ok());
            } else {
                ASSERT_TRUE((*c)->write_record(o.data, o.data.size() % 2 == 0).ok());  // mixed compression
            }
        }
    }

    void expect_same(const std::vector<Obj>& a, const std::vector<Obj>& b) {
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
            EXPECT_EQ(a[i].filemark, b[i].filemark) << i;
            EXPECT_EQ(a[i].bad, b[i].bad) << i;
            EXPECT_TRUE(a[i].data == b[i].data) << "object " << i;
        }
    }

    // A malformed image: refused with BadImage naming `offset` and `what`, nothing created.
    void expect_refused(ImageFormat format, const Bytes& image, uint64_t offset, std::string_view what) {
        const auto path = dir_.path() / "bad.img";
        write_file(path, image);
        auto r = store_->import_image("IMP001L8", path, format);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, Errc::BadImage);
        EXPECT_NE(r.error().message.find(fmt::format("offset {}:", offset)), std::string::npos) << r.error().message;
        EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
        EXPECT_FALSE(store_->exists("IMP001L8"));
        EXPECT_TRUE(std::filesystem::is_empty(store_->directory())) << "left something behind";
    }

    std::vector<Obj> sample() {
        std::vector<Obj> objects;
        const size_t sizes[] = {1, 2, 3, 80, 511, 65535, 65536, 65537, 200001, 1 << 20};
        for (size_t i = 0; i < std::size(sizes); ++i) {
            objects.push_back(Obj{false, record_data(3, i, sizes[i]), false});
            if (i % 3 == 2) objects.push_back(Obj{true, {}, false});
        }
        objects.push_back(Obj{true, {}, false});
        objects.push_back(Obj{true, {}, false});
        return objects;
    }

    TempDir dir_;
    std::unique_ptr<Store> store_;
};

}  // namespace

TEST_F(StorageImage, FormatFromFileName) {
    EXPECT_EQ(image_format_from_path("a/b/dump.tap"), ImageFormat::Simh);
    EXPECT_EQ(image_format_from_path("DUMP.TAP"), ImageFormat::Simh);
    EXPECT_EQ(image_format_from_path("x.aws"), ImageFormat::Aws);
    EXPECT_EQ(image_format_from_path("x.img"), std::nullopt);
}

TEST_F(StorageImage, SimhExportIsTheDocumentedLayout) {
    write_cartridge("EXP001L8", {Obj{false, {'A', 'B', 'C'}, false}, Obj{true, {}, false},
                                 Obj{false, {'D', 'E'}, false}, Obj{false, {'Z'}, true}});
    const auto path = dir_.path() / "out.tap";
    ASSERT_TRUE(store_->export_image("EXP001L8", path, ImageFormat::Simh).ok());
    const Bytes expected = {3, 0, 0, 0, 'A', 'B', 'C', 0, 3, 0, 0, 0,  // odd length: one pad byte
                            0, 0, 0, 0,                                // tape mark
                            2, 0, 0, 0, 'D', 'E', 2, 0, 0, 0,
                            1, 0, 0, 0x80, 'Z', 0, 1, 0, 0, 0x80};     // error flag in bit 31
    EXPECT_EQ(read_file(path), expected);
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "out.tap.partial"));
}

TEST_F(StorageImage, SimhRoundTrips) {
    auto objects = sample();
    objects.insert(objects.begin() + 3, Obj{false, record_data(4, 0, 777), true});
    write_cartridge("SRC001L8", objects);
    const auto first = dir_.path() / "first.tap";
    ASSERT_TRUE(store_->export_image("SRC001L8", first, ImageFormat::Simh).ok());
    ASSERT_TRUE(store_->import_image("IMP001L8", first, ImageFormat::Simh).ok());
    expect_same(read_all("IMP001L8"), objects);
    const auto second = dir_.path() / "second.tap";
    ASSERT_TRUE(store_->export_image("IMP001L8", second, ImageFormat::Simh).ok());
    EXPECT_TRUE(read_file(first) == read_file(second));
    EXPECT_EQ(store_->import_image("IMP001L8", first, ImageFormat::Simh).error().code, Errc::AlreadyExists);
}

TEST_F(StorageImage, SimhGapsAndEndOfMediumAreHonoured) {
    Bytes image;
    le32(image, 0xFFFFFFFE);  // erase gap
    append(image, simh_record({1, 2, 3, 4}));
    // What remains of a gap that a record overwrote up to the middle of a gap word: the last
    // half of that word, then whole gap words. Read at the half, it is the half-gap marker.
    image.insert(image.end(), {0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF});
    append(image, simh_record({9}));
    le32(image, 0);
    le32(image, 0xFFFFFFFF);  // end of medium: what follows is not read
    image.insert(image.end(), {1, 2, 3});
    const auto path = dir_.path() / "gaps.tap";
    write_file(path, image);
    auto r = store_->import_image("GAP001L8", path, ImageFormat::Simh);
    ASSERT_TRUE(r.ok()) << r.error().message;
    expect_same(read_all("GAP001L8"), {Obj{false, {1, 2, 3, 4}, false}, Obj{false, {9}, false}, Obj{true, {}, false}});
}

TEST_F(StorageImage, MalformedSimhImagesAreRefusedPrecisely) {
    Bytes cut_word = simh_record({1, 2});
    cut_word.insert(cut_word.end(), {5, 0});
    expect_refused(ImageFormat::Simh, cut_word, 10, "file ends 2 bytes into a 4-byte record length");

    Bytes short_data;
    le32(short_data, 0);
    le32(short_data, 100);
    short_data.insert(short_data.end(), 40, 7);
    expect_refused(ImageFormat::Simh, short_data, 4, "record of 100 bytes (padded to 100) is cut short: the file ends after 40");

    Bytes mismatch;
    le32(mismatch, 4);
    mismatch.insert(mismatch.end(), {1, 2, 3, 4});
    le32(mismatch, 5);
    expect_refused(ImageFormat::Simh, mismatch, 8, "trailing length 0x00000005 differs from the leading 0x00000004");

    Bytes unpadded;  // odd record written without its pad byte
    le32(unpadded, 3);
    unpadded.insert(unpadded.end(), {1, 2, 3});
    le32(unpadded, 3);
    append(unpadded, simh_record({7, 7}));
    expect_refused(ImageFormat::Simh, unpadded, 8, "unpadded");

    Bytes reserved;
    le32(reserved, 0xFF000001);
    expect_refused(ImageFormat::Simh, reserved, 0, "reserved marker 0xFF000001");

    Bytes klass;
    append(klass, simh_record({1, 2}));
    le32(klass, 0x01000005);
    expect_refused(ImageFormat::Simh, klass, 10, "reserved class bits 0x01");

    Bytes empty_bad;
    le32(empty_bad, 0x80000000);
    expect_refused(ImageFormat::Simh, empty_bad, 0, "error flag and length 0");

    Bytes no_trailer = {2, 0, 0, 0, 'a', 'b', 2, 0};
    expect_refused(ImageFormat::Simh, no_trailer, 6, "file ends inside the trailing length of the record at 0");
}

TEST_F(StorageImage, AwsExportIsTheDocumentedLayout) {
    Bytes big(70000);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 13);
    write_cartridge("EXP002L8", {Obj{false, {'H', 'I'}, false}, Obj{true, {}, false}, Obj{false, big, false}});
    const auto path = dir_.path() / "out.aws";
    ASSERT_TRUE(store_->export_image("EXP002L8", path, ImageFormat::Aws).ok());
    Bytes expected = aws_block(2, 0, 0xA0, {'H', 'I'});          // start and end of record
    append(expected, aws_block(0, 2, 0x40));                     // tape mark
    append(expected, aws_block(65535, 0, 0x80, Bytes(big.begin(), big.begin() + 65535)));
    append(expected, aws_block(70000 - 65535, 65535, 0x20, Bytes(big.begin() + 65535, big.end())));
    EXPECT_TRUE(read_file(path) == expected);
}

TEST_F(StorageImage, AwsRoundTrips) {
    const auto objects = sample();
    write_cartridge("SRC002L8", objects);
    const auto first = dir_.path() / "first.aws";
    ASSERT_TRUE(store_->export_image("SRC002L8", first, ImageFormat::Aws).ok());
    ASSERT_TRUE(store_->import_image("IMP002L8", first, ImageFormat::Aws).ok());
    expect_same(read_all("IMP002L8"), objects);
    const auto second = dir_.path() / "second.aws";
    ASSERT_TRUE(store_->export_image("IMP002L8", second, ImageFormat::Aws).ok());
    EXPECT_TRUE(read_file(first) == read_file(second));
    // Cross-format: AWS in, SIMH out, SIMH in again.
    const auto tap = dir_.path() / "cross.tap";
    ASSERT_TRUE(store_->export_image("IMP002L8", tap, ImageFormat::Simh).ok());
    ASSERT_TRUE(store_->import_image("IMP003L8", tap, ImageFormat::Simh).ok());
    expect_same(read_all("IMP003L8"), objects);
}

TEST_F(StorageImage, AwsCannotHoldUnreadableRecords) {
    write_cartridge("BAD002L8", {Obj{false, {1}, true}});
    auto r = store_->export_image("BAD002L8", dir_.path() / "x.aws", ImageFormat::Aws);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::InvalidArgument);
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "x.aws"));
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "x.aws.partial"));
}

TEST_F(StorageImage, MalformedAwsImagesAreRefusedPrecisely) {
    Bytes prev = aws_block(2, 0, 0xA0, {1, 2});
    append(prev, aws_block(1, 3, 0xA0, {1}));
    expect_refused(ImageFormat::Aws, prev, 10, "previous-block length 3, expected 2");

    expect_refused(ImageFormat::Aws, aws_block(1, 0, 0xA1, {1}), 4, "flags 0xA100");
    expect_refused(ImageFormat::Aws, aws_block(4, 0, 0x40, {1, 2, 3, 4}), 0, "tape mark with length 4");
    expect_refused(ImageFormat::Aws, aws_block(1, 0, 0x20, {1}), 4, "without the start-of-record flag");

    Bytes nested = aws_block(1, 0, 0x80, {1});
    append(nested, aws_block(1, 1, 0x80, {2}));
    expect_refused(ImageFormat::Aws, nested, 11, "start of record inside the record that starts at 0");

    Bytes open_record = aws_block(1, 0, 0x80, {1});
    expect_refused(ImageFormat::Aws, open_record, 7, "file ends inside the record that starts at 0");

    Bytes mark_inside = aws_block(1, 0, 0x80, {1});
    append(mark_inside, aws_block(0, 1, 0x40));
    expect_refused(ImageFormat::Aws, mark_inside, 7, "tape mark inside the record");

    expect_refused(ImageFormat::Aws, Bytes{1, 0, 0}, 0, "file ends 3 bytes into a 6-byte block header");
    expect_refused(ImageFormat::Aws, aws_block(10, 0, 0xA0, {1, 2, 3}), 6, "block of 10 bytes is cut short");
    expect_refused(ImageFormat::Aws, aws_block(0, 0, 0xA0), 0, "data block of length 0");
}
