// The host-side decoders in fixtures/, checked against byte vectors written by hand from the
// SPC-4, SMC-3 and SSC-4 tables (never from the emulator's output), and against every cut of
// those vectors: a decoder reports truncation and never reads past the data (ASan watches).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <string_view>

#include "cdb.h"
#include "element_status_view.h"
#include "inquiry_view.h"
#include "log_view.h"
#include "mode_view.h"
#include "read_position_view.h"

using namespace vtl::fixtures;
using Bytes = std::vector<uint8_t>;

namespace {

// Appends `s` space padded (or cut) to `width` bytes.
void ascii(Bytes& b, std::string_view s, size_t width, char pad = ' ') {
    for (size_t i = 0; i < width; ++i) b.push_back(i < s.size() ? uint8_t(s[i]) : uint8_t(pad));
}
void zeros(Bytes& b, size_t n) { b.insert(b.end(), n, 0); }
void cat(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
// An exactly sized heap copy of the first n bytes, so ASan flags any read past it.
Bytes cut(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + n); }

// Standard INQUIRY data of a tape drive, 96 bytes: SPC-4, HISUP, RDF 2, CMDQUE, removable.
Bytes standard_inquiry() {
    Bytes b = {0x01, 0x80, 0x06, 0x12, 91, 0x00, 0x00, 0x02};
    ascii(b, "VTL", 8);
    ascii(b, "VIRTUAL-LTO5", 16);
    ascii(b, "0107", 4);
    zeros(b, 20);          // 36-55 vendor specific
    cat(b, {0x00, 0x00});  // 56 clocking/QAS/IUS, 57 reserved
    cat(b, {0x00, 0xA0, 0x04, 0x60, 0x05, 0x20});  // SAM-5, SPC-4, SSC-4
    zeros(b, 10);          // unused version descriptor slots
    zeros(b, 22);          // 74-95
    return b;
}

// VPD 83h: T10 vendor id, NAA IEEE Registered, relative target port (SAS), SCSI name (iSCSI).
Bytes device_identification() {
    Bytes b = {0x01, 0x83, 0x00, 64};
    cat(b, {0x02, 0x01, 0x00, 16});
    ascii(b, "VTL", 8);
    ascii(b, "XYZ12345", 8);
    cat(b, {0x01, 0x03, 0x00, 8, 0x50, 0x01, 0x40, 0x50, 0x12, 0x34, 0x56, 0x78});
    cat(b, {0x61, 0x94, 0x00, 4, 0x00, 0x00, 0x00, 0x01});
    cat(b, {0x53, 0xA8, 0x00, 20});
    ascii(b, "iqn.2026-01.test:t0", 20, '\0');
    return b;
}

// MODE SENSE(6) from a tape drive: block descriptor (density 58h, variable), control mode page
// 0Ah (page_0) and control extension 0Ah/01h (sub_page).
Bytes tape_mode_sense6() {
    Bytes b = {55, 0x00, 0x10, 8};
    cat(b, {0x58, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
    cat(b, {0x8A, 0x0A, 0x04, 0x10, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00});
    cat(b, {0xCA, 0x01, 0x00, 0x1C});
    zeros(b, 28);
    return b;
}

// MODE SENSE(10) from a changer, no block descriptors: element address assignment page 1Dh.
Bytes changer_mode_sense10() {
    return {0x00, 26,   0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
            0x9D, 0x12, 0x00, 0x00, 0x00, 0x01,              // MTE 0, one
            0x10, 0x00, 0x00, 0x14,                          // storage 1000h, 20
            0x00, 0x10, 0x00, 0x04,                          // import/export 10h, 4
            0x01, 0x00, 0x00, 0x04,                          // DTE 100h, 4
            0x00, 0x00};
}

// LOG SENSE temperature page 0Dh: temperature 35 C, reference temperature 65 C.
Bytes temperature_log() {
    return {0x0D, 0x00, 0x00, 12, 0x00, 0x00, 0x03, 2, 0x00, 35, 0x00, 0x01, 0x03, 2, 0x00, 65};
}

// READ ELEMENT STATUS, storage elements 1000h-1001h with PVOLTAG, 52-byte descriptors.
Bytes storage_report() {
    Bytes b = {0x10, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 112};
    cat(b, {0x02, 0x80, 0x00, 52, 0x00, 0x00, 0x00, 104});
    cat(b, {0x10, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00});  // FULL, ACCESS, data
    ascii(b, "A00001L5", 32);
    cat(b, {0x00, 0x00, 0x00, 0x00});
    zeros(b, 4);
    cat(b, {0x10, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});  // empty, ACCESS
    ascii(b, "", 32);
    cat(b, {0x00, 0x00, 0x00, 0x00});
    zeros(b, 4);
    return b;
}

// READ ELEMENT STATUS, one data transfer element with both tags and a DVCID identifier.
Bytes drive_report() {
    Bytes b = {0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 106};
    cat(b, {0x04, 0xC0, 0x00, 98, 0x00, 0x00, 0x00, 98});
    // FULL, ACCESS; ID VALID, LU VALID, LUN 0; bus address 2; SVALID, INVERT, data; from 1005h.
    cat(b, {0x01, 0x00, 0x09, 0x00, 0x00, 0x00, 0x30, 0x02, 0x00, 0xC1, 0x10, 0x05});
    ascii(b, "A00002L5", 32);
    cat(b, {0x00, 0x00, 0x00, 0x01});
    ascii(b, "ALT00002", 32);
    cat(b, {0x00, 0x00, 0x00, 0x00});
    cat(b, {0x02, 0x01, 0x00, 10});
    ascii(b, "VTL     S1", 10);
    return b;
}

// Storage page then an import/export page without tags whose element reports an exception.
Bytes two_page_report() {
    Bytes b = storage_report();
    b[3] = 3;                  // three elements
    b[7] = 112 + 8 + 12;       // plus the second page
    cat(b, {0x03, 0x00, 0x00, 12, 0x00, 0x00, 0x00, 12});
    cat(b, {0x00, 0x10, 0x3E, 0x00, 0x3B, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
    return b;
}

Bytes short_position() {
    return {0xA5, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x11,
            0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x0C, 0x00};
}
Bytes long_position() {
    Bytes b = {0x4D, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02};
    cat(b, {0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01});
    cat(b, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07});
    zeros(b, 8);
    return b;
}
Bytes extended_position() {
    Bytes b = {0x52, 0x03, 0x00, 0x1C, 0x00, 0x00, 0x01, 0x02};
    cat(b, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00});
    cat(b, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01});
    cat(b, {0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00});
    return b;
}

}  // namespace

// ---- INQUIRY ----

TEST(ViewInquiry, StandardData) {
    auto v = decode_inquiry(standard_inquiry());
    ASSERT_TRUE(v);
    EXPECT_EQ(v->peripheral_qualifier, 0);
    EXPECT_EQ(v->device_type, 0x01);
    EXPECT_TRUE(v->rmb);
    EXPECT_EQ(v->version, 0x06);
    EXPECT_TRUE(v->hisup);
    EXPECT_FALSE(v->normaca);
    EXPECT_EQ(v->response_data_format, 2);
    EXPECT_EQ(v->additional_length, 91);
    EXPECT_TRUE(v->cmdque);
    EXPECT_FALSE(v->mchngr);
    EXPECT_EQ(v->vendor, "VTL");
    EXPECT_EQ(v->product, "VIRTUAL-LTO5");
    EXPECT_EQ(v->revision, "0107");
    EXPECT_EQ(v->version_descriptors, (std::vector<uint16_t>{0x00A0, 0x0460, 0x0520}));
    EXPECT_FALSE(v->truncated);
}

TEST(ViewInquiry, QualifierAndByteSixBits) {
    Bytes b = standard_inquiry();
    b[0] = 0x7F;  // qualifier 011b, type 1Fh: no logical unit here
    b[6] = 0x58;  // ENCSERV, MULTIP, MCHNGR
    auto v = decode_inquiry(b);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->peripheral_qualifier, 3);
    EXPECT_EQ(v->device_type, 0x1F);
    EXPECT_TRUE(v->mchngr);
    EXPECT_TRUE(v->multip);
    EXPECT_TRUE(v->encserv);
}

