// Config -> commented TOML (vtld --print-default-config). Written by hand, not with toml++, so
// the output can carry comments that document every key; parse_config reads it back equal.
#include <fmt/format.h>

#include "config/config.h"

namespace vtl::config {

namespace {

// A TOML basic string.
std::string str(std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    out += fmt::format("\\u{:04X}", c);
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

std::string hex16(uint16_t v) { return fmt::format("0x{:04X}", v); }

// What a cartridge's barcode alone implies, so the writer omits what the parser would derive.
MediaType implied_type(const BarcodeInfo& info) { return info.type.value_or(MediaType::Data); }

void write_cartridge_extras(std::string& out, const CartridgeConfig& c) {
    const BarcodeInfo info = parse_barcode(c.barcode).value_or(BarcodeInfo{});
    if (c.type != implied_type(info)) out += fmt::format("type = {}\n", str(to_string(c.type)));
    if (c.generation && c.generation != info.generation) out += fmt::format("generation = {}\n", *c.generation);
    if (c.capacity) out += fmt::format("capacity = {}\n", str(format_size(*c.capacity)));
    if (c.write_protected) out += "write_protected = true\n";
}

// Runs of cartridges that a range entry can express: consecutive barcodes in consecutive slots
// with the same type and generation.
void write_cartridges(std::string& out, const std::vector<CartridgeConfig>& carts) {
    for (size_t i = 0; i < carts.size();) {
        size_t j = i + 1;
        while (j < carts.size() && carts[j].slot == carts[j - 1].slot + 1 && carts[j].type == carts[i].type &&
               carts[j].generation == carts[i].generation && carts[j].capacity == carts[i].capacity &&
               carts[j].write_protected == carts[i].write_protected &&
               next_barcode(carts[j - 1].barcode) == carts[j].barcode) {
            ++j;
        }
        const CartridgeConfig& c = carts[i];
        out += "\n[[library.cartridges]]\n";
        if (j - i > 1) {
            out += fmt::format("# {}..{} in slots {}..{}\n", carts[i].barcode, carts[j - 1].barcode, c.slot,
                               carts[j - 1].slot);
            out += fmt::format("first = {}\ncount = {}\n", str(c.barcode), j - i);
        } else {
            out += fmt::format("barcode = {}\n", str(c.barcode));
        }
        out += fmt::format("slot = {}\n", c.slot);
        write_cartridge_extras(out, c);
        i = j;
    }
}

void write_library(std::string& out, const LibraryConfig& lib) {
    out += fmt::format("\n[[library]]\nname = {}\n", str(lib.name));
    out += "# generic, ibm-ts4500, ibm-ts3500, spectra-tfinity, quantum-i6000, hpe-msl or stk-sl\n";
    out += fmt::format("personality = {}\n", str(to_string(lib.personality)));
    const std::string serial = fmt::format("serial = {}\n", str(lib.serial));
    out += lib.serial == default_library_serial(lib.name) ? "# derived from the name unless set:\n# " + serial : serial;
    const std::string dir = fmt::format("state_dir = {}\n", str(lib.state_dir.string()));
    out += lib.state_dir == default_state_dir(lib.name) ? "# " + std::string(kDefaultStateRoot) + "/<name> unless set:\n# " + dir
                                                        : dir;
    out += "# the medium changer's device name\n";
    out += fmt::format("changer = {}\n", str(lib.changer));
    out += fmt::format("robots = {}  # medium transport elements, 1..{}\n", lib.robots, kMaxRobots);
    out += fmt::format("slots = {}  # storage elements, 1..{}\n", lib.slots, kMaxSlots);
    out += fmt::format("ie_slots = {}  # import/export elements, 0..{}\n", lib.ie_slots, kMaxIeSlots);

    out += "\n# First element address of each element type; the ranges must not overlap.\n[library.addresses]\n";
    out += fmt::format("transport = {}\nie = {}\ndrive = {}\nslot = {}\n", hex16(lib.addresses.transport),
                       hex16(lib.addresses.ie), hex16(lib.addresses.drive), hex16(lib.addresses.slot));

    const Timings& t = lib.timings;
    out += "\n# Durations: \"15s\", \"2.5s\", \"500ms\", \"13min\", \"1h\" or integer seconds.\n[library.timings]\n";
    out += fmt::format("pick = {}  # take a cartridge from an element\n", str(format_duration(t.pick)));
    out += fmt::format("place = {}  # put it into an element\n", str(format_duration(t.place)));
    out += fmt::format("load = {}  # drive load, threading included\n", str(format_duration(t.load)));
    out += fmt::format("unload = {}  # drive unload, until the robot can pick the cartridge\n", str(format_duration(t.unload)));
    out += fmt::format("slot_to_slot = {}  # robot travel between slots and drives\n", str(format_duration(t.slot_to_slot)));
    out += fmt::format("ie_to_slot = {}  # robot travel to or from the import/export station\n",
                       str(format_duration(t.ie_to_slot)));
    out += "# Tape motions: a fixed time (\"2s\") or a time per GB of tape passed over (\"8ms/GB\").\n"
           "# Realistic LTO-8: rewind = \"8ms/GB\", locate = \"10ms/GB\".\n";
    out += fmt::format("rewind = {}  # drive rewind, also before an unload\n", str(format_motion_time(t.rewind)));
    out += fmt::format("locate = {}  # drive LOCATE and SPACE\n", str(format_motion_time(t.locate)));

    out += "\n# Bridged changer LUN 1 behind drives with bridge = true.\n[library.bridge]\n";
    out += fmt::format("timeout = {}\n", str(format_duration(lib.bridge.timeout)));
    out += fmt::format("abort_policy = {}  # complete or return-to-source\n", str(to_string(lib.bridge.abort_policy)));

    out += "\n# Vendor-specific opcodes (0xC0..0xFF, not 0xE7) of the asynchronous move and its query.\n";
    out += fmt::format("[library.async_move]\nmove_opcode = 0x{:02X}\nquery_opcode = 0x{:02X}\n",
                       lib.async_move.move_opcode, lib.async_move.query_opcode);

    if (!lib.drives.empty()) {
        out += "\n# Drive models: ULT3580-TD5..TD9 and ULT3580-HH5..HH9 (IBM), Ultrium 5-SCSI..Ultrium 9-SCSI (HPE).\n"
               "# Serials are derived from the library and drive names unless set.";
    }
    for (const auto& d : lib.drives) {
        out += fmt::format("\n[[library.drives]]\nname = {}\nmodel = {}\n", str(d.name), str(d.model));
        const std::string dserial = fmt::format("serial = {}\n", str(d.serial));
        out += d.serial == default_drive_serial(lib.name, d.name) ? "# " + dserial : dserial;
        out += fmt::format("bridge = {}  # serve a bridged changer LUN 1 behind this drive\n", d.bridge ? "true" : "false");
        out += fmt::format("clean_after_loads = {}  # TapeAlert clean periodic after this many loads; 0: never\n",
                           d.clean_after_loads);
        out += fmt::format("clean_after_gb = {}  # ... or after this many GB read and written; 0: never\n",
                           d.clean_after_gb);
    }
    if (!lib.cartridges.empty()) {
        out += "\n# One cartridge: barcode and slot. A range: first, count and the first slot; the\n"
               "# digits before the 2-character suffix count up. Without a slot, cartridges take the\n"
               "# lowest free slots. Optional: type (data, cleaning, worm, diagnostic) and generation\n"
               "# (5..9) when the barcode's suffix (L5..L9, M8, LV..LZ, CU) does not say them; capacity\n"
               "# (\"64MiB\", \"800GB\": the medium's size when it is first created, default the generation's\n"
               "# native capacity); write_protected = true (the cartridge's write-protect switch).\n";
    }
    write_cartridges(out, lib.cartridges);
}

}  // namespace

std::string to_toml(const Config& config) {
    std::string out = "# vtld configuration. Every library is a [[library]] table.\n";
    for (const auto& lib : config.libraries) write_library(out, lib);
    return out;
}

}  // namespace vtl::config
