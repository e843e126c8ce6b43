// RESERVE/RELEASE (6) and (10) with SPC-2 semantics (7.21-7.24) and PREVENT ALLOW MEDIUM
// REMOVAL (SPC-4 6.13). The state lives in the logical unit, which also refuses other
// nexuses' commands while reserved and drops reservations on LUN reset and nexus loss.
#include "core/logical_unit.h"
#include "scsi/cdb.h"
#include "scsi/opcodes.h"
#include "spc/spc.h"

namespace vtl {

namespace {

constexpr uint8_t kControlUsage = 0x07;  // NACA, FLAG, LINK: checked by the logical unit
constexpr uint32_t kNominalTimeout = 1;
constexpr uint32_t kRecommendedTimeout = 10;

// Third-party reservations (3RDPTY, LONGID) and extents are not supported: SPC-2 made them
// obsolete, and no tape application uses them. Their bits are treated as reserved.
struct ReservationCdb {
    std::optional<scsi::Sense> error;
};

// RESERVE(6) and RELEASE(6) share the SCSI-2 layout: byte 1 LUN (7-5), 3RDPTY (4), THIRD PARTY
// DEVICE ID (3-1), EXTENT (0); byte 2 RESERVATION IDENTIFICATION; bytes 3-4 EXTENT LIST LENGTH
// (RESERVE) or reserved (RELEASE).
ReservationCdb decode_reservation6(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    r.reserved(1, 0xE0)
        .require(!r.bit(1, 4), 1, 4)  // 3RDPTY
        .reserved(1, 0x0E)            // THIRD PARTY DEVICE ID
        .require(!r.bit(1, 0), 1, 0)  // EXTENT
        .reserved(2)
        .reserved(3)
        .reserved(4);
    return {r.error()};
}

// RESERVE(10) and RELEASE(10): byte 1 3RDPTY (4), LONGID (1), EXTENT (0); byte 2 RESERVATION
// IDENTIFICATION; byte 3 THIRD PARTY DEVICE ID; bytes 7-8 PARAMETER LIST LENGTH, which only a
// third-party reservation uses, so it must be 0.
ReservationCdb decode_reservation10(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    r.reserved(1, 0xE0)
        .require(!r.bit(1, 4), 1, 4)  // 3RDPTY
        .reserved(1, 0x0C)
        .require(!r.bit(1, 1), 1, 1)  // LONGID
        .require(!r.bit(1, 0), 1, 0)  // EXTENT
        .reserved(2)
        .reserved(3)
        .reserved(4)
        .reserved(5)
        .reserved(6)
        .require(r.be16(7) == 0, 7);
    return {r.error()};
}

Result reserve(Exec& x, const ReservationCdb& cdb) {
    if (cdb.error) return Result::check(*cdb.error);
    // Another nexus's reservation was refused as a conflict before we got here; the holder
    // reserving again is GOOD.
    x.lu().reserve(x.nexus());
    return Result::good();
}

Result release(Exec& x, const ReservationCdb& cdb) {
    if (cdb.error) return Result::check(*cdb.error);
    // SPC-2 7.23: a nexus that holds nothing (or another nexus holds it) gets GOOD, and the
    // reservation stays.
    x.lu().release(x.nexus());
    return Result::good();
}

enum class Prevent : uint8_t { Allow = 0, Prevent = 1 };

struct PreventAllowCdb {
    uint8_t prevent = 0;  // PREVENT field, 2 bits
    std::optional<scsi::Sense> error;
};

PreventAllowCdb decode_prevent_allow(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    PreventAllowCdb c;
    c.prevent = r.bits(4, 0, 2);
    r.reserved(1).reserved(2).reserved(3).reserved(4, 0xFC).require(c.prevent <= uint8_t(Prevent::Prevent), 4, 1);
    c.error = r.error();
    return c;
}

Result prevent_allow(Exec& x) {
    const auto cdb = decode_prevent_allow(x.cdb());
    if (cdb.error) return Result::check(*cdb.error);
    x.lu().set_prevent(x.nexus(), cdb.prevent == uint8_t(Prevent::Prevent));
    return Result::good();
}

CommandInfo info(uint8_t opcode, std::string name, std::vector<uint8_t> usage) {
    CommandInfo c;
    c.opcode = opcode;
    c.name = std::move(name);
    c.usage = std::move(usage);
    c.nominal_timeout_s = kNominalTimeout;
    c.recommended_timeout_s = kRecommendedTimeout;
    c.queueing = Queueing::Ordered;
    c.unit_attention = UnitAttentionRule::Report;
    return c;
}

}  // namespace

void register_reservations(LogicalUnit& lu) {
    auto always = [](std::span<const uint8_t>) { return true; };

    // RESERVE from another nexus is a conflict (allowed_when_reserved stays empty).
    auto reserve6 = info(scsi::op::kReserve6, "RESERVE(6)", {scsi::op::kReserve6, 0, 0, 0, 0, kControlUsage});
    reserve6.handler = [](Exec& x) { return reserve(x, decode_reservation6(x.cdb())); };
    lu.commands().add(std::move(reserve6));

    auto reserve10 = info(scsi::op::kReserve10, "RESERVE(10)",
                          {scsi::op::kReserve10, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, kControlUsage});
    reserve10.handler = [](Exec& x) { return reserve(x, decode_reservation10(x.cdb())); };
    lu.commands().add(std::move(reserve10));

    auto release6 = info(scsi::op::kRelease6, "RELEASE(6)", {scsi::op::kRelease6, 0, 0, 0, 0, kControlUsage});
    release6.allowed_when_reserved = always;
    release6.handler = [](Exec& x) { return release(x, decode_reservation6(x.cdb())); };
    lu.commands().add(std::move(release6));

    auto release10 = info(scsi::op::kRelease10, "RELEASE(10)",
                          {scsi::op::kRelease10, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, kControlUsage});
    release10.allowed_when_reserved = always;
    release10.handler = [](Exec& x) { return release(x, decode_reservation10(x.cdb())); };
    lu.commands().add(std::move(release10));

    auto prevent = info(scsi::op::kPreventAllowMediumRemoval, "PREVENT ALLOW MEDIUM REMOVAL",
                        {scsi::op::kPreventAllowMediumRemoval, 0, 0, 0, 0x03, kControlUsage});
    // SPC-2 5.5.1: only the ALLOW form runs while another nexus holds the reservation.
    prevent.allowed_when_reserved = [](std::span<const uint8_t> cdb) {
        return decode_prevent_allow(cdb).prevent == uint8_t(Prevent::Allow);
    };
    prevent.handler = prevent_allow;
    lu.commands().add(std::move(prevent));
}

}  // namespace vtl