TEST(ViewInquiry, ThirtySixByteAllocationIsTruncated) {
    auto v = decode_inquiry(cut(standard_inquiry(), 36));  // what CTA's rmcd asks for
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    EXPECT_EQ(v->product, "VIRTUAL-LTO5");
    EXPECT_EQ(v->revision, "0107");
    EXPECT_TRUE(v->version_descriptors.empty());
}

TEST(ViewInquiry, CutInsideProductLeavesItEmpty) {
    auto v = decode_inquiry(cut(standard_inquiry(), 20));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    EXPECT_EQ(v->vendor, "VTL");
    EXPECT_EQ(v->product, "");
    EXPECT_FALSE(decode_inquiry(cut(standard_inquiry(), 4)));
}

TEST(ViewInquiry, BytesBeyondAdditionalLengthAreIgnored) {
    Bytes b = standard_inquiry();
    b[4] = 31;  // the device claims 36 bytes but sent 96
    auto v = decode_inquiry(b);
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->truncated);
    EXPECT_TRUE(v->version_descriptors.empty());
}

TEST(ViewVpd, SupportedPages) {
    auto v = decode_supported_vpd_pages(Bytes{0x08, 0x00, 0x00, 0x04, 0x00, 0x80, 0x83, 0x86});
    ASSERT_TRUE(v);
    EXPECT_EQ(v->page.device_type, 0x08);
    EXPECT_EQ(v->codes, (Bytes{0x00, 0x80, 0x83, 0x86}));
    EXPECT_FALSE(v->page.truncated);
    EXPECT_FALSE(decode_supported_vpd_pages(Bytes{0x08, 0x80, 0x00, 0x00}));  // wrong page
    auto cut_list = decode_supported_vpd_pages(Bytes{0x08, 0x00, 0x00, 0x04, 0x00, 0x80});
    ASSERT_TRUE(cut_list);
    EXPECT_TRUE(cut_list->page.truncated);
    EXPECT_EQ(cut_list->codes, (Bytes{0x00, 0x80}));
}

