// READ ATTRIBUTE and WRITE ATTRIBUTE over the cartridge's MAM: host attributes round trip and
// survive an unload, device attributes are reported and refuse writes, the lists, and
// VOLUME COHERENCY INFORMATION kept per partition as LTFS uses it.
#include "test_ssc_support.h"

using namespace vtl;
using namespace vtl::ssctest;

namespace {

constexpr uint8_t kBinary = 0x00, kAscii = 0x01, kText = 0x02;

// The attributes of a READ ATTRIBUTE (ATTRIBUTE VALUES) answer, by identifier.
std::map<uint16_t, std::pair<uint8_t, Bytes>> decode_values(const Bytes& data) {
    std::map<uint16_t, std::pair<uint8_t, Bytes>> out;
    if (data.size() < 4) return out;
    const size_t end = std::min<size_t>(data.size(), 4 + scsi::get_be32(data.data()));
    for (size_t at = 4; at + 5 <= end;) {
        const uint16_t id = scsi::get_be16(&data[at]);
        const uint16_t length = scsi::get_be16(&data[at + 3]);
        out[id] = {data[at + 2], Bytes(data.begin() + at + 5, data.begin() + at + 5 + length)};
        at += 5 + length;
    }
    return out;
}

}  // namespace

TEST(SscAttributes, HostAttributesRoundTripAndSurviveAnUnload) {
    LoadedDrive t;
    const Bytes list = attribute_list({{0x0800, kAscii, ascii("VTLTEST", 8)},
                                       {0x0801, kAscii, ascii("unit tests", 32)},
                                       {0x0803, kText, Bytes(160, 'x')},
                                       {0x1400, kBinary, {1, 2, 3}}});
    ASSERT_TRUE(IsGood(t.send(write_attribute(0, uint32_t(list.size())), 0, list)));
    auto r = t.send(read_attribute(0x00, 0, 0x0800, 0x4000), 0x4000);
    ASSERT_TRUE(IsGood(r));
    auto values = decode_values(r.data);
    EXPECT_EQ(values[0x0800], std::make_pair(kAscii, ascii("VTLTEST", 8)));
    EXPECT_EQ(values[0x0801].second, ascii("unit tests", 32));
    EXPECT_EQ(values[0x0803].first, kText);
    EXPECT_EQ(values[0x1400].second, (Bytes{1, 2, 3}));
    // Exactly one attribute asked for with a small allocation: its golden bytes.
    r = t.send(read_attribute(0x00, 0, 0x0800, 4 + 5 + 8), 4 + 5 + 8);
    EXPECT_EQ(Bytes(r.data.begin() + 4, r.data.end()), testsupport::concat({{0x08, 0x00, 0x01, 0x00, 0x08}, ascii("VTLTEST", 8)}));

    // Unload, load again: still there, and the load count went up.
    ASSERT_TRUE(IsGood(t.send(load_unload(false))));
    ASSERT_FALSE(t.move(t.drive_address(), t.slot(1)));
    t.load(1);
    r = t.send(read_attribute(0x00, 0, 0x0000, 0x4000), 0x4000);
    values = decode_values(r.data);
    EXPECT_EQ(values[0x0800].second, ascii("VTLTEST", 8));
    EXPECT_EQ(values[0x0003], std::make_pair(uint8_t(0x80 | kBinary), Bytes{0, 0, 0, 0, 0, 0, 0, 2}));  // LOAD COUNT
    // Zero length deletes.
    const Bytes erase = attribute_list({{0x1400, kBinary, {}}});
    ASSERT_TRUE(IsGood(t.send(write_attribute(0, uint32_t(erase.size())), 0, erase)));
    EXPECT_TRUE(IsCheck(t.send(read_attribute(0x00, 0, 0x1400, 64), 64), invalid_cdb(8)));
}

TEST(SscAttributes, DeviceAndMediumAttributesAreReportedReadOnly) {
    LoadedDrive t;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(IsGood(t.write(pattern(1000, i))));
    const auto r = t.send(read_attribute(0x00, 0, 0x0000, 0x4000), 0x4000);
    ASSERT_TRUE(IsGood(r));
    auto v = decode_values(r.data);
    const uint8_t ro = 0x80;
    EXPECT_EQ(v[0x0001], std::make_pair(uint8_t(ro | kBinary), Bytes{0, 0, 0, 0, 0, 0, 0, 64}));  // MAXIMUM CAPACITY, MiB
    EXPECT_EQ(v[0x0000].second, (Bytes{0, 0, 0, 0, 0, 0, 0, 63}));                            // REMAINING
    EXPECT_EQ(v[0x0400], std::make_pair(uint8_t(ro | kAscii), ascii("VTL", 8)));              // MANUFACTURER
    EXPECT_EQ(v[0x0401].second, ascii("VTL001L8", 32));                                      // MEDIUM SERIAL NUMBER
    EXPECT_EQ(v[0x0402].second, (Bytes{0, 0, 0x03, 0xC0}));                                  // length: 960 m
    EXPECT_EQ(v[0x0403].second, (Bytes{0, 0, 0, 0x7F}));                                     // width: 12.7 mm
    EXPECT_EQ(v[0x0405].second, (Bytes{0x5E}));                                              // density
    EXPECT_EQ(v[0x0408].second, (Bytes{0x00}));                                              // data cartridge
    EXPECT_EQ(v[0x0003].second, (Bytes{0, 0, 0, 0, 0, 0, 0, 1}));                             // LOAD COUNT
    ASSERT_TRUE(v.contains(0x020A));  // the drive that loaded it: vendor and serial
    EXPECT_EQ(std::string(v[0x020A].second.begin(), v[0x020A].second.end()).substr(0, 18), "IBM     1013000042");

    // Writing any of them: 05/26/00 pointing at the attribute's identifier in the list.
    const Bytes list = attribute_list({{0x0800, kAscii, ascii("OK", 8)}, {0x0401, kAscii, ascii("X", 32)}});
    EXPECT_TRUE(IsCheck(t.send(write_attribute(0, uint32_t(list.size())), 0, list), invalid_param(4 + 13)));
    // All or nothing: the valid first attribute was not written either.
    EXPECT_TRUE(IsCheck(t.send(read_attribute(0x00, 0, 0x0800, 64), 64), invalid_cdb(8)));
    // Wrong length and wrong format of a host attribute.
    const Bytes long_vendor = attribute_list({{0x0800, kAscii, ascii("TOOLONGVENDOR", 13)}});
    EXPECT_TRUE(IsCheck(t.send(write_attribute(0, uint32_t(long_vendor.size())), 0, long_vendor), invalid_param(4 + 3)));
    const Bytes wrong_format = attribute_list({{0x0806, kBinary, Bytes(32, 0)}});
    EXPECT_TRUE(IsCheck(t.send(write_attribute(0, uint32_t(wrong_format.size())), 0, wrong_format), invalid_param(4 + 2)));
    // A list cut short.
    Bytes cut = attribute_list({{0x0800, kAscii, ascii("OK", 8)}});
    cut.resize(cut.size() - 2);
    EXPECT_TRUE(IsCheck(t.send(write_attribute(0, uint32_t(cut.size())), 0, cut), sense(0x5, 0x1A, 0x00)));
}

