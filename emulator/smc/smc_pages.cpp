// The medium changer's own pages: mode pages Element Address Assignment (1Dh), Transport Geometry
// Parameters (1Eh) and Device Capabilities (1Fh) (SMC-3), none changeable or savable; and the
// TapeAlert log page (2Eh) with the 64 library flags, read live from the library.
#include "core/logical_unit.h"
#include "device/medium_changer.h"
#include "library/library.h"
#include "scsi/bytes.h"
#include "smc/smc.h"
#include "spc/log_pages.h"
#include "spc/mode_pages.h"

namespace vtl::smc {

namespace {

constexpr uint8_t kElementAddressAssignment = 0x1D;
constexpr uint8_t kTransportGeometry = 0x1E;
constexpr uint8_t kDeviceCapabilities = 0x1F;
constexpr uint8_t kTapeAlert = 0x2E;

// ---- Element Address Assignment (SMC-3) ----------------------------------------------------

constexpr size_t kAssignmentLength = 0x12;

struct Assignment {
    uint16_t first[4] = {};  // MT, ST, IE, DT
    uint16_t count[4] = {};
};

std::vector<uint8_t> assignment_page(const Assignment& a) {
    std::vector<uint8_t> p = mode_page_header(kElementAddressAssignment, 0, kAssignmentLength);
    scsi::ByteWriter w(p);
    for (int i = 0; i < 4; ++i) w.be16(a.first[i]).be16(a.count[i]);
    w.zeros(2);  // reserved
    return p;
}

// What the config builds: the page's default, and its value until the inventory exists.
Assignment from_config(const config::LibraryConfig& c) {
    Assignment a;
    const auto& b = c.addresses;
    a.first[0] = b.transport, a.count[0] = static_cast<uint16_t>(c.robots);
    a.first[1] = b.slot, a.count[1] = static_cast<uint16_t>(c.slots);
    a.first[2] = b.ie, a.count[2] = static_cast<uint16_t>(c.ie_slots);
    a.first[3] = b.drive, a.count[3] = static_cast<uint16_t>(c.drives.size());
    return a;
}

// The inventory's own element layout is what READ ELEMENT STATUS reports; the page follows it.
Assignment from_inventory(const Inventory& inv) {
    Assignment a;
    const ElementType types[4] = {ElementType::MediumTransport, ElementType::Storage, ElementType::ImportExport,
                                  ElementType::DataTransfer};
    for (int i = 0; i < 4; ++i) {
        a.first[i] = inv.first_address(types[i]);
        a.count[i] = static_cast<uint16_t>(inv.count(types[i]));
    }
    return a;
}

ModePage element_address_assignment(MediumChanger& changer) {
    ModePage p;
    p.code = kElementAddressAssignment;
    p.savable = false;
    p.defaults = assignment_page(from_config(changer.library().config()));
    MediumChanger* c = &changer;
    p.refresh = [c](std::vector<uint8_t>& page) { page = assignment_page(from_inventory(c->library().inventory())); };
    return p;
}

// ---- Transport Geometry Parameters (SMC-3) -------------------------------------------------

// One 2-byte descriptor per medium transport element: ROTATE 0 (LTO has one side), then its
// MEMBER NUMBER IN TRANSPORT ELEMENT SET.
ModePage transport_geometry(const config::LibraryConfig& c) {
    ModePage p;
    p.code = kTransportGeometry;
    p.savable = false;
    p.defaults = mode_page_header(kTransportGeometry, 0, 2 * c.robots);
    scsi::ByteWriter w(p.defaults);
    for (uint32_t i = 0; i < c.robots; ++i) w.u8(0).u8(static_cast<uint8_t>(i));
    return p;
}

// ---- Device Capabilities (SMC-3) -----------------------------------------------------------

constexpr size_t kCapabilitiesLength = 0x12;
// Bits by element type in every byte: DT b3, IE b2, ST b1, MT b0.
constexpr uint8_t kSt = 0x02;
constexpr uint8_t kIe = 0x04;
constexpr uint8_t kDt = 0x08;
constexpr uint8_t kStorers = kSt | kIe | kDt;

// Storage, I/E and data transfer elements hold cartridges; a robot only carries them, and is
// neither the source nor the destination of a MOVE or EXCHANGE (the library refuses it with
// 05/21/01, as IBM does). A cartridge moves and exchanges between any two of the others. No
// read/write attribute capability.
ModePage device_capabilities() {
    ModePage p;
    p.code = kDeviceCapabilities;
    p.savable = false;
    p.defaults = mode_page_header(kDeviceCapabilities, 0, kCapabilitiesLength);
    scsi::ByteWriter(p.defaults)
        .u8(kStorers)  // StorDT, StorIE, StorST; StorMT 0
        .u8(0)         // reserved
        .u8(0)         // MT -> none
        .u8(kStorers)  // ST -> DT, IE, ST
        .u8(kStorers)  // IE -> DT, IE, ST
        .u8(kStorers)  // DT -> DT, IE, ST
        .zeros(4)
        .u8(0)         // MT <> : a robot is not an exchange end
        .u8(kStorers)  // ST <> DT, IE, ST
        .u8(kStorers)  // IE <> DT, IE, ST
        .u8(kStorers)  // DT <> DT, IE, ST
        .zeros(4);
    return p;
}

// ---- TapeAlert: SSC-4's parameter layout, the TapeAlert specification's library flags ----

constexpr uint16_t kFlagCount = 64;
constexpr uint16_t kFlagLibraryDoor = 0x10;  // "moves cannot be performed because a door is open"

LogPage tape_alert(MediumChanger& changer) {
    LogPage p;
    p.code = kTapeAlert;
    p.name = "TapeAlert";
    MediumChanger* c = &changer;
    // Each flag reflects a condition that holds now; it clears itself when the condition ends.
    p.parameters = [c](LogPc) {
        library::Library& lib = c->library();
        std::vector<LogParameter> out;
        out.reserve(kFlagCount);
        for (uint16_t code = 1; code <= kFlagCount; ++code) {
            bool set = false;
            if (code == kFlagLibraryDoor) set = lib.ie_door_open();
            out.push_back(LogParameter{code, kLogBinary, {uint8_t(set ? 1 : 0)}});
        }
        return out;
    };
    return p;
}

}  // namespace

void register_smc_pages(LogicalUnit& lu, MediumChanger& changer) {
    const config::LibraryConfig& config = changer.library().config();
    lu.mode_pages().add(element_address_assignment(changer));
    lu.mode_pages().add(transport_geometry(config));
    lu.mode_pages().add(device_capabilities());
    lu.log_pages().add(tape_alert(changer));
}

}  // namespace vtl::smc