TEST(ViewVpd, UnitSerialNumber) {
    Bytes b = {0x01, 0x80, 0x00, 10};
    ascii(b, "  XYZ12345", 10);
    auto v = decode_unit_serial(b);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->serial, "  XYZ12345");
    EXPECT_EQ(v->serial_trimmed, "XYZ12345");
    auto c = decode_unit_serial(cut(b, 8));
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->page.truncated);
    EXPECT_EQ(c->serial_trimmed, "XY");
}

TEST(ViewVpd, DeviceIdentificationDesignators) {
    auto v = decode_device_identification(device_identification());
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->truncated);
    ASSERT_EQ(v->designators.size(), 4u);

    const auto& t10 = v->designators[0];
    EXPECT_EQ(t10.code_set, 2);
    EXPECT_EQ(t10.association, 0);
    EXPECT_EQ(t10.type, 1);
    EXPECT_FALSE(t10.piv);
    EXPECT_EQ(t10.as_string(), "VTL     XYZ12345");

    const auto& naa = v->designators[1];
    EXPECT_EQ(naa.code_set, 1);
    EXPECT_EQ(naa.type, 3);
    EXPECT_EQ(naa.value.size(), 8u);
    EXPECT_EQ(naa.as_string(), "5001405012345678");

    const auto& port = v->designators[2];
    EXPECT_TRUE(port.piv);
    EXPECT_EQ(port.protocol_id, 0x6);
    EXPECT_EQ(port.association, 1);
    EXPECT_EQ(port.type, 4);
    EXPECT_EQ(port.value, (Bytes{0, 0, 0, 1}));

    const auto& name = v->designators[3];
    EXPECT_EQ(name.protocol_id, 0x5);
    EXPECT_EQ(name.code_set, 3);
    EXPECT_EQ(name.association, 2);
    EXPECT_EQ(name.type, 8);
    EXPECT_EQ(name.value.size(), 20u);
    EXPECT_EQ(name.as_string(), "iqn.2026-01.test:t0");

    EXPECT_EQ(v->find(0, 3).size(), 1u);
    EXPECT_EQ(v->find(1, 4).front(), &port);
    EXPECT_TRUE(v->find(1, 3).empty());
}

TEST(ViewVpd, DeviceIdentificationCutInsideADescriptor) {
    auto v = decode_device_identification(cut(device_identification(), 4 + 20 + 6));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    ASSERT_EQ(v->designators.size(), 1u);
    EXPECT_EQ(v->designators[0].type, 1);
}

TEST(ViewVpd, DeviceIdentificationLengthOverrunsPage) {
    Bytes b = {0x01, 0x83, 0x00, 8, 0x01, 0x03, 0x00, 8, 0x50, 0x01, 0x40, 0x50};  // says 8, has 4
    auto v = decode_device_identification(b);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    EXPECT_TRUE(v->designators.empty());
}

TEST(ViewVpd, ExtendedInquiry) {
    Bytes b = {0x01, 0x86, 0x00, 0x3C, 0x00, 0x07, 0x01, 0x01, 0x00, 0x00, 0x00, 0x2D, 0x00, 0xFC};
    zeros(b, 64 - b.size());
    auto v = decode_extended_inquiry(b);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->bytes.size(), 64u);
    EXPECT_TRUE(v->headsup());
    EXPECT_TRUE(v->ordsup());
    EXPECT_TRUE(v->simpsup());
    EXPECT_TRUE(v->v_sup());
    EXPECT_FALSE(v->nv_sup());
    EXPECT_TRUE(v->luiclr());
    EXPECT_EQ(v->extended_self_test_minutes(), 45);
    EXPECT_EQ(v->max_sense_length(), 252);
    auto c = decode_extended_inquiry(cut(b, 10));
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->page.truncated);
    EXPECT_EQ(c->byte(13), 0);  // not transferred
}

