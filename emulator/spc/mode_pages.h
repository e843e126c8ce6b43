// Mode pages of one logical unit with their current, changeable, default and saved values.
// MODE SENSE and MODE SELECT (6 and 10) are built on this; devices only declare pages.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "scsi/sense.h"

namespace vtl {

enum class PageControl : uint8_t { Current = 0, Changeable = 1, Default = 2, Saved = 3 };

inline constexpr uint8_t kAllPages = 0x3F;
inline constexpr uint8_t kAllSubpages = 0xFF;

struct ModePage {
    uint8_t code = 0;
    uint8_t subpage = 0;  // 0: page_0 format (2-byte header); else sub_page format (4-byte header)
    bool savable = true;  // PS bit; saved values live with the LU
    // The whole page, header included, PS bit clear. Its length fields must be right.
    std::vector<uint8_t> defaults;
    // Same size: a 1 bit may be changed by MODE SELECT. Header bytes are 0.
    std::vector<uint8_t> changeable;
    // Further checks of a new page value, beyond the changeable mask. `offset` is where the page
    // starts in the parameter list, for the field pointer.
    std::function<std::optional<scsi::Sense>(std::span<const uint8_t> page, size_t offset)> validate;
    // Fills live fields (read-only state the device owns) into the page before it is reported.
    std::function<void(std::vector<uint8_t>& page)> refresh;
};

// Builds a page's header for `length` bytes after it: page_0 format when subpage is 0.
std::vector<uint8_t> mode_page_header(uint8_t code, uint8_t subpage, size_t length);

class ModePages {
public:
    // The page's current and saved values start as its defaults.
    void add(ModePage page);
    bool contains(uint8_t code, uint8_t subpage) const;
    // Current value of a page that exists (refreshed). Throws std::out_of_range otherwise.
    std::vector<uint8_t> current(uint8_t code, uint8_t subpage = 0) const;

    // The pages MODE SENSE returns for a PAGE CODE (3Fh: all) and SUBPAGE CODE (FFh: all), in
    // ascending order, or the error: 05/24/00 pointing at `page_code_byte` (or the subpage byte
    // just after it) for an unsupported page, 05/39/00 for saved values when none of the pages
    // asked for is savable (among savable ones, a non-savable page reports its defaults).
    std::variant<std::vector<uint8_t>, scsi::Sense> report(PageControl pc, uint8_t code, uint8_t subpage,
                                                           uint16_t page_code_byte) const;

    // MODE SELECT page data (after header and block descriptors), at `offset` in the parameter
    // list. Every page is checked before any changes: unknown page, wrong length, PS set, or a
    // changed bit outside the changeable mask is 05/26/00 with the field pointer; a truncated
    // page is 05/1A/00. With `save` (SP=1) every savable page's current value, after the
    // change, becomes its saved value; a page in the list that cannot be saved is 05/24/00
    // pointing at SP (byte 1 bit 0 of both MODE SELECT CDBs). Sets `*changed` (if not null)
    // when a current value changed.
    std::optional<scsi::Sense> select(std::span<const uint8_t> pages, size_t offset, bool save, bool* changed);
    // The checks of select() alone, changing nothing: MODE SELECT validates its pages before it
    // lets the device apply the header and block descriptors, so the command is all-or-nothing.
    std::optional<scsi::Sense> validate(std::span<const uint8_t> pages, size_t offset, bool save) const;

    // LUN reset and power on: current values return to the saved ones.
    void restore_saved();

private:
    struct Entry {
        ModePage page;
        std::vector<uint8_t> current;
        std::vector<uint8_t> saved;
    };
    std::vector<uint8_t> value(const Entry& e, PageControl pc) const;
    using Key = std::pair<uint8_t, uint8_t>;
    // One page of a MODE SELECT list: which entry, and where its bytes are in the list.
    struct Incoming {
        Key key;
        size_t at;
        size_t size;
    };
    std::variant<std::vector<Incoming>, scsi::Sense> parse(std::span<const uint8_t> pages, size_t offset,
                                                           bool save) const;
    std::map<Key, Entry> pages_;
};

}  // namespace vtl
