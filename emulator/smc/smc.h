// The SMC-3 command set of a medium changer, one file per command family, and the element status
// report READ ELEMENT STATUS and REQUEST VOLUME ELEMENT ADDRESS share.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "smc/element.h"

namespace vtl {
class LogicalUnit;
class MediumChanger;
namespace library {
class Library;
}
}  // namespace vtl

namespace vtl::smc {

// SMC-3 operation codes, and the vendor one IBM, Quantum and Spectra use for 37h.
namespace op {
inline constexpr uint8_t kInitializeElementStatus = 0x07;
inline constexpr uint8_t kOpenCloseImportExportElement = 0x1B;
inline constexpr uint8_t kPositionToElement = 0x2B;
inline constexpr uint8_t kInitializeElementStatusWithRange = 0x37;
inline constexpr uint8_t kMoveMedium = 0xA5;
inline constexpr uint8_t kExchangeMedium = 0xA6;
inline constexpr uint8_t kRequestVolumeElementAddress = 0xB5;
inline constexpr uint8_t kSendVolumeTag = 0xB6;
inline constexpr uint8_t kReadElementStatus = 0xB8;
inline constexpr uint8_t kVendorInitializeElementStatusWithRange = 0xE7;
}  // namespace op

// Byte 1 bits 7-5 of the SCSI-2 era CDBs held the LUN; SPC made them obsolete, and Linux ch and
// mtx still fill them in for a changer at LUN > 0, so decoders ignore them.
inline constexpr uint8_t kObsoleteLunBits = 0xE0;
// CONTROL byte usage: NACA, FLAG, LINK (checked by the logical unit; vendor bits 7-6 ignored).
inline constexpr uint8_t kControlUsage = 0x07;

void register_element_status_commands(LogicalUnit& lu, MediumChanger& changer);  // element_status_commands.cpp
void register_move_commands(LogicalUnit& lu, MediumChanger& changer);            // move_commands.cpp
void register_initialize_commands(LogicalUnit& lu, MediumChanger& changer);      // initialize_commands.cpp
void register_volume_tag_commands(LogicalUnit& lu, MediumChanger& changer);      // volume_tag_commands.cpp
void register_ie_commands(LogicalUnit& lu, MediumChanger& changer);              // ie_commands.cpp
void register_smc_pages(LogicalUnit& lu, MediumChanger& changer);                // smc_pages.cpp
void register_async_move_commands(LogicalUnit& lu, MediumChanger& changer);      // async_move_commands.cpp

// What an element status report (SMC-3) holds beyond the elements.
struct ElementReportOptions {
    bool voltag = false;  // primary (and, when any cartridge has one, alternate) volume tags
    bool dvcid = false;   // device identifiers of data transfer elements
    uint32_t allocation = 0;
    uint8_t header_byte4 = 0;  // REQUEST VOLUME ELEMENT ADDRESS: the SEND ACTION CODE
};

// The 8-byte header and one element status page per run of elements of one type. `elements` are
// in ascending address order and already limited to NUMBER OF ELEMENTS. The byte counts are
// those of the whole report; the data stops at the last whole page header or descriptor that
// fits the allocation length.
std::vector<uint8_t> element_report(library::Library& library, std::span<const Element* const> elements,
                                    const ElementReportOptions& options);

// The element status page layout every report uses for a type (so a one-element probe learns
// the length a full report will use, as CERN's rmcd does).
uint16_t descriptor_length(library::Library& library, ElementType type, const ElementReportOptions& options);

}  // namespace vtl::smc
