// SEND VOLUME TAG (SMC-3) and REQUEST VOLUME ELEMENT ADDRESS: translate with '*' and
// '?' templates, the per-nexus results, alternate tags (assert, replace, undefine), and errors.
#include <gtest/gtest.h>

#include "smc_support.h"

using namespace vtl;
using namespace vtl::smctest;
using namespace vtl::testsupport;
using scsi::Status;

namespace {

constexpr uint8_t kTranslateAll = 0x0;
constexpr uint8_t kTranslatePrimary = 0x1;
constexpr uint8_t kTranslateAlternate = 0x2;
constexpr uint8_t kTranslateAllIgnoreSeq = 0x4;
constexpr uint8_t kTranslatePrimaryIgnoreSeq = 0x5;
constexpr uint8_t kTranslateAlternateIgnoreSeq = 0x6;
constexpr uint8_t kAssertPrimary = 0x8;
constexpr uint8_t kAssertAlternate = 0x9;
constexpr uint8_t kReplacePrimary = 0xA;
constexpr uint8_t kReplaceAlternate = 0xB;
constexpr uint8_t kUndefinePrimary = 0xC;
constexpr uint8_t kUndefineAlternate = 0xD;

class VolumeTag : public ChangerTest {
protected:
    Response translate(std::string_view templ, uint8_t action = kTranslatePrimaryIgnoreSeq, uint8_t type = 0,
                       uint16_t start = 0, uint16_t min_seq = 0, uint16_t max_seq = 0) {
        return host->send(send_volume_tag(type, start, action), 0, volume_tag_parameters(templ, min_seq, max_seq));
    }
    // The addresses REQUEST VOLUME ELEMENT ADDRESS reports (all types, from 0).
    std::vector<uint16_t> found(uint8_t type = 0, uint16_t start = 0, uint16_t count = 0xFFFF) {
        auto r = host->send(request_volume_element_address(true, type, start, count, 0xFFFF), 0xFFFF);
        EXPECT_EQ(r.status, Status::Good);
        std::vector<uint16_t> out;
        auto v = fixtures::decode_element_status(r.data);
        if (!v) return out;
        for (const auto& p : v->pages)
            for (const auto& d : p.descriptors) out.push_back(d.address);
        return out;
    }
};

TEST_F(VolumeTag, PrefixWildcardThenRequest) {
    ASSERT_EQ(translate("A0000*").status, Status::Good);
    auto r = host->send(request_volume_element_address(true, 0, 0, 0xFFFF, 4096), 4096);
    ASSERT_EQ(r.status, Status::Good);
    // Volume element address header: first address, count, SEND ACTION CODE, byte count.
    ASSERT_GE(r.data.size(), 8u);
    EXPECT_EQ(scsi::get_be16(&r.data[0]), slot(1));
    EXPECT_EQ(scsi::get_be16(&r.data[2]), 3);
    EXPECT_EQ(r.data[4], kTranslatePrimaryIgnoreSeq);
    EXPECT_EQ(scsi::get_be24(&r.data[5]), 8u + 3 * 52);
    auto v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    ASSERT_EQ(v->pages.size(), 1u);
    EXPECT_EQ(v->pages[0].type, 2);
    EXPECT_TRUE(v->pages[0].pvoltag);
    ASSERT_EQ(v->pages[0].descriptors.size(), 3u);
    EXPECT_EQ(v->pages[0].descriptors[0].primary_tag->identifier, "A00001L8");
    EXPECT_EQ(v->pages[0].descriptors[1].primary_tag->identifier, "A00002L8");
    EXPECT_EQ(v->pages[0].descriptors[2].primary_tag->identifier, "A00003L9");
    EXPECT_TRUE(v->pages[0].descriptors[2].full);
    // The same answer again: results stay until the next translate.
    EXPECT_EQ(found(), (std::vector<uint16_t>{slot(1), slot(2), slot(3)}));
}

TEST_F(VolumeTag, TemplatesMatchTheWholePaddedIdentifier) {
    ASSERT_EQ(translate("A0000?L8").status, Status::Good);
    EXPECT_EQ(found(), (std::vector<uint16_t>{slot(1), slot(2)}));
    ASSERT_EQ(translate("A0000?").status, Status::Good);  // the rest must be spaces
    EXPECT_TRUE(found().empty());
    ASSERT_EQ(translate("CLN001CU").status, Status::Good);
    EXPECT_EQ(found(), (std::vector<uint16_t>{slot(9)}));
    ASSERT_EQ(translate("*").status, Status::Good);
    EXPECT_EQ(found().size(), 5u);
    ASSERT_EQ(translate("?0000*").status, Status::Good);
    EXPECT_EQ(found(), (std::vector<uint16_t>{slot(1), slot(2), slot(3), slot(10)}));
    // A template ended by NULs (hosts clear the buffer) reads as space padded.
    auto r = host->send(send_volume_tag(0, 0, kTranslatePrimaryIgnoreSeq), 0,
                        volume_tag_parameters("A00002L8", 0, 0, '\0'));
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(found(), (std::vector<uint16_t>{slot(2)}));
}

TEST_F(VolumeTag, TypeStartAndCountNarrowTheSearchAndTheReport) {
    ASSERT_EQ(translate("*", kTranslatePrimaryIgnoreSeq, 2, slot(2)).status, Status::Good);
    EXPECT_EQ(found(), (std::vector<uint16_t>{slot(2), slot(3), slot(9), slot(10)}));
    EXPECT_EQ(found(2, slot(3), 2), (std::vector<uint16_t>{slot(3), slot(9)}));
    EXPECT_TRUE(found(4).empty());
    ASSERT_EQ(translate("*", kTranslatePrimaryIgnoreSeq, 4).status, Status::Good);
    EXPECT_TRUE(found().empty());

    // Follows the cartridge into a drive.
    ASSERT_EQ(run(move_medium(mte(), slot(1), dte(1))).status, Status::Good);
    ASSERT_EQ(translate("A00001L8").status, Status::Good);
    EXPECT_EQ(found(), (std::vector<uint16_t>{dte(1)}));
}

TEST_F(VolumeTag, NothingFoundReportsAnEmptyHeader) {
    ASSERT_EQ(translate("ZZZ*").status, Status::Good);
    auto r = host->send(request_volume_element_address(true, 0, 0, 100, 4096), 4096);
    ASSERT_EQ(r.status, Status::Good);
    EXPECT_EQ(r.data, (Bytes{0, 0, 0, 0, kTranslatePrimaryIgnoreSeq, 0, 0, 0}));
}

TEST_F(VolumeTag, RequestWithoutTranslateIsASequenceError) {
    EXPECT_TRUE(IsCheck(host->send(request_volume_element_address(true, 0, 0, 10, 4096), 4096),
                        sense(0x05, 0x2C, 0x00)));
    // Results belong to the nexus that asked for them.
    fixtures::Initiator other(lib->changer(), clock, "iqn.2026-01.test:host1");
    other.clear_power_on_attention();
    ASSERT_EQ(translate("A*").status, Status::Good);
    EXPECT_TRUE(IsCheck(other.send(request_volume_element_address(true, 0, 0, 10, 4096), 4096),
                        sense(0x05, 0x2C, 0x00)));
    // ... and go with it.
    host->nexus_loss();
    drain();
    EXPECT_TRUE(IsCheck(host->send(request_volume_element_address(true, 0, 0, 10, 4096), 4096),
                        sense(0x05, 0x2C, 0x00)));
}

TEST_F(VolumeTag, RequestAllocationAndVoltag) {
    ASSERT_EQ(translate("A*").status, Status::Good);
    auto r = host->send(request_volume_element_address(true, 0, 0, 100, 8), 4096);
    EXPECT_EQ(r.data, (Bytes{0x10, 0x00, 0x00, 0x03, kTranslatePrimaryIgnoreSeq, 0x00, 0x00, 8 + 3 * 52}));
    r = host->send(request_volume_element_address(false, 0, 0, 100, 4096), 4096);
    auto v = fixtures::decode_element_status(r.data);
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->pages[0].pvoltag);
    EXPECT_EQ(v->pages[0].descriptor_length, 16);
}

