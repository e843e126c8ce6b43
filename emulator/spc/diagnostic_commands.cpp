// SEND DIAGNOSTIC (SPC-4 6.42): the default self-test, which SPC makes mandatory for every
// device type (sg3_utils' scsi_mandat sends it). An emulated device has nothing to test, so
// the default self-test passes at once; background and foreground self-tests (which report
// through the self-test results log page) and diagnostic pages are not supported.
#include "core/logical_unit.h"
#include "scsi/cdb.h"
#include "scsi/opcodes.h"
#include "spc/spc.h"

namespace vtl {

namespace {

constexpr uint8_t kControlUsage = 0x07;  // NACA, FLAG, LINK: checked by the logical unit

struct SendDiagnosticCdb {
    bool selftest = false;
    std::optional<scsi::Sense> error;
};

SendDiagnosticCdb decode_send_diagnostic(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    SendDiagnosticCdb c;
    const uint8_t self_test_code = r.bits(1, 5, 3);
    c.selftest = r.bit(1, 2);
    // DEVOFFL and UNITOFFL (bits 1, 0) only permit what the default self-test never does.
    r.reserved(1, 0x08).reserved(2);
    r.require(self_test_code == 0, 1, 7);
    // No diagnostic page is supported, so no parameter list either (with SELFTEST=1 SPC
    // requires the length to be zero anyway).
    r.require(r.be16(3) == 0, 3);
    c.error = r.error();
    return c;
}

Result send_diagnostic(Exec& x) {
    const auto cdb = decode_send_diagnostic(x.cdb());
    if (cdb.error) return Result::check(*cdb.error);
    // SELFTEST=1: the default self-test, passed. SELFTEST=0 with no page: nothing to do.
    return Result::good();
}

}  // namespace

void register_diagnostic_commands(LogicalUnit& lu) {
    lu.commands().add(make_command(scsi::op::kSendDiagnostic, "SEND DIAGNOSTIC",
                                   {scsi::op::kSendDiagnostic, 0xE7, 0x00, 0xFF, 0xFF, kControlUsage}, 1, 10,
                                   send_diagnostic));
}

}  // namespace vtl
