// The tape drive's mode pages (SSC-4 8.3): Read-Write Error Recovery (01h), Data Compression
// (0Fh), Device Configuration (10h) and its extension (10h/01h), Medium Partition (11h) and
// Medium Configuration (1Dh). Control (0Ah) and Informational Exceptions (1Ch) come from SPC.
// Live fields (active partition, WORM mode, the compression algorithm selection) are filled in
// from the drive's state when a page is reported.
#include "core/logical_unit.h"
#include "scsi/bytes.h"
#include "ssc/partition_page.h"
#include "ssc/ssc.h"
#include "ssc/ssc_common.h"
#include "ssc/write_policy.h"

namespace vtl::ssc {

namespace {

ModePage read_write_error_recovery() {
    ModePage p;
    p.code = 0x01;
    p.defaults = mode_page_header(0x01, 0, 0x0A);
    scsi::ByteWriter(p.defaults)
        .u8(0x00)  // TB, EER, PER, DTE, DCR: errors are reported, not hidden
        .u8(0x00)  // READ RETRY COUNT
        .zeros(4)
        .u8(0x00)  // WRITE RETRY COUNT
        .zeros(3);
    p.changeable.assign(p.defaults.size(), 0);
    p.changeable[2] = 0x04;  // PER: accepted, changes nothing (no recovered errors happen)
    return p;
}

ModePage data_compression() {
    constexpr uint32_t kAlgorithm = 0x01;  // the LTO drives' default (SLDC) as HP and IBM report it
    ModePage p;
    p.code = 0x0F;
    p.defaults = mode_page_header(0x0F, 0, 0x0E);
    scsi::ByteWriter(p.defaults)
        .u8(0xC0)  // DCE (compression on, the drives' default), DCC
        .u8(0x80)  // DDE; RED 0
        .be32(kAlgorithm)
        .be32(kAlgorithm)
        .zeros(4);
    p.changeable.assign(p.defaults.size(), 0);
    p.changeable[2] = 0x80;  // DCE
    return p;
}

constexpr size_t kActivePartition = 3;
constexpr size_t kEodFlags = 10;
constexpr size_t kSelectCompression = 14;

ModePage device_configuration(TapeDrive& drive) {
    ModePage p;
    p.code = 0x10;
    p.defaults = mode_page_header(0x10, 0, 0x0E);
    scsi::ByteWriter(p.defaults)
        .u8(0x00)   // CAF, ACTIVE FORMAT
        .u8(0x00)   // ACTIVE PARTITION (live)
        .u8(0x00)   // WRITE OBJECT BUFFER FULL RATIO
        .u8(0x00)   // READ OBJECT BUFFER EMPTY RATIO
        .be16(0)    // WRITE DELAY TIME
        .u8(0x40)   // LOIS: logical object identifiers supported
        .u8(0x00)   // GAP SIZE
        .u8(0x18)   // EOD DEFINED 0, EEG, SEW (synchronise at early warning); SWP 0
        .be24(0)    // OBJECT BUFFER SIZE AT EARLY WARNING
        .u8(0x01)   // SELECT DATA COMPRESSION ALGORITHM (live: follows page 0Fh DCE)
        .u8(0x00);  // WTRE, OIR, REWIND ON RESET, ASOCWP, PERSWP, PRMWP
    p.changeable.assign(p.defaults.size(), 0);
    p.changeable[6] = p.changeable[7] = 0xFF;  // WRITE DELAY TIME
    p.changeable[kEodFlags] = 0x04;            // SWP: software write protection
    TapeDrive* d = &drive;
    p.refresh = [d](std::vector<uint8_t>& page) {
        page[kActivePartition] = d->tape().partition();
        page[kSelectCompression] = d->compression_enabled() ? 0x01 : 0x00;
    };
    return p;
}

ModePage device_configuration_extension(TapeDrive& drive, const std::shared_ptr<WriteControl>& control) {
    namespace ext = config_extension;
    ModePage p;
    p.code = ext::kCode;
    p.subpage = ext::kSubpage;
    p.defaults = mode_page_header(ext::kCode, ext::kSubpage, 0x1C);
    // TARPF, TASER, TARPT, TRWEP 0; WRITE MODE 0 (overwrite allowed), SHORT ERASE MODE 0;
    // PROGRAMMABLE EARLY WARNING SIZE 0 MB; VCELBRE 0.
    scsi::ByteWriter(p.defaults).zeros(0x1C);
    p.changeable.assign(p.defaults.size(), 0);
    p.changeable[ext::kWriteMode] = 0xF0;                            // WRITE MODE: 0 or 1 (append-only)
    p.changeable[ext::kPews] = p.changeable[ext::kPews + 1] = 0xFF;  // PEWS (LTFS sets it)
    TapeDrive* d = &drive;
    p.validate = [d, control](std::span<const uint8_t> page, size_t offset) -> std::optional<scsi::Sense> {
        const uint8_t mode = page[ext::kWriteMode] >> 4;
        if (mode > ext::kAppendOnly) {
            return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(offset + ext::kWriteMode), 7);
        }
        // Entering append-only mode withdraws any ALLOW OVERWRITE.
        if (mode == ext::kAppendOnly && !append_only(*d)) control->permit.revoke();
        return std::nullopt;
    };
    return p;
}

ModePage medium_partition(TapeDrive& drive) {
    const int generation = drive.mechanics().generation;
    ModePage p;
    p.code = partition_page::kCode;
    p.defaults = partition_page::defaults(generation);
    p.changeable = partition_page::changeable(generation);
    p.validate = [](std::span<const uint8_t> page, size_t offset) -> std::optional<scsi::Sense> {
        if (auto bad = partition_page::check(page)) {
            return scsi::Sense::invalid_parameter_field(static_cast<uint16_t>(offset + *bad));
        }
        return std::nullopt;
    };
    return p;
}

ModePage medium_configuration(TapeDrive& drive) {
    constexpr uint8_t kWormFilemarkRestrictions = 0x02;  // all but the filemark closest to BOP may go
    ModePage p;
    p.code = 0x1D;
    p.savable = false;
    p.defaults = mode_page_header(0x1D, 0, 0x1E);
    scsi::ByteWriter(p.defaults)
        .u8(0x00)  // WORMM (live)
        .u8(0x00)
        .u8(0x00)  // WORM MODE LABEL RESTRICTIONS: no logical block may be overwritten
        .u8(kWormFilemarkRestrictions)
        .zeros(0x1E - 4);
    p.changeable.assign(p.defaults.size(), 0);
    TapeDrive* d = &drive;
    p.refresh = [d](std::vector<uint8_t>& page) { page[2] = d->worm() ? 0x01 : 0x00; };
    return p;
}

}  // namespace

void register_mode_pages(LogicalUnit& lu, TapeDrive& drive, const std::shared_ptr<WriteControl>& control) {
    auto& pages = lu.mode_pages();
    pages.add(read_write_error_recovery());
    pages.add(data_compression());
    pages.add(device_configuration(drive));
    pages.add(device_configuration_extension(drive, control));
    pages.add(medium_partition(drive));
    pages.add(medium_configuration(drive));
}

void publish_partition_page(TapeDrive& drive) {
    auto& pages = drive.lu().mode_pages();
    std::vector<uint8_t> page = pages.current(partition_page::kCode);
    page[0] &= 0x3F;  // PS is reserved in MODE SELECT
    partition_page::describe(page, drive.tape());
    if (auto err = pages.select(page, 0, false, nullptr)) {
        drive.lu().log().warn("[{}] mode page 11h cannot describe the medium's partitions", drive.lu().name());
    }
}

}  // namespace vtl::ssc