TEST_F(VolumeTag, RequestCdbErrors) {
    ASSERT_EQ(translate("A*").status, Status::Good);
    EXPECT_TRUE(IsCheck(host->send(request_volume_element_address(true, 6, 0, 10, 4096), 4096), invalid_cdb(1, 3)));
    auto cdb = request_volume_element_address(true, 0, 0, 10, 4096);
    cdb[10] = 0x80;
    EXPECT_TRUE(IsCheck(host->send(cdb, 4096), invalid_cdb(10, 7)));
    EXPECT_TRUE(IsCheck(host->send(request_volume_element_address(true, 0, 0x5555, 10, 4096), 4096),
                        sense(0x05, 0x21, 0x01)));
}

TEST_F(VolumeTag, SequenceNumbersAreZero) {
    // Without "ignore sequence numbers" the range must hold 0.
    ASSERT_EQ(translate("A*", kTranslatePrimary, 0, 0, 0, 5).status, Status::Good);
    EXPECT_EQ(found().size(), 3u);
    ASSERT_EQ(translate("A*", kTranslatePrimary, 0, 0, 1, 5).status, Status::Good);
    EXPECT_TRUE(found().empty());
    ASSERT_EQ(translate("A*", kTranslatePrimaryIgnoreSeq, 0, 0, 1, 5).status, Status::Good);
    EXPECT_EQ(found().size(), 3u);
}

