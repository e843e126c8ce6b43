// Assertions the unit tests share: a response is CHECK CONDITION with this sense (and this field
// pointer, or none), decoded the way a host decodes it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "initiator.h"
#include "sense_view.h"

namespace vtl::testsupport {

using Bytes = std::vector<uint8_t>;

struct ExpectedSense {
    uint8_t key = 0;
    uint8_t asc = 0;
    uint8_t ascq = 0;
    std::optional<uint16_t> byte = std::nullopt;  // field pointer; nullopt: none may be present
    int bit = -1;
    bool in_cdb = true;
};

inline ExpectedSense sense(uint8_t key, uint8_t asc, uint8_t ascq) { return {key, asc, ascq}; }
inline ExpectedSense invalid_cdb(uint16_t byte, int bit = -1) { return {0x05, 0x24, 0x00, byte, bit, true}; }
inline ExpectedSense invalid_param(uint16_t byte, int bit = -1) { return {0x05, 0x26, 0x00, byte, bit, false}; }

// CHECK CONDITION with exactly the expected sense key, ASC/ASCQ and field pointer, and no data-in.
inline ::testing::AssertionResult IsCheck(const fixtures::Response& r, const ExpectedSense& e) {
    if (!r.done) return ::testing::AssertionFailure() << "not done";
    if (r.status != scsi::Status::CheckCondition) {
        return ::testing::AssertionFailure() << fmt::format("status {:02X}h, not CHECK CONDITION", int(r.status));
    }
    auto v = fixtures::decode_sense(r.sense);
    if (!v) return ::testing::AssertionFailure() << "sense data does not decode";
    if (v->key != e.key || v->asc != e.asc || v->ascq != e.ascq) {
        return ::testing::AssertionFailure() << fmt::format("sense {:X}/{:02X}/{:02X}, expected {:X}/{:02X}/{:02X}",
                                                            v->key, v->asc, v->ascq, e.key, e.asc, e.ascq);
    }
    auto fp = v->field_pointer();
    if (!e.byte) {
        if (fp && v->key == 0x05) return ::testing::AssertionFailure() << "unexpected field pointer at " << fp->byte;
    } else if (!fp) {
        return ::testing::AssertionFailure() << "no field pointer";
    } else if (fp->byte != *e.byte || fp->bit != e.bit || fp->in_cdb != e.in_cdb) {
        return ::testing::AssertionFailure() << fmt::format("field pointer byte {} bit {} ({}), expected byte {} bit {} ({})",
                                                            fp->byte, fp->bit, fp->in_cdb ? "CDB" : "parameter list",
                                                            *e.byte, e.bit, e.in_cdb ? "CDB" : "parameter list");
    }
    if (!r.data.empty()) return ::testing::AssertionFailure() << "data-in with CHECK CONDITION";
    return ::testing::AssertionSuccess();
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace vtl::testsupport