// ---- MODE SENSE ----

TEST(ViewMode, Sense6TapeWithBlockDescriptorAndSubpage) {
    auto v = decode_mode_sense6(tape_mode_sense6());
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->ten);
    EXPECT_EQ(v->mode_data_length, 55);
    EXPECT_EQ(v->device_specific, 0x10);
    EXPECT_EQ(v->buffered_mode(), 1);
    EXPECT_FALSE(v->write_protected());
    EXPECT_EQ(v->block_descriptor_length, 8);
    ASSERT_EQ(v->block_descriptors.size(), 1u);
    EXPECT_EQ(v->block_descriptors[0].density_code, 0x58);
    EXPECT_EQ(v->block_descriptors[0].blocks, 0u);
    EXPECT_EQ(v->block_descriptors[0].block_length, 0u);
    ASSERT_EQ(v->pages.size(), 2u);
    EXPECT_FALSE(v->truncated);

    const auto* control = v->find(0x0A);
    ASSERT_TRUE(control);
    EXPECT_TRUE(control->ps);
    EXPECT_FALSE(control->spf);
    EXPECT_EQ(control->bytes.size(), 12u);
    EXPECT_EQ(control->body().size(), 10u);
    EXPECT_EQ(control->body()[0], 0x04);  // D_SENSE

    const auto* ext = v->find(0x0A, 0x01);
    ASSERT_TRUE(ext);
    EXPECT_TRUE(ext->spf);
    EXPECT_EQ(ext->subpage, 0x01);
    EXPECT_EQ(ext->bytes.size(), 32u);
    EXPECT_EQ(ext->body().size(), 28u);
    EXPECT_FALSE(v->find(0x1D));
}

TEST(ViewMode, Sense6CutInsideTheSubpage) {
    auto v = decode_mode_sense6(cut(tape_mode_sense6(), 30));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    EXPECT_EQ(v->mode_data_length, 55);  // the device's full length, as SPC requires
    ASSERT_EQ(v->pages.size(), 1u);
    EXPECT_EQ(v->pages[0].code, 0x0A);
    EXPECT_FALSE(decode_mode_sense6(cut(tape_mode_sense6(), 3)));
}

TEST(ViewMode, Sense6CutInsideTheBlockDescriptor) {
    auto v = decode_mode_sense6(cut(tape_mode_sense6(), 10));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    EXPECT_TRUE(v->block_descriptors.empty());
    EXPECT_TRUE(v->pages.empty());
}

TEST(ViewMode, Sense10ChangerElementAddressAssignment) {
    auto v = decode_mode_sense10(changer_mode_sense10());
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ten);
    EXPECT_EQ(v->mode_data_length, 26);
    EXPECT_EQ(v->block_descriptor_length, 0);
    EXPECT_TRUE(v->block_descriptors.empty());
    const auto* p = v->find(0x1D);
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->ps);
    ASSERT_EQ(p->body().size(), 18u);
    EXPECT_EQ(p->body()[4] << 8 | p->body()[5], 0x1000);  // first storage element
    EXPECT_FALSE(v->truncated);
    EXPECT_FALSE(decode_mode_sense10(cut(changer_mode_sense10(), 7)));
}

TEST(ViewMode, Sense10LongLbaDescriptor) {
    Bytes b = {0x00, 22, 0x00, 0x00, 0x01, 0x00, 0x00, 16,
               0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,   // 2^32 blocks
               0x5A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00};  // density 5Ah, 512 bytes
    auto v = decode_mode_sense10(b);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->long_lba);
    ASSERT_EQ(v->block_descriptors.size(), 1u);
    EXPECT_EQ(v->block_descriptors[0].blocks, 0x100000000ull);
    EXPECT_EQ(v->block_descriptors[0].density_code, 0x5A);
    EXPECT_EQ(v->block_descriptors[0].block_length, 512u);
    EXPECT_TRUE(v->pages.empty());
}

TEST(ViewMode, PageLengthPastModeDataLength) {
    // Page 1Dh claims 18 bytes, MODE DATA LENGTH covers only 6 of them.
    Bytes b = changer_mode_sense10();
    b[1] = 6 + 8;
    auto v = decode_mode_sense10(b);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    EXPECT_TRUE(v->pages.empty());
}

// ---- LOG SENSE ----