TEST(SscAttributes, ListsAndPartitions) {
    LoadedDrive t;
    auto r = t.send(read_attribute(0x02, 0, 0, 64), 64);
    EXPECT_EQ(r.data, (Bytes{0x00, 0x02, 0x00, 0x01}));  // one volume
    r = t.send(read_attribute(0x03, 0, 0, 64), 64);
    EXPECT_EQ(r.data, (Bytes{0x00, 0x02, 0x00, 0x01}));  // one partition
    r = t.send(read_attribute(0x01, 0, 0, 0x4000), 0x4000);
    ASSERT_TRUE(IsGood(r));
    EXPECT_EQ(scsi::get_be32(r.data.data()), r.data.size() - 4);
    EXPECT_EQ(Bytes(r.data.begin() + 4, r.data.begin() + 10), (Bytes{0x00, 0x00, 0x00, 0x01, 0x00, 0x02}));
    // Supported attributes need no cartridge.
    DriveRig empty;
    r = empty.send(read_attribute(0x05, 0, 0, 0x4000), 0x4000);
    ASSERT_TRUE(IsGood(r));
    EXPECT_GT(r.data.size(), 40u);
    EXPECT_TRUE(IsCheck(empty.send(read_attribute(0x00, 0, 0, 64), 64), sense(0x2, 0x3A, 0x00)));
    // Unknown service action, volume and partition numbers.
    EXPECT_TRUE(IsCheck(t.send(read_attribute(0x04, 0, 0, 64), 64), invalid_cdb(1, 4)));
    auto volume = read_attribute(0x00, 0, 0, 64);
    volume[5] = 1;
    EXPECT_TRUE(IsCheck(t.send(volume, 64), invalid_cdb(5)));
    EXPECT_TRUE(IsCheck(t.send(read_attribute(0x00, 1, 0, 64), 64), invalid_cdb(7)));
}

TEST(SscAttributes, VolumeCoherencyIsKeptPerPartition) {
    LoadedDrive t;
    // Two partitions with SDP, as in the positioning tests.
    auto m = t.mode_sense(0x11);
    Bytes p = m->find(0x11)->bytes;
    p[0] &= 0x3F;
    p[3] = 1;
    p[4] = 0x40 | (p[4] & 0x1F);
    Bytes list{0, 0, 0, 0, 0, 0, 0, 0};
    list.insert(list.end(), p.begin(), p.end());
    ASSERT_TRUE(IsGood(t.send(fixtures::mode_select10(true, false, uint16_t(list.size())), 0, list)));
    ASSERT_TRUE(IsGood(t.send(format_medium(1))));

    const Bytes vci0 = pattern(70, 100), vci1 = pattern(70, 101);
    const Bytes a0 = attribute_list({{0x080C, kBinary, vci0}}), a1 = attribute_list({{0x080C, kBinary, vci1}});
    ASSERT_TRUE(IsGood(t.send(write_attribute(0, uint32_t(a0.size())), 0, a0)));
    ASSERT_TRUE(IsGood(t.send(write_attribute(1, uint32_t(a1.size())), 0, a1)));
    EXPECT_EQ(decode_values(t.send(read_attribute(0, 0, 0x080C, 0x400), 0x400).data)[0x080C].second, vci0);
    EXPECT_EQ(decode_values(t.send(read_attribute(0, 1, 0x080C, 0x400), 0x400).data)[0x080C].second, vci1);
    EXPECT_EQ(t.send(read_attribute(0x03, 0, 0, 64), 64).data, (Bytes{0x00, 0x02, 0x00, 0x02}));
    // Each partition reports its own capacity.
    const auto v1 = decode_values(t.send(read_attribute(0, 1, 0x0001, 0x400), 0x400).data);
    EXPECT_EQ(v1.at(0x0001).second, (Bytes{0, 0, 0, 0, 0, 0, 0, 32}));
}