TEST_F(VolumeTag, AlternateTagsAssertReplaceUndefine) {
    ASSERT_EQ(host->send(send_volume_tag(0, slot(2), kAssertAlternate), 0, volume_tag_parameters("POOL7")).status,
              Status::Good);
    auto d = element(slot(2));
    ASSERT_TRUE(d.alternate_tag);
    EXPECT_EQ(d.alternate_tag->identifier, "POOL7");
    EXPECT_EQ(d.primary_tag->identifier, "A00002L8");

    // Assert only defines: a defined tag stays.
    EXPECT_TRUE(IsCheck(host->send(send_volume_tag(0, slot(2), kAssertAlternate), 0, volume_tag_parameters("POOL8")),
                        invalid_param(0)));
    EXPECT_EQ(element(slot(2)).alternate_tag->identifier, "POOL7");

    // Translate on alternate tags, and on all tags.
    ASSERT_EQ(translate("POOL*", kTranslateAlternateIgnoreSeq).status, Status::Good);
    EXPECT_EQ(found(), (std::vector<uint16_t>{slot(2)}));
    ASSERT_EQ(translate("POOL*", kTranslatePrimaryIgnoreSeq).status, Status::Good);
    EXPECT_TRUE(found().empty());
    ASSERT_EQ(translate("*2*", kTranslateAllIgnoreSeq).status, Status::Good);  // '*' ends the template
    EXPECT_EQ(found().size(), 5u);
    ASSERT_EQ(translate("POOL7", kTranslateAll).status, Status::Good);
    EXPECT_EQ(found(), (std::vector<uint16_t>{slot(2)}));
    ASSERT_EQ(translate("POOL7", kTranslateAlternate).status, Status::Good);
    EXPECT_EQ(found(), (std::vector<uint16_t>{slot(2)}));

    ASSERT_EQ(host->send(send_volume_tag(0, slot(2), kReplaceAlternate), 0, volume_tag_parameters("POOL8")).status,
              Status::Good);
    EXPECT_EQ(element(slot(2)).alternate_tag->identifier, "POOL8");

    // The tag travels with its cartridge.
    ASSERT_EQ(run(move_medium(mte(), slot(2), slot(6))).status, Status::Good);
    EXPECT_EQ(element(slot(6)).alternate_tag->identifier, "POOL8");

    ASSERT_EQ(host->send(send_volume_tag(0, slot(6), kUndefineAlternate, 0)).status, Status::Good);
    EXPECT_FALSE(element(slot(6)).alternate_tag);  // no cartridge has one: AVOLTAG 0 again
}