TEST(ViewLog, TemperaturePage) {
    auto v = decode_log_page(temperature_log());
    ASSERT_TRUE(v);
    EXPECT_EQ(v->page, 0x0D);
    EXPECT_FALSE(v->spf);
    EXPECT_FALSE(v->ds);
    EXPECT_EQ(v->page_length, 12);
    ASSERT_EQ(v->parameters.size(), 2u);
    EXPECT_EQ(v->parameters[0].code, 0x0000);
    EXPECT_EQ(v->parameters[0].format_and_linking(), 3);
    EXPECT_EQ(v->uint_param(0x0000), 35u);
    EXPECT_EQ(v->uint_param(0x0001), 65u);
    EXPECT_FALSE(v->uint_param(0x0002));
    EXPECT_FALSE(v->truncated);
}

TEST(ViewLog, CountersControlBitsAndWideValues) {
    Bytes b = {0x82, 0x00, 0x00, 29,                          // DS, write error counters
               0x00, 0x03, 0x82, 4, 0x00, 0x00, 0x12, 0x34,   // DU, bounded counter
               0x00, 0x05, 0x32, 8, 0, 0, 0, 1, 0, 0, 0, 2,   // TSD, ETC, TMC 00b, 8 bytes
               0x80, 0x00, 0x03, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9};  // vendor, too wide for an integer
    b[3] = uint8_t(b.size() - 4);
    auto v = decode_log_page(b);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ds);
    EXPECT_EQ(v->page, 0x02);
    ASSERT_EQ(v->parameters.size(), 3u);
    EXPECT_TRUE(v->parameters[0].du());
    EXPECT_EQ(v->parameters[0].format_and_linking(), 2);
    EXPECT_EQ(v->uint_param(0x0003), 0x1234u);
    EXPECT_TRUE(v->parameters[1].tsd());
    EXPECT_TRUE(v->parameters[1].etc());
    EXPECT_EQ(v->parameters[1].tmc(), 0);
    EXPECT_EQ(v->uint_param(0x0005), 0x0000000100000002ull);
    ASSERT_TRUE(v->find(0x8000));
    EXPECT_EQ(v->find(0x8000)->value.size(), 9u);
    EXPECT_FALSE(v->uint_param(0x8000));
}

TEST(ViewLog, CutInsideTheSecondParameter) {
    auto v = decode_log_page(cut(temperature_log(), 13));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    ASSERT_EQ(v->parameters.size(), 1u);
    EXPECT_EQ(v->uint_param(0), 35u);
    EXPECT_FALSE(decode_log_page(cut(temperature_log(), 3)));
}

TEST(ViewLog, SupportedPagesAndSubpages) {
    auto pages = decode_log_page(Bytes{0x00, 0x00, 0x00, 0x03, 0x00, 0x0D, 0x2E});
    ASSERT_TRUE(pages);
    EXPECT_EQ(pages->supported_pages, (Bytes{0x00, 0x0D, 0x2E}));
    EXPECT_TRUE(pages->parameters.empty());

    auto subpages = decode_log_page(Bytes{0x40, 0xFF, 0x00, 0x06, 0x00, 0x00, 0x00, 0xFF, 0x0D, 0x00});
    ASSERT_TRUE(subpages);
    EXPECT_TRUE(subpages->spf);
    EXPECT_EQ(subpages->subpage, 0xFF);
    using P = std::pair<uint8_t, uint8_t>;
    EXPECT_EQ(subpages->supported_subpages, (std::vector<P>{{0x00, 0x00}, {0x00, 0xFF}, {0x0D, 0x00}}));

    auto odd = decode_log_page(Bytes{0x40, 0xFF, 0x00, 0x06, 0x00, 0x00, 0x00});
    ASSERT_TRUE(odd);
    EXPECT_TRUE(odd->truncated);
    EXPECT_EQ(odd->supported_subpages.size(), 1u);
}

// ---- READ ELEMENT STATUS ----

TEST(ViewElementStatus, StoragePageWithPrimaryTags) {
    auto v = decode_element_status(storage_report());
    ASSERT_TRUE(v);
    EXPECT_EQ(v->first_address, 0x1000);
    EXPECT_EQ(v->number_of_elements, 2);
    EXPECT_EQ(v->byte_count, 112u);
    EXPECT_FALSE(v->truncated);
    EXPECT_FALSE(v->malformed);
    ASSERT_EQ(v->pages.size(), 1u);
    const auto& p = v->pages[0];
    EXPECT_EQ(p.type, element_type::kStorage);
    EXPECT_TRUE(p.pvoltag);
    EXPECT_FALSE(p.avoltag);
    EXPECT_EQ(p.descriptor_length, 52);
    EXPECT_EQ(p.byte_count, 104u);
    ASSERT_EQ(p.descriptors.size(), 2u);

    const auto& full = p.descriptors[0];
    EXPECT_EQ(full.address, 0x1000);
    EXPECT_TRUE(full.full);
    EXPECT_TRUE(full.access);
    EXPECT_FALSE(full.except);
    EXPECT_FALSE(full.svalid);
    EXPECT_EQ(full.medium_type, 1);
    ASSERT_TRUE(full.primary_tag);
    EXPECT_EQ(full.primary_tag->identifier, "A00001L5");
    EXPECT_EQ(full.primary_tag->sequence, 0);
    EXPECT_FALSE(full.alternate_tag);
    EXPECT_EQ(full.rest.size(), 4u);
    EXPECT_EQ(full.raw.size(), 52u);

    const auto& empty = p.descriptors[1];
    EXPECT_EQ(empty.address, 0x1001);
    EXPECT_FALSE(empty.full);
    ASSERT_TRUE(empty.primary_tag);
    EXPECT_EQ(empty.primary_tag->identifier, "");
    EXPECT_EQ(v->find(0x1001), &empty);
}

