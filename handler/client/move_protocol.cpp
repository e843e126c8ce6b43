#include "move_protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "scsi/bytes.h"

namespace vtl::client {

using scsi::get_be16;
using scsi::get_be24;
using scsi::get_be32;
using scsi::get_be64;
using scsi::put_be16;
using scsi::put_be24;
using scsi::put_be32;

std::vector<uint8_t> move_medium_cdb(uint16_t transport, uint16_t source, uint16_t destination) {
    std::vector<uint8_t> c(12, 0);
    c[0] = kMoveMediumOpcode;
    put_be16(&c[2], transport);
    put_be16(&c[4], source);
    put_be16(&c[6], destination);
    return c;
}

std::vector<uint8_t> async_move_cdb(uint8_t opcode, uint16_t transport, uint16_t source, uint16_t destination,
                                    uint8_t allocation) {
    std::vector<uint8_t> c(10, 0);
    c[0] = opcode;
    put_be16(&c[2], transport);
    put_be16(&c[4], source);
    put_be16(&c[6], destination);
    c[8] = allocation;
    return c;
}

std::vector<uint8_t> move_query_cdb(uint8_t opcode, uint32_t token, uint8_t wait_s, bool release, uint16_t allocation) {
    std::vector<uint8_t> c(10, 0);
    c[0] = opcode;
    c[1] = release ? 0x01 : 0x00;
    put_be32(&c[2], token);
    c[6] = wait_s;
    put_be16(&c[7], allocation);
    return c;
}

std::vector<uint8_t> read_element_status_cdb(uint16_t start, uint16_t count, uint32_t allocation) {
    std::vector<uint8_t> c(12, 0);
    c[0] = kReadElementStatusOpcode;
    c[1] = 0x10;  // VOLTAG, element type 0 (all)
    put_be16(&c[2], start);
    put_be16(&c[4], count);
    put_be24(&c[7], allocation);
    return c;
}

std::optional<TokenBlock> parse_token_block(std::span<const uint8_t> d) {
    if (d.size() < kTokenBlockSize) return std::nullopt;
    TokenBlock t;
    t.token = get_be32(&d[0]);
    t.estimate_s = get_be16(&d[4]);
    t.queued = d[6] & 0x01;
    if (t.token == 0) return std::nullopt;
    return t;
}

std::optional<uint16_t> SenseData::progress() const {
    if (!key_specific || (key != 0x02 && key != 0x00)) return std::nullopt;
    return static_cast<uint16_t>((*key_specific)[1] << 8 | (*key_specific)[2]);
}

std::optional<uint16_t> SenseData::field_pointer() const {
    if (!key_specific || key != 0x05) return std::nullopt;
    return static_cast<uint16_t>((*key_specific)[1] << 8 | (*key_specific)[2]);
}

std::optional<SenseData> parse_sense(std::span<const uint8_t> b) {
    if (b.empty()) return std::nullopt;
    const uint8_t code = b[0] & 0x7F;
    SenseData s;
    if (code == 0x70 || code == 0x71) {
        // Fixed: VALID in byte 0, key and flags in 2, INFORMATION 3-6, ASC/ASCQ 12-13, SKS 15-17.
        if (b.size() < 3) return std::nullopt;
        s.deferred = code == 0x71;
        s.key = b[2] & 0x0F;
        s.filemark = b[2] & 0x80;
        s.eom = b[2] & 0x40;
        s.ili = b[2] & 0x20;
        if ((b[0] & 0x80) && b.size() >= 7) s.information = get_be32(&b[3]);
        // Fields past ADDITIONAL SENSE LENGTH are not there even if the buffer is longer.
        const size_t end = b.size() >= 8 ? std::min<size_t>(b.size(), 8u + b[7]) : b.size();
        if (end >= 14) {
            s.asc = b[12];
            s.ascq = b[13];
        }
        if (end >= 18 && (b[15] & 0x80)) s.key_specific = std::array<uint8_t, 3>{b[15], b[16], b[17]};
        return s;
    }
    if (code == 0x72 || code == 0x73) {
        // Descriptor: key, ASC, ASCQ in 1-3, descriptors from byte 8.
        if (b.size() < 4) return std::nullopt;
        s.descriptor_format = true;
        s.deferred = code == 0x73;
        s.key = b[1] & 0x0F;
        s.asc = b[2];
        s.ascq = b[3];
        const size_t end = b.size() >= 8 ? std::min<size_t>(b.size(), 8u + b[7]) : b.size();
        for (size_t at = 8; at + 2 <= end;) {
            const uint8_t type = b[at];
            const size_t len = 2u + b[at + 1];
            if (at + len > end) break;
            const uint8_t* d = &b[at];
            if (type == 0x00 && len >= 12 && (d[2] & 0x80)) s.information = get_be64(d + 4);
            if (type == 0x02 && len >= 7 && (d[4] & 0x80)) s.key_specific = std::array<uint8_t, 3>{d[4], d[5], d[6]};
            if (type == 0x04 && len >= 4) {
                s.filemark = d[3] & 0x80;
                s.eom = d[3] & 0x40;
                s.ili = d[3] & 0x20;
            }
            at += len;
        }
        return s;
    }
    return std::nullopt;
}

std::string sense_key_name(uint8_t key) {
    static constexpr const char* kNames[16] = {"NO SENSE",       "RECOVERED ERROR", "NOT READY",      "MEDIUM ERROR",
                                               "HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
                                               "BLANK CHECK",    "VENDOR SPECIFIC", "COPY ABORTED",   "ABORTED COMMAND",
                                               nullptr,          "VOLUME OVERFLOW", "MISCOMPARE",     "COMPLETED"};
    if (key < 16 && kNames[key]) return kNames[key];
    return fmt::format("sense key {:02X}h", key);
}

std::string asc_text(uint8_t asc, uint8_t ascq) {
    struct Entry {
        uint8_t asc, ascq;
        const char* text;
    };
    // The pairs a medium changer and this client meet; SPC's wording.
    static constexpr Entry kTable[] = {
        {0x00, 0x00, "NO ADDITIONAL SENSE INFORMATION"},
        {0x04, 0x00, "LOGICAL UNIT NOT READY, CAUSE NOT REPORTABLE"},
        {0x04, 0x01, "LOGICAL UNIT IS IN PROCESS OF BECOMING READY"},
        {0x04, 0x02, "LOGICAL UNIT NOT READY, INITIALIZING COMMAND REQUIRED"},
        {0x04, 0x03, "LOGICAL UNIT NOT READY, MANUAL INTERVENTION REQUIRED"},
        {0x04, 0x07, "LOGICAL UNIT NOT READY, OPERATION IN PROGRESS"},
        {0x04, 0x12, "LOGICAL UNIT NOT READY, OFFLINE"},
        {0x08, 0x00, "LOGICAL UNIT COMMUNICATION FAILURE"},
        {0x08, 0x01, "LOGICAL UNIT COMMUNICATION TIME-OUT"},
        {0x15, 0x00, "RANDOM POSITIONING ERROR"},
        {0x15, 0x01, "MECHANICAL POSITIONING ERROR"},
        {0x1A, 0x00, "PARAMETER LIST LENGTH ERROR"},
        {0x20, 0x00, "INVALID COMMAND OPERATION CODE"},
        {0x21, 0x01, "INVALID ELEMENT ADDRESS"},
        {0x24, 0x00, "INVALID FIELD IN CDB"},
        {0x25, 0x00, "LOGICAL UNIT NOT SUPPORTED"},
        {0x26, 0x00, "INVALID FIELD IN PARAMETER LIST"},
        {0x28, 0x00, "NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED"},
        {0x28, 0x01, "IMPORT OR EXPORT ELEMENT ACCESSED"},
        {0x29, 0x00, "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED"},
        {0x29, 0x01, "POWER ON OCCURRED"},
        {0x29, 0x02, "SCSI BUS RESET OCCURRED"},
        {0x29, 0x03, "BUS DEVICE RESET FUNCTION OCCURRED"},
        {0x29, 0x04, "DEVICE INTERNAL RESET"},
        {0x29, 0x07, "I_T NEXUS LOSS OCCURRED"},
        {0x2A, 0x01, "MODE PARAMETERS CHANGED"},
        {0x2A, 0x03, "RESERVATIONS PREEMPTED"},
        {0x2F, 0x00, "COMMANDS CLEARED BY ANOTHER INITIATOR"},
        {0x30, 0x00, "INCOMPATIBLE MEDIUM INSTALLED"},
        {0x3A, 0x00, "MEDIUM NOT PRESENT"},
        {0x3B, 0x0D, "MEDIUM DESTINATION ELEMENT FULL"},
        {0x3B, 0x0E, "MEDIUM SOURCE ELEMENT EMPTY"},
        {0x3B, 0x11, "MEDIUM MAGAZINE NOT ACCESSIBLE"},
        {0x3B, 0x12, "MEDIUM MAGAZINE REMOVED"},
        {0x3F, 0x01, "MICROCODE HAS BEEN CHANGED"},
        {0x44, 0x00, "INTERNAL TARGET FAILURE"},
        {0x4E, 0x00, "OVERLAPPED COMMANDS ATTEMPTED"},
        {0x53, 0x00, "MEDIA LOAD OR EJECT FAILED"},
        {0x53, 0x02, "MEDIUM REMOVAL PREVENTED"},
        {0x5D, 0x00, "FAILURE PREDICTION THRESHOLD EXCEEDED"},
    };
    for (const auto& e : kTable)
        if (e.asc == asc && e.ascq == ascq) return e.text;
    return "";
}

std::string describe(const SenseData& s) {
    std::string out = fmt::format("{} {:02X}/{:02X}/{:02X}", sense_key_name(s.key), s.key, s.asc, s.ascq);
    if (auto text = asc_text(s.asc, s.ascq); !text.empty()) out += " " + text;
    if (s.deferred) out += " (deferred)";
    return out;
}

std::string to_string(MoveState s) {
    switch (s) {
        case MoveState::Queued:
            return "queued";
        case MoveState::Moving:
            return "moving";
        case MoveState::DoneOk:
            return "done OK";
        case MoveState::DoneError:
            return "done with error";
        case MoveState::Aborted:
            return "aborted";
    }
    return fmt::format("state {}", static_cast<int>(s));
}

std::optional<StatusBlock> parse_status_block(std::span<const uint8_t> d) {
    if (d.size() < 18) return std::nullopt;
    StatusBlock b;
    b.state = d[2];
    b.progress = get_be16(&d[4]);
    b.source = get_be16(&d[6]);
    b.destination = get_be16(&d[8]);
    b.token = get_be32(&d[10]);
    b.seconds_since_accepted = get_be32(&d[14]);
    // DATA LENGTH says how much the device filled in; ALLOCATION LENGTH may have cut it shorter.
    const size_t end = std::min<size_t>(d.size(), 2u + get_be16(&d[0]));
    if (end > 18) {
        auto sense = d.subspan(18, end - 18);
        if (std::any_of(sense.begin(), sense.end(), [](uint8_t v) { return v != 0; })) b.sense = parse_sense(sense);
    }
    return b;
}

std::string to_string(ElementType t) {
    switch (t) {
        case ElementType::All:
            return "element";
        case ElementType::Transport:
            return "transport";
        case ElementType::Storage:
            return "slot";
        case ElementType::ImportExport:
            return "import/export";
        case ElementType::DataTransfer:
            return "drive";
    }
    return fmt::format("type {}", static_cast<int>(t));
}

ElementStatus parse_element_status(std::span<const uint8_t> d) {
    ElementStatus out;
    if (d.size() < 8) {
        out.error = fmt::format("READ ELEMENT STATUS returned {} bytes, less than its 8-byte header", d.size());
        return out;
    }
    // Byte counts say what the device had; the allocation length may have cut the data shorter.
    const size_t end = std::min<size_t>(d.size(), 8u + get_be24(&d[5]));
    size_t at = 8;
    while (at + 8 <= end) {
        const uint8_t type = d[at] & 0x0F;
        const bool pvoltag = d[at + 1] & 0x80;
        const size_t desc_len = get_be16(&d[at + 2]);
        const size_t page_end = std::min(end, at + 8 + static_cast<size_t>(get_be24(&d[at + 5])));
        if (desc_len < 12) {
            out.error = fmt::format("element descriptor length {} at byte {} is shorter than 12", desc_len, at + 2);
            return out;
        }
        at += 8;
        for (; at + desc_len <= page_end; at += desc_len) {
            const uint8_t* e = &d[at];
            ElementDescriptor el;
            el.type = static_cast<ElementType>(type);
            el.address = get_be16(e);
            el.full = e[2] & 0x01;
            el.except = e[2] & 0x04;
            el.access = e[2] & 0x08;
            el.asc = e[4];
            el.ascq = e[5];
            if (e[9] & 0x80) el.source = get_be16(e + 10);
            if (pvoltag && desc_len >= 12 + 32) {
                std::string tag(reinterpret_cast<const char*>(e + 12), 32);
                tag.erase(std::find(tag.begin(), tag.end(), '\0'), tag.end());
                tag.erase(tag.find_last_not_of(' ') + 1);
                el.volume_tag = tag;
            }
            out.elements.push_back(el);
        }
        at = std::max(at, page_end);
    }
    return out;
}

std::optional<uint32_t> parse_number(const std::string& text, uint32_t max) {
    std::string_view s = text;
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
        base = 16;
    }
    if (s.empty()) return std::nullopt;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
    return static_cast<uint32_t>(v);
}

}  // namespace vtl::client
