// What the drive says about itself and its medium: READ BLOCK LIMITS, REPORT DENSITY SUPPORT,
// READ MEDIA SERIAL NUMBER, and the SSC VPD pages B0h (sequential-access device
// capabilities), B1h (manufacturer-assigned serial number) and B2h (TapeAlert supported flags).
#include "core/logical_unit.h"
#include "scsi/bytes.h"
#include "ssc/drive_models.h"
#include "ssc/ssc.h"
#include "ssc/ssc_common.h"
#include "ssc/tape_alert.h"

namespace vtl::ssc {

namespace {

constexpr uint8_t kReadBlockLimits = 0x05;
constexpr uint8_t kReportDensitySupport = 0x44;
constexpr uint8_t kServiceActionIn12 = 0xAB;
constexpr uint8_t kSaReadMediaSerialNumber = 0x01;
constexpr uint64_t kMB = 1000 * 1000;  // REPORT DENSITY SUPPORT capacities: 10^6 bytes
constexpr uint16_t kDensityDescriptorLength = 0x34;
constexpr uint16_t kMediumTypeDescriptorLength = 0x34;

// ---- READ BLOCK LIMITS --------------------------------------------------------------------

Result read_block_limits(Exec& x, TapeDrive&) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xFE).reserved(2).reserved(3).reserved(4);
    const bool mloi = r.bit(1, 0);
    if (r.error()) return Result::check(*r.error());
    std::vector<uint8_t> d;
    scsi::ByteWriter w(d);
    if (mloi) {
        // The largest logical object identifier: the store numbers objects with 64 bits.
        w.zeros(12).be64(UINT64_MAX);
    } else {
        w.u8(kBlockGranularity).be24(kMaxBlockLength).be16(kMinBlockLength);
    }
    return Result::good(std::move(d));
}

// ---- REPORT DENSITY SUPPORT ---------------------------------------------------------------

bool readable(const TapeDrive& d, const Density& density) {
    return lto_readable(d.mechanics().generation, smc::Cartridge{.generation = density.generation, .type_m = density.type_m});
}
bool writable(const TapeDrive& d, const Density& density) {
    return lto_writable(d.mechanics().generation, smc::Cartridge{.generation = density.generation, .type_m = density.type_m});
}

void density_descriptor(scsi::ByteWriter& w, const Density& density, bool wrtok, bool deflt, uint64_t capacity) {
    w.u8(density.code)
        .u8(density.code)  // SECONDARY DENSITY CODE: no other code for the format
        .u8(static_cast<uint8_t>((wrtok ? 0x80 : 0) | (deflt ? 0x20 : 0) | 0x01))  // WRTOK, DUP 0, DEFLT, DLV
        .be16(kDensityDescriptorLength)
        .be24(density.bits_per_mm)
        .be16(kMediaWidthTenthsMm)
        .be16(density.tracks)
        .be32(static_cast<uint32_t>(std::min<uint64_t>(capacity / kMB, 0xFFFFFFFFu)))
        .ascii(kAssigningOrganization, 8)
        .ascii(density.name, 8)
        .ascii(density.description, 20);
}

// Medium types: a data cartridge per LTO generation, numbered as IBM's mode header numbers
// them, listing the density codes this drive handles on it.
void medium_type_descriptor(scsi::ByteWriter& w, int generation, const std::vector<const Density*>& codes,
                            uint16_t length_m) {
    w.u8(static_cast<uint8_t>(generation << 4 | 0x08)).u8(0).be16(kMediumTypeDescriptorLength);
    w.u8(static_cast<uint8_t>(codes.size()));
    for (size_t i = 0; i < 9; ++i) w.u8(i < codes.size() ? codes[i]->code : 0);
    w.be16(kMediaWidthTenthsMm).be16(length_m).zeros(2).ascii(kAssigningOrganization, 8);
    w.ascii(fmt::format("LTO-{}", generation), 8).ascii(fmt::format("Ultrium {} data", generation), 20);
}