TEST(ViewElementStatus, DriveWithBothTagsBusAddressAndIdentifier) {
    auto v = decode_element_status(drive_report());
    ASSERT_TRUE(v);
    ASSERT_EQ(v->descriptor_count(), 1u);
    const auto& p = v->pages[0];
    EXPECT_EQ(p.type, element_type::kDataTransfer);
    EXPECT_TRUE(p.pvoltag);
    EXPECT_TRUE(p.avoltag);
    const auto& d = p.descriptors[0];
    EXPECT_EQ(d.address, 0x0100);
    EXPECT_TRUE(d.full);
    EXPECT_TRUE(d.id_valid());
    EXPECT_TRUE(d.lu_valid());
    EXPECT_FALSE(d.not_bus());
    EXPECT_EQ(d.lun(), 0);
    EXPECT_EQ(d.bus_address(), 2);
    EXPECT_TRUE(d.svalid);
    EXPECT_TRUE(d.invert);
    EXPECT_EQ(d.medium_type, 1);
    EXPECT_EQ(d.source_address, 0x1005);
    ASSERT_TRUE(d.primary_tag);
    EXPECT_EQ(d.primary_tag->identifier, "A00002L5");
    EXPECT_EQ(d.primary_tag->sequence, 1);
    ASSERT_TRUE(d.alternate_tag);
    EXPECT_EQ(d.alternate_tag->identifier, "ALT00002");
    ASSERT_EQ(d.rest.size(), 14u);
    EXPECT_EQ(d.rest[3], 10);  // identifier length
    EXPECT_EQ(std::string(d.rest.begin() + 4, d.rest.end()), "VTL     S1");
}

TEST(ViewElementStatus, ImportExportFlagsAndException) {
    auto v = decode_element_status(two_page_report());
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->truncated);
    ASSERT_EQ(v->pages.size(), 2u);
    EXPECT_EQ(v->descriptor_count(), 3u);
    const auto& ie = v->pages[1];
    EXPECT_EQ(ie.type, element_type::kImportExport);
    EXPECT_FALSE(ie.pvoltag);
    ASSERT_EQ(ie.descriptors.size(), 1u);
    const auto& d = ie.descriptors[0];
    EXPECT_EQ(d.address, 0x0010);
    EXPECT_FALSE(d.full);
    EXPECT_TRUE(d.impexp);
    EXPECT_TRUE(d.except);
    EXPECT_TRUE(d.access);
    EXPECT_TRUE(d.exenab);
    EXPECT_TRUE(d.inenab);
    EXPECT_FALSE(d.cmc);
    EXPECT_FALSE(d.oir);
    EXPECT_EQ(d.asc, 0x3B);
    EXPECT_EQ(d.ascq, 0x12);
    EXPECT_FALSE(d.primary_tag);
    EXPECT_TRUE(d.rest.empty());
}

TEST(ViewElementStatus, CutAtAnOddAllocationLength) {
    // Header, page header, one descriptor and 13 bytes of the second.
    auto v = decode_element_status(cut(storage_report(), 8 + 8 + 52 + 13));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    EXPECT_FALSE(v->malformed);
    EXPECT_EQ(v->byte_count, 112u);
    ASSERT_EQ(v->pages.size(), 1u);
    ASSERT_EQ(v->pages[0].descriptors.size(), 1u);
    EXPECT_EQ(v->pages[0].descriptors[0].primary_tag->identifier, "A00001L5");
}

