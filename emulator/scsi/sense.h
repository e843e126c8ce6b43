// The one sense-data builder. Handlers describe an error; the logical unit encodes it in the
// format the initiator asked for (fixed, or descriptor when D_SENSE or DESC is set).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "scsi/status.h"

namespace vtl::scsi {

enum class SenseFormat { Fixed, Descriptor };

class Sense {
public:
    Sense(SenseKey key, Asc code) : key_(key), asc_(code) {}

    // The common cases, named as SPC names them.
    static Sense illegal_request(Asc code) { return Sense(SenseKey::IllegalRequest, code); }
    static Sense not_ready(Asc code) { return Sense(SenseKey::NotReady, code); }
    static Sense unit_attention(Asc code) { return Sense(SenseKey::UnitAttention, code); }
    static Sense aborted_command(Asc code) { return Sense(SenseKey::AbortedCommand, code); }
    static Sense no_sense(Asc code = asc::kNoAdditionalSense) { return Sense(SenseKey::NoSense, code); }
    // 05/24/00 pointing at a CDB byte (and bit, or -1 for the whole byte).
    static Sense invalid_cdb_field(uint16_t byte, int bit = -1) {
        return illegal_request(asc::kInvalidFieldInCdb).field_pointer(byte, bit, true);
    }
    // 05/26/00 pointing at a parameter-list byte.
    static Sense invalid_parameter_field(uint16_t byte, int bit = -1) {
        return illegal_request(asc::kInvalidFieldInParameterList).field_pointer(byte, bit, false);
    }

    Sense& information(uint64_t value) {
        information_ = value;
        information_signed_ = false;
        return *this;
    }
    // INFORMATION holding a signed quantity (SSC's negative residual of a record longer than
    // asked for): descriptor format sign-extends it to 64 bits, fixed format keeps the low 32
    // bits in two's complement (VALID=0 when it does not fit in 32 signed bits).
    Sense& information_signed(int64_t value) {
        information_ = static_cast<uint64_t>(value);
        information_signed_ = true;
        return *this;
    }
    Sense& command_specific(uint64_t value) { command_specific_ = value; return *this; }
    Sense& filemark(bool on = true) { filemark_ = on; return *this; }
    Sense& eom(bool on = true) { eom_ = on; return *this; }
    Sense& ili(bool on = true) { ili_ = on; return *this; }
    Sense& deferred(bool on = true) { deferred_ = on; return *this; }
    // Sense-key-specific: field pointer (ILLEGAL REQUEST). in_cdb selects C/D.
    Sense& field_pointer(uint16_t byte, int bit = -1, bool in_cdb = true);
    // Sense-key-specific: progress indication, 0..FFFFh of 65536 (NOT READY, NO SENSE).
    Sense& progress(uint16_t fraction);

    SenseKey key() const { return key_; }
    Asc code() const { return asc_; }
    // As the descriptor format carries it (a signed value sign-extended).
    std::optional<uint64_t> information() const { return information_; }
    bool has_filemark() const { return filemark_; }
    bool has_eom() const { return eom_; }
    bool has_ili() const { return ili_; }
    bool is_deferred() const { return deferred_; }

    // Fixed format: 18 bytes. Descriptor format: 8-byte header plus descriptors.
    std::vector<uint8_t> encode(SenseFormat format) const;

private:
    SenseKey key_;
    Asc asc_;
    std::optional<uint64_t> information_;
    bool information_signed_ = false;
    std::optional<uint64_t> command_specific_;
    std::optional<std::array<uint8_t, 3>> key_specific_;  // SKSV set when present
    bool filemark_ = false;
    bool eom_ = false;
    bool ili_ = false;
    bool deferred_ = false;
};

}  // namespace vtl::scsi