Result report_density_support(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xFC).reserved(2).reserved(3).reserved(4).reserved(5).reserved(6);
    const bool medium_type = r.bit(1, 1);
    const bool media = r.bit(1, 0);
    const uint16_t allocation = r.be16(7);
    if (r.error()) return Result::check(*r.error());
    if (media) {
        if (auto s = d.medium_ready()) return Result::check(*s);
    }
    const Density* mounted = media ? density_by_code(d.medium_density()) : nullptr;
    if (media && !mounted) return Result::check(scsi::Sense::not_ready(scsi::asc::kMediumNotPresent));

    std::vector<uint8_t> data;
    scsi::ByteWriter w(data);
    w.be16(0).be16(0);  // AVAILABLE LENGTH (patched), reserved
    if (!medium_type) {
        const Density* native = nullptr;
        for (const auto& density : densities()) {
            if (density.generation == d.mechanics().generation && !density.type_m) native = &density;
        }
        for (const auto& density : densities()) {
            if (media ? &density != mounted : !readable(d, density)) continue;
            uint64_t capacity = density.capacity;
            if (media) {
                capacity = 0;
                for (uint8_t p = 0; p < d.tape().partitions(); ++p) capacity += d.tape().capacity(p).capacity;
            }
            density_descriptor(w, density, writable(d, density), media || &density == native, capacity);
        }
    } else {
        for (int generation = 5; generation <= 9; ++generation) {
            if (media && generation != mounted->generation) continue;
            std::vector<const Density*> codes;
            uint16_t length_m = 0;
            for (const auto& density : densities()) {
                if (density.generation == generation && readable(d, density)) {
                    codes.push_back(&density);
                    length_m = density.length_m;
                }
            }
            if (!codes.empty()) medium_type_descriptor(w, generation, codes, length_m);
        }
    }
    w.patch_be16(0, static_cast<uint16_t>(data.size() - 2));
    return Result::good(std::move(data), allocation);
}

// ---- READ MEDIA SERIAL NUMBER -------------------------------------------------------------

Result read_media_serial_number(Exec& x, TapeDrive& d) {
    scsi::CdbReader r(x.cdb());
    r.reserved(1, 0xE0).reserved(2).reserved(3).reserved(4).reserved(5).reserved(10);
    const uint32_t allocation = r.be32(6);
    if (r.error()) return Result::check(*r.error());
    if (auto s = d.medium_ready()) return Result::check(*s);
    // The cartridge's serial is its volume serial (the barcode label), padded to 4 bytes.
    std::string serial = d.cartridge()->barcode;
    serial.resize((serial.size() + 3) / 4 * 4, ' ');
    std::vector<uint8_t> data;
    scsi::ByteWriter(data).be32(static_cast<uint32_t>(serial.size())).ascii(serial, serial.size());
    return Result::good(std::move(data), allocation);
}

// ---- VPD pages ----------------------------------------------------------------------------

constexpr uint64_t kSupportedAlerts =
    alert_bit(alert::kReadWarning) | alert_bit(alert::kWriteWarning) | alert_bit(alert::kHardError) |
    alert_bit(alert::kMedia) | alert_bit(alert::kReadFailure) | alert_bit(alert::kWriteFailure) |
    alert_bit(alert::kWriteProtect) | alert_bit(alert::kUnsupportedFormat) | alert_bit(alert::kReadOnlyFormat) |
    alert_bit(alert::kCleanNow) | alert_bit(alert::kCleanPeriodic) | alert_bit(alert::kExpiredCleaningMedia) |
    alert_bit(alert::kWormOverwriteAttempted);

void register_vpd_pages(LogicalUnit& lu, TapeDrive& drive) {
    // B0h: WORM supported; no tape stream mirroring.
    lu.vpd_pages().add(0xB0, [](const Nexus&) { return std::vector<uint8_t>{0x01, 0x00}; });
    // B1h: the serial number the manufacturer assigned, which is the drive's serial.
    TapeDrive* d = &drive;
    lu.vpd_pages().add(0xB1, [d](const Nexus&) {
        const std::string& serial = d->identity().serial;
        return std::vector<uint8_t>(serial.begin(), serial.end());
    });
    // B2h: a bit per flag, flag 01h in bit 7 of the first byte.
    lu.vpd_pages().add(0xB2, [](const Nexus&) {
        std::vector<uint8_t> flags(8, 0);
        for (uint8_t flag = 1; flag <= 64; ++flag) {
            if (kSupportedAlerts & alert_bit(flag)) flags[(flag - 1) / 8] |= static_cast<uint8_t>(0x80 >> ((flag - 1) % 8));
        }
        return flags;
    });
}

}  // namespace

void register_identification(LogicalUnit& lu, TapeDrive& drive) {
    auto& cmds = lu.commands();
    cmds.add(command(drive, kReadBlockLimits, std::nullopt, "READ BLOCK LIMITS",
                     {kReadBlockLimits, 0x01, 0x00, 0x00, 0x00, kControlUsage}, kQuick, read_block_limits));
    cmds.add(command(drive, kReportDensitySupport, std::nullopt, "REPORT DENSITY SUPPORT",
                     {kReportDensitySupport, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, kControlUsage}, kQuick,
                     report_density_support));
    cmds.add(command(drive, kServiceActionIn12, kSaReadMediaSerialNumber, "READ MEDIA SERIAL NUMBER",
                     {kServiceActionIn12, 0x1F, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, kControlUsage},
                     kQuick, read_media_serial_number));
    register_vpd_pages(lu, drive);
}

}  // namespace vtl::ssc
