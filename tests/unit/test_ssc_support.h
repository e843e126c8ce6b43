// What the SSC tests share: CDB builders laid out from the SSC-4 (and SPC-4) CDB tables, and a
// rig: a one-drive library on a VirtualClock, in memory (its cartridge store in a private
// temporary directory), with zero motion times, so every command completes on one turn of the
// clock and the drive's I/O runs inline.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cdb.h"
#include "scsi/bytes.h"
#include "config/config.h"
#include "core/virtual_clock.h"
#include "device/tape_drive.h"
#include "initiator.h"
#include "library/library.h"
#include "library_fixture.h"
#include "log_view.h"
#include "mode_view.h"
#include "read_position_view.h"
#include "sense_view.h"
#include "support.h"

namespace vtl::ssctest {

using Bytes = std::vector<uint8_t>;
using fixtures::Response;
using testsupport::ExpectedSense;
using testsupport::invalid_cdb;
using testsupport::invalid_param;
using testsupport::IsCheck;
using testsupport::sense;

namespace cdb {
inline void be16(Bytes& c, size_t at, uint64_t v) { c[at] = uint8_t(v >> 8); c[at + 1] = uint8_t(v); }
inline void be24(Bytes& c, size_t at, uint64_t v) { c[at] = uint8_t(v >> 16); be16(c, at + 1, v); }
inline void be32(Bytes& c, size_t at, uint64_t v) { be16(c, at, v >> 16); be16(c, at + 2, v); }
inline void be64(Bytes& c, size_t at, uint64_t v) { be32(c, at, v >> 32); be32(c, at + 4, v); }
}  // namespace cdb

// SSC-4 READ(6): SILI byte 1 b1, FIXED b0, TRANSFER LENGTH bytes 2-4.
inline Bytes read6(uint32_t length, bool fixed = false, bool sili = false) {
    Bytes c{0x08, uint8_t((sili ? 2 : 0) | (fixed ? 1 : 0)), 0, 0, 0, 0};
    cdb::be24(c, 2, length);
    return c;
}
// SSC-4 WRITE(6): FIXED byte 1 b0, TRANSFER LENGTH bytes 2-4.
inline Bytes write6(uint32_t length, bool fixed = false) {
    Bytes c{0x0A, uint8_t(fixed ? 1 : 0), 0, 0, 0, 0};
    cdb::be24(c, 2, length);
    return c;
}
// SSC-4 WRITE FILEMARKS(6): WSMK byte 1 b1, IMMED b0, COUNT bytes 2-4.
inline Bytes write_filemarks(uint32_t count, bool immed = false) {
    Bytes c{0x10, uint8_t(immed ? 1 : 0), 0, 0, 0, 0};
    cdb::be24(c, 2, count);
    return c;
}
// SSC-4 SPACE(6): CODE byte 1 b3-0, COUNT bytes 2-4 (24-bit two's complement).
inline Bytes space6(int32_t count, uint8_t code) {
    Bytes c{0x11, code, 0, 0, 0, 0};
    cdb::be24(c, 2, uint32_t(count) & 0xFFFFFF);
    return c;
}
// SSC-4 SPACE(16): CODE byte 1 b3-0, COUNT bytes 4-11, PARAMETER LENGTH 12-13.
inline Bytes space16(int64_t count, uint8_t code) {
    Bytes c(16, 0);
    c[0] = 0x91;
    c[1] = code;
    cdb::be64(c, 4, uint64_t(count));
    return c;
}
inline constexpr uint8_t kBlocks = 0, kFilemarks = 1, kSequentialFilemarks = 2, kEndOfData = 3;
// SSC-4 LOCATE(10): BT byte 1 b2, CP b1, IMMED b0, LOGICAL OBJECT IDENTIFIER 3-6, PARTITION 8.
inline Bytes locate10(uint32_t object, bool cp = false, uint8_t partition = 0, bool immed = false) {
    Bytes c{0x2B, uint8_t((cp ? 2 : 0) | (immed ? 1 : 0)), 0, 0, 0, 0, 0, 0, partition, 0};
    cdb::be32(c, 3, object);
    return c;
}
// SSC-4 LOCATE(16): DEST_TYPE byte 1 b5-3, CP b1, IMMED b0, PARTITION 3, LOGICAL IDENTIFIER 4-11.
inline Bytes locate16(uint64_t id, bool cp = false, uint8_t partition = 0, uint8_t dest_type = 0, bool immed = false) {
    Bytes c(16, 0);
    c[0] = 0x92;
    c[1] = uint8_t(dest_type << 3 | (cp ? 2 : 0) | (immed ? 1 : 0));
    c[3] = partition;
    cdb::be64(c, 4, id);
    return c;
}
inline Bytes rewind(bool immed = false) { return {0x01, uint8_t(immed ? 1 : 0), 0, 0, 0, 0}; }
// SSC-4 LOAD UNLOAD: IMMED byte 1 b0; byte 4 HOLD b3, EOT b2, RETEN b1, LOAD b0.
inline Bytes load_unload(bool load, bool immed = false, bool eot = false, bool reten = false, bool hold = false) {
    return {0x1B, uint8_t(immed ? 1 : 0), 0, 0,
            uint8_t((hold ? 8 : 0) | (eot ? 4 : 0) | (reten ? 2 : 0) | (load ? 1 : 0)), 0};
}
// SSC-4 ERASE(6): IMMED byte 1 b1, LONG b0.
inline Bytes erase6(bool long_erase = false, bool immed = false) {
    return {0x19, uint8_t((immed ? 2 : 0) | (long_erase ? 1 : 0)), 0, 0, 0, 0};
}
// SSC-4 FORMAT MEDIUM: VERIFY byte 1 b5, IMMED b1, FORMAT byte 2 b3-0.
inline Bytes format_medium(uint8_t format, bool immed = false) {
    return {0x04, uint8_t(immed ? 2 : 0), format, 0, 0, 0};
}
// SSC-4 SET CAPACITY: IMMED byte 1 b0, CAPACITY PROPORTION VALUE bytes 3-4.
inline Bytes set_capacity(uint16_t proportion, bool immed = false) {
    Bytes c{0x0B, uint8_t(immed ? 1 : 0), 0, 0, 0, 0};
    cdb::be16(c, 3, proportion);
    return c;
}
inline Bytes read_block_limits(bool mloi = false) { return {0x05, uint8_t(mloi ? 1 : 0), 0, 0, 0, 0}; }
// SSC-4 REPORT DENSITY SUPPORT: MEDIUM TYPE byte 1 b1, MEDIA b0, ALLOCATION LENGTH 7-8.
inline Bytes report_density_support(bool media, bool medium_type, uint16_t alloc) {
    Bytes c{0x44, uint8_t((medium_type ? 2 : 0) | (media ? 1 : 0)), 0, 0, 0, 0, 0, 0, 0, 0};
    cdb::be16(c, 7, alloc);
    return c;
}
// SSC-4 VERIFY(6): VTE byte 1 b5, VLBPM b4, VBF b3, IMMED b2, BYTCMP b1, FIXED b0, LENGTH 2-4.
inline Bytes verify6(uint32_t length, bool fixed = false, bool vbf = false, bool vte = false, bool bytcmp = false,
                     bool immed = false) {
    Bytes c{0x13, uint8_t((vte ? 0x20 : 0) | (vbf ? 0x08 : 0) | (immed ? 0x04 : 0) | (bytcmp ? 0x02 : 0) | (fixed ? 1 : 0)),
            0, 0, 0, 0};
    cdb::be24(c, 2, length);
    return c;
}
// SPC-4 SERVICE ACTION IN(12) ABh / READ MEDIA SERIAL NUMBER 01h, ALLOCATION LENGTH 6-9.
inline Bytes read_media_serial_number(uint32_t alloc) {
    Bytes c(12, 0);
    c[0] = 0xAB;
    c[1] = 0x01;
    cdb::be32(c, 6, alloc);
    return c;
}
// SPC-4 READ ATTRIBUTE: SERVICE ACTION byte 1 b4-0, PARTITION 7, FIRST ATTRIBUTE 8-9, ALLOCATION 10-13.
inline Bytes read_attribute(uint8_t sa, uint8_t partition, uint16_t first, uint32_t alloc) {
    Bytes c(16, 0);
    c[0] = 0x8C;
    c[1] = sa;
    c[7] = partition;
    cdb::be16(c, 8, first);
    cdb::be32(c, 10, alloc);
    return c;
}
// SPC-4 WRITE ATTRIBUTE: WTC byte 1 b0, PARTITION 7, PARAMETER LIST LENGTH 10-13.
inline Bytes write_attribute(uint8_t partition, uint32_t length) {
    Bytes c(16, 0);
    c[0] = 0x8D;
    c[7] = partition;
    cdb::be32(c, 10, length);
    return c;
}
// SSC-4 ALLOW OVERWRITE: ALLOW OVERWRITE byte 2 b3-0, PARTITION 3, LOGICAL OBJECT IDENTIFIER 4-11.
inline Bytes allow_overwrite(uint8_t allow, uint8_t partition, uint64_t object) {
    Bytes c(16, 0);
    c[0] = 0x82;
    c[2] = allow;
    c[3] = partition;
    cdb::be64(c, 4, object);
    return c;
}

// A WRITE ATTRIBUTE parameter list: PARAMETER DATA LENGTH, then id, format, length, value each.
struct AttributeValue {
    uint16_t id;
    uint8_t format;
    Bytes value;
};
inline Bytes attribute_list(std::initializer_list<AttributeValue> attributes) {
    Bytes out(4, 0);
    for (const auto& a : attributes) {
        out.push_back(uint8_t(a.id >> 8));
        out.push_back(uint8_t(a.id));
        out.push_back(a.format);
        out.push_back(uint8_t(a.value.size() >> 8));
        out.push_back(uint8_t(a.value.size()));
        out.insert(out.end(), a.value.begin(), a.value.end());
    }
    cdb::be32(out, 0, out.size() - 4);
    return out;
}
inline Bytes ascii(std::string_view s, size_t width) {
    Bytes b(width, ' ');
    std::copy_n(s.begin(), std::min(s.size(), width), b.begin());
    return b;
}

// Deterministic, incompressible-looking record contents (a counter hashed per byte).
inline Bytes pattern(size_t size, uint32_t seed) {
    Bytes b(size);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& v : b) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v = uint8_t(x);
    }
    return b;
}