TEST_F(VolumeTag, PrimaryTagsAreTheLabelsAndCannotChange) {
    for (uint8_t action : {kAssertPrimary, kReplacePrimary, kUndefinePrimary}) {
        EXPECT_TRUE(IsCheck(host->send(send_volume_tag(0, slot(1), action), 0, volume_tag_parameters("NEW")),
                            invalid_cdb(5, 4)))
            << int(action);
    }
    EXPECT_EQ(tag_at(slot(1)), "A00001L8");
}

TEST_F(VolumeTag, SendCdbAndParameterErrors) {
    for (uint8_t action : {0x3, 0x7, 0xE, 0x1B, 0x1C, 0x1F}) {
        EXPECT_TRUE(IsCheck(host->send(send_volume_tag(0, 0, action), 0, volume_tag_parameters("A*")),
                            invalid_cdb(5, 4)))
            << int(action);
    }
    EXPECT_TRUE(IsCheck(host->send(send_volume_tag(7, 0, kTranslatePrimaryIgnoreSeq), 0, volume_tag_parameters("A*")),
                        invalid_cdb(1, 3)));
    auto cdb = send_volume_tag(0, 0, kTranslatePrimaryIgnoreSeq);
    cdb[4] = 0x02;
    EXPECT_TRUE(IsCheck(host->send(cdb, 0, volume_tag_parameters("A*")), invalid_cdb(4, 1)));
    cdb = send_volume_tag(0, 0, kTranslatePrimaryIgnoreSeq);
    cdb[5] |= 0x20;
    EXPECT_TRUE(IsCheck(host->send(cdb, 0, volume_tag_parameters("A*")), invalid_cdb(5, 5)));

    // A list shorter than the parameters.
    auto shortlist = volume_tag_parameters("A*");
    shortlist.resize(20);
    EXPECT_TRUE(IsCheck(host->send(send_volume_tag(0, 0, kTranslatePrimaryIgnoreSeq, 20), 0, shortlist),
                        sense(0x05, 0x1A, 0x00)));
    // Reserved parameter bytes.
    auto params = volume_tag_parameters("A*");
    params[33] = 1;
    EXPECT_TRUE(IsCheck(host->send(send_volume_tag(0, 0, kTranslatePrimaryIgnoreSeq), 0, params), invalid_param(33)));
    // Wildcards cannot be a new tag.
    EXPECT_TRUE(IsCheck(host->send(send_volume_tag(0, slot(1), kAssertAlternate), 0, volume_tag_parameters("AB*")),
                        invalid_param(2)));
    EXPECT_TRUE(IsCheck(host->send(send_volume_tag(0, slot(1), kReplaceAlternate), 0, volume_tag_parameters("A?")),
                        invalid_param(1)));
    // Addresses.
    EXPECT_TRUE(IsCheck(host->send(send_volume_tag(0, 0x5555, kAssertAlternate), 0, volume_tag_parameters("X1")),
                        sense(0x05, 0x21, 0x01)));
    EXPECT_TRUE(IsCheck(host->send(send_volume_tag(0, slot(4), kAssertAlternate), 0, volume_tag_parameters("X1")),
                        sense(0x05, 0x3B, 0x0E)));
    EXPECT_TRUE(IsCheck(host->send(send_volume_tag(0, 0x5555, kTranslatePrimaryIgnoreSeq), 0,
                                   volume_tag_parameters("A*")),
                        sense(0x05, 0x21, 0x01)));
    // Nothing changed.
    EXPECT_FALSE(element(slot(1)).alternate_tag);
    // A zero-length list transfers nothing and is not an error.
    EXPECT_EQ(host->send(send_volume_tag(0, slot(1), kAssertAlternate, 0)).status, Status::Good);
    EXPECT_FALSE(element(slot(1)).alternate_tag);
}

}  // namespace