TEST(ViewElementStatus, HeaderOnlyAllocationAsMtxRetries) {
    // mtx asks for 8 bytes to learn the report length.
    auto v = decode_element_status(cut(storage_report(), 8));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->truncated);
    EXPECT_EQ(v->byte_count, 112u);
    EXPECT_TRUE(v->pages.empty());
    auto in_page_header = decode_element_status(cut(storage_report(), 13));
    ASSERT_TRUE(in_page_header);
    EXPECT_TRUE(in_page_header->truncated);
    EXPECT_TRUE(in_page_header->pages.empty());
    EXPECT_FALSE(decode_element_status(cut(storage_report(), 7)));
}

TEST(ViewElementStatus, DescriptorLengthTooShortForTheTag) {
    Bytes b = storage_report();
    b[11] = 0;  // descriptor length 0 would loop forever in a naive walk
    auto zero = decode_element_status(b);
    ASSERT_TRUE(zero);
    EXPECT_TRUE(zero->malformed);
    EXPECT_EQ(zero->descriptor_count(), 0u);
    b[11] = 40;  // PVOLTAG needs 48
    auto short_len = decode_element_status(b);
    ASSERT_TRUE(short_len);
    EXPECT_TRUE(short_len->malformed);
    EXPECT_EQ(short_len->descriptor_count(), 0u);
}

// ---- READ POSITION ----

TEST(ViewReadPosition, ShortForm) {
    auto v = decode_read_position_short(short_position());
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->bop);
    EXPECT_FALSE(v->eop);
    EXPECT_TRUE(v->locu);
    EXPECT_FALSE(v->bycu);
    EXPECT_TRUE(v->lolu);
    EXPECT_FALSE(v->perr);
    EXPECT_TRUE(v->bpew);
    EXPECT_EQ(v->partition, 1);
    EXPECT_EQ(v->first_block, 0x10u);
    EXPECT_EQ(v->last_block, 0x11u);
    EXPECT_EQ(v->blocks_in_buffer, 3u);
    EXPECT_EQ(v->bytes_in_buffer, 0xC00u);
    EXPECT_FALSE(decode_read_position_short(cut(short_position(), 19)));
}

TEST(ViewReadPosition, LongForm) {
    auto v = decode_read_position_long(long_position());
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->bop);
    EXPECT_TRUE(v->eop);
    EXPECT_TRUE(v->mpu);
    EXPECT_TRUE(v->lonu);
    EXPECT_TRUE(v->bpew);
    EXPECT_EQ(v->partition, 2u);
    EXPECT_EQ(v->logical_object, 0x0000000100000001ull);
    EXPECT_EQ(v->logical_file, 7u);
    EXPECT_FALSE(decode_read_position_long(cut(long_position(), 31)));
}

TEST(ViewReadPosition, ExtendedForm) {
    auto v = decode_read_position_extended(extended_position());
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->bop);
    EXPECT_TRUE(v->eop);
    EXPECT_FALSE(v->locu);
    EXPECT_TRUE(v->bycu);
    EXPECT_TRUE(v->perr);
    EXPECT_FALSE(v->bpew);
    EXPECT_EQ(v->partition, 3);
    EXPECT_EQ(v->additional_length, 0x1C);
    EXPECT_EQ(v->blocks_in_buffer, 0x102u);
    EXPECT_EQ(v->first_block, 0x1000u);
    EXPECT_EQ(v->last_block, 0x1001u);
    EXPECT_EQ(v->bytes_in_buffer, 0x20000u);
    EXPECT_FALSE(decode_read_position_extended(cut(extended_position(), 20)));
}

// ---- every cut of every vector ----

TEST(ViewTruncation, EveryPrefixIsSafeAndFlagged) {
    struct Case {
        const char* name;
        Bytes full;
        // Decodes a prefix: nullopt if rejected, else whether it says it is incomplete.
        std::function<std::optional<bool>(const Bytes&)> incomplete;
    };
    auto flag = [](auto v, auto get) -> std::optional<bool> {
        if (!v) return std::nullopt;
        return get(*v);
    };
    const std::vector<Case> cases = {
        {"inquiry", standard_inquiry(),
         [&](const Bytes& b) { return flag(decode_inquiry(b), [](auto& v) { return v.truncated; }); }},
        {"vpd83", device_identification(),
         [&](const Bytes& b) { return flag(decode_device_identification(b), [](auto& v) { return v.truncated; }); }},
        {"mode6", tape_mode_sense6(),
         [&](const Bytes& b) { return flag(decode_mode_sense6(b), [](auto& v) { return v.truncated; }); }},
        {"mode10", changer_mode_sense10(),
         [&](const Bytes& b) { return flag(decode_mode_sense10(b), [](auto& v) { return v.truncated; }); }},
        {"log", temperature_log(),
         [&](const Bytes& b) { return flag(decode_log_page(b), [](auto& v) { return v.truncated; }); }},
        {"res", two_page_report(),
         [&](const Bytes& b) { return flag(decode_element_status(b), [](auto& v) { return v.truncated; }); }},
        {"res-dte", drive_report(),
         [&](const Bytes& b) { return flag(decode_element_status(b), [](auto& v) { return v.truncated; }); }},
        {"rp-short", short_position(),
         [&](const Bytes& b) { return flag(decode_read_position_short(b), [](auto&) { return false; }); }},
        {"rp-long", long_position(),
         [&](const Bytes& b) { return flag(decode_read_position_long(b), [](auto&) { return false; }); }},
        {"rp-ext", extended_position(),
         [&](const Bytes& b) { return flag(decode_read_position_extended(b), [](auto&) { return false; }); }},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(c.incomplete(c.full), std::optional<bool>(false)) << c.name;
        for (size_t n = 0; n < c.full.size(); ++n) {
            const auto r = c.incomplete(cut(c.full, n));
            // A cut is either refused or reported, never silently accepted as whole.
            EXPECT_TRUE(!r || *r) << c.name << " cut at " << n;
        }
    }
}