// INFORMATION for a negative residual: 32-bit two's complement, as fixed-format sense holds it.
inline uint64_t signed_residual(int64_t r) { return uint32_t(int32_t(r)); }

// CHECK CONDITION with this sense key and code, these stream bits and this INFORMATION (VALID).
inline ::testing::AssertionResult IsStreamCheck(const Response& r, uint8_t key, uint8_t asc, uint8_t ascq,
                                                std::optional<uint64_t> information, bool filemark = false,
                                                bool eom = false, bool ili = false) {
    if (!r.done) return ::testing::AssertionFailure() << "not done";
    if (r.status != scsi::Status::CheckCondition) {
        return ::testing::AssertionFailure() << fmt::format("status {:02X}h, not CHECK CONDITION", int(r.status));
    }
    auto v = fixtures::decode_sense(r.sense);
    if (!v) return ::testing::AssertionFailure() << "sense does not decode";
    if (v->key != key || v->asc != asc || v->ascq != ascq) {
        return ::testing::AssertionFailure()
               << fmt::format("sense {:X}/{:02X}/{:02X}, expected {:X}/{:02X}/{:02X}", v->key, v->asc, v->ascq, key, asc, ascq);
    }
    if (v->information != information) {
        return ::testing::AssertionFailure() << fmt::format("INFORMATION {}, expected {}",
                                                            v->information ? std::to_string(*v->information) : "not valid",
                                                            information ? std::to_string(*information) : "not valid");
    }
    if (v->filemark != filemark || v->eom != eom || v->ili != ili) {
        return ::testing::AssertionFailure() << fmt::format("FILEMARK/EOM/ILI {}/{}/{}, expected {}/{}/{}", v->filemark,
                                                            v->eom, v->ili, filemark, eom, ili);
    }
    return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult IsGood(const Response& r) {
    if (!r.done) return ::testing::AssertionFailure() << "not done";
    if (r.status != scsi::Status::Good) {
        auto v = fixtures::decode_sense(r.sense);
        return ::testing::AssertionFailure()
               << fmt::format("status {:02X}h sense {:X}/{:02X}/{:02X}", int(r.status), v ? v->key : 0, v ? v->asc : 0,
                              v ? v->ascq : 0);
    }
    return ::testing::AssertionSuccess();
}

struct CartridgeSpec {
    std::string barcode;
    std::optional<uint64_t> capacity;
    bool write_protected = false;
};

// A library with one drive of `model` and `cartridges` in slots 1.., on a VirtualClock.
class DriveRig {
public:
    explicit DriveRig(std::vector<CartridgeSpec> cartridges = {{"VTL001L8", 64u << 20}},
                      std::string model = "ULT3580-TD8", config::Timings timings = zero_timings(),
                      std::function<void(config::LibraryConfig&)> adjust = {})
        : cfg_(make_config(std::move(cartridges), std::move(model), timings)) {
        if (adjust) adjust(cfg_);
        lib_ = std::make_unique<library::Library>(cfg_, clock_);
        host_ = std::make_unique<fixtures::Initiator>(*lib_->find("drive0"), clock_);
        host_->clear_power_on_attention();
    }

    static config::Timings zero_timings() {
        using namespace std::chrono_literals;
        return config::Timings{.pick = 0ms, .place = 0ms, .load = 0ms, .unload = 0ms, .slot_to_slot = 0ms, .ie_to_slot = 0ms};
    }

    VirtualClock& clock() { return clock_; }
    library::Library& library() { return *lib_; }
    const config::LibraryConfig& config() const { return cfg_; }
    fixtures::Initiator& host() { return *host_; }
    LogicalUnit& lu() { return host_->lu(); }
    TapeDrive& drive() { return static_cast<TapeDrive&>(lu().device()); }
    uint16_t slot(uint32_t n) const { return static_cast<uint16_t>(cfg_.addresses.slot + n - 1); }
    uint16_t drive_address() const { return cfg_.addresses.drive; }

    // Moves the cartridge in `slot` into the drive and waits until it is loaded; the host
    // then consumes the 28/00 unit attention.
    void load(uint32_t n = 1) {
        move(slot(n), drive_address());
        for (int i = 0; i < 1000 && drive().state() != DriveMechanism::State::Loaded; ++i) {
            clock_.advance(std::chrono::milliseconds(100));
        }
        ASSERT_EQ(drive().state(), DriveMechanism::State::Loaded);
        const auto ua = send(fixtures::test_unit_ready());
        ASSERT_TRUE(IsCheck(ua, sense(0x6, 0x28, 0x00)));
        ASSERT_TRUE(IsGood(send(fixtures::test_unit_ready())));
    }
    // A move with the library's robot, run to its end.
    std::optional<scsi::Sense> move(uint16_t from, uint16_t to) {
        std::optional<scsi::Sense> result;
        bool done = false;
        lib_->start_move(library::MoveRequest{.source = from, .destination = to}, [&](std::optional<scsi::Sense> s) {
            result = s;
            done = true;
        });
        for (int i = 0; i < 1000 && !done; ++i) clock_.advance(std::chrono::milliseconds(100));
        EXPECT_TRUE(done);
        return result;
    }

    Response send(Bytes cdb, uint32_t in = 0, Bytes out = {}) { return host_->send(std::move(cdb), in, std::move(out)); }
    Response write(const Bytes& data) { return send(write6(uint32_t(data.size())), 0, data); }
    Response write_fixed(const Bytes& data, uint32_t block) {
        return send(write6(uint32_t(data.size() / block), true), 0, data);
    }
    Response read(uint32_t length, bool sili = false) { return send(read6(length, false, sili), length); }
    Response filemarks(uint32_t n) { return send(write_filemarks(n)); }

    // READ POSITION, long form.
    fixtures::LongPositionView position() {
        const auto r = send(fixtures::read_position(0x06), 32);
        EXPECT_TRUE(IsGood(r));
        auto v = fixtures::decode_read_position_long(r.data);
        EXPECT_TRUE(v.has_value());
        return v.value_or(fixtures::LongPositionView{});
    }
    uint64_t object() { return position().logical_object; }

    // MODE SELECT(6) of a block descriptor with `block_length` (0: variable).
    Response set_block_length(uint32_t block_length) {
        Bytes list{0x00, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0};
        cdb::be24(list, 9, block_length);
        return send(fixtures::mode_select6(true, false, uint8_t(list.size())), 0, list);
    }
    std::optional<fixtures::LogView> log_page(uint8_t page) {
        const auto r = send(fixtures::log_sense(false, false, 1, page, 0, 0, 0xFFFF), 0xFFFF);
        EXPECT_TRUE(IsGood(r));
        return fixtures::decode_log_page(r.data);
    }
    std::optional<fixtures::ModeView> mode_sense(uint8_t page, uint8_t subpage = 0) {
        const auto r = send(fixtures::mode_sense10(false, 0, page, subpage, 0x1000), 0x1000);
        EXPECT_TRUE(IsGood(r));
        return fixtures::decode_mode_sense10(r.data);
    }

private:
    static config::LibraryConfig make_config(std::vector<CartridgeSpec> cartridges, std::string model,
                                             config::Timings timings) {
        auto lib = config::library_defaults("t0");
        lib.slots = 10;
        lib.ie_slots = 1;
        lib.timings = timings;
        config::DriveConfig d;
        d.name = "drive0";
        d.model = std::move(model);
        d.serial = "1013000042";
        lib.drives.push_back(d);
        uint32_t slot = 1;
        for (auto& c : cartridges) {
            const auto info = config::parse_barcode(c.barcode).value_or(config::BarcodeInfo{});
            lib.cartridges.push_back(config::CartridgeConfig{.barcode = c.barcode,
                                                             .slot = slot++,
                                                             .type = info.type.value_or(config::MediaType::Data),
                                                             .generation = info.generation,
                                                             .capacity = c.capacity,
                                                             .write_protected = c.write_protected});
        }
        return lib;
    }

    config::LibraryConfig cfg_;
    VirtualClock clock_;
    std::unique_ptr<library::Library> lib_;
    std::unique_ptr<fixtures::Initiator> host_;
};

// A rig with a cartridge already loaded.
class LoadedDrive : public DriveRig {
public:
    explicit LoadedDrive(std::vector<CartridgeSpec> cartridges = {{"VTL001L8", 64u << 20}},
                         std::string model = "ULT3580-TD8", config::Timings timings = zero_timings())
        : DriveRig(std::move(cartridges), std::move(model), timings) {
        load(1);
    }
};

}  // namespace vtl::ssctest