// ---- CDB builders ----

TEST(ViewCdb, BuildersMatchTheStandardLayouts) {
    EXPECT_EQ(inquiry(true, 0x83, 0x0200), (Bytes{0x12, 0x01, 0x83, 0x02, 0x00, 0x00}));
    EXPECT_EQ(inquiry(), (Bytes{0x12, 0x00, 0x00, 0x00, 96, 0x00}));
    EXPECT_EQ(mode_sense6(true, 0, 0x1D, 0, 136), (Bytes{0x1A, 0x08, 0x1D, 0x00, 0x88, 0x00}));
    EXPECT_EQ(mode_sense6(false, 2, 0x3F, 0xFF, 255), (Bytes{0x1A, 0x00, 0xBF, 0xFF, 0xFF, 0x00}));
    EXPECT_EQ(mode_sense10(false, 3, 0x0A, 0x01, 0x1000, true),
              (Bytes{0x5A, 0x10, 0xCA, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00}));
    EXPECT_EQ(mode_select6(true, true, 0x1C), (Bytes{0x15, 0x11, 0x00, 0x00, 0x1C, 0x00}));
    EXPECT_EQ(mode_select10(true, false, 0x0120), (Bytes{0x55, 0x10, 0, 0, 0, 0, 0, 0x01, 0x20, 0x00}));
    EXPECT_EQ(log_sense(true, false, 1, 0x0D, 0x00, 0x0001, 0x00FC),
              (Bytes{0x4D, 0x02, 0x4D, 0x00, 0x00, 0x00, 0x01, 0x00, 0xFC, 0x00}));
    EXPECT_EQ(log_sense(false, true, 1, 0x00, 0xFF, 0, 0x4000),
              (Bytes{0x4D, 0x01, 0x40, 0xFF, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00}));
    EXPECT_EQ(log_select(true, false, 3, 0, 0, 0), (Bytes{0x4C, 0x02, 0xC0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(log_select(false, true, 1, 0x2E, 0x00, 0x10), (Bytes{0x4C, 0x01, 0x6E, 0, 0, 0, 0, 0x00, 0x10, 0}));
    EXPECT_EQ(request_sense(true, 252), (Bytes{0x03, 0x01, 0x00, 0x00, 0xFC, 0x00}));
    EXPECT_EQ(test_unit_ready(), (Bytes{0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(rsoc(true, 2, 0xA3, 0x0C, 0x1000),
              (Bytes{0xA3, 0x0C, 0x82, 0xA3, 0x00, 0x0C, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00}));
    EXPECT_EQ(rsoc(false, 0, 0, 0, 0x12345678),
              (Bytes{0xA3, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00}));
    EXPECT_EQ(reserve6(), (Bytes{0x16, 0, 0, 0, 0, 0}));
    EXPECT_EQ(release6(), (Bytes{0x17, 0, 0, 0, 0, 0}));
    EXPECT_EQ(reserve10(), (Bytes{0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(release10(), (Bytes{0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(prevent_allow(1), (Bytes{0x1E, 0, 0, 0, 0x01, 0}));
    EXPECT_EQ(prevent_allow(0), (Bytes{0x1E, 0, 0, 0, 0x00, 0}));
    EXPECT_EQ(read_position(0x08, 32), (Bytes{0x34, 0x08, 0, 0, 0, 0, 0, 0x00, 0x20, 0}));
    EXPECT_EQ(cdb::read_element_status(true, 2, 0x1000, 20, 0x010203, false, true),
              (Bytes{0xB8, 0x12, 0x10, 0x00, 0x00, 0x14, 0x01, 0x01, 0x02, 0x03, 0x00, 0x00}));
}
