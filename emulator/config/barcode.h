// Cartridge barcodes (volume serials as the library's scanner reads them). A barcode names a
// cartridge in the inventory and, later, its file in the cartridge store, so only A-Z and 0-9
// are accepted: no barcode can spell a path, a space or a control character.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vtl::config {

enum class MediaType { Data, Cleaning, Worm, Diagnostic };

std::string_view to_string(MediaType type);
std::optional<MediaType> media_type_from_string(std::string_view name);

inline constexpr size_t kMaxBarcodeLength = 16;

// What the LTO label convention says about a cartridge. Unknown suffixes leave both empty.
struct BarcodeInfo {
    std::optional<MediaType> type;
    std::optional<int> generation;  // LTO generation of the medium
    bool type_m = false;            // "M8": an LTO-7 medium formatted for LTO-8 drives

    bool operator==(const BarcodeInfo&) const = default;
};

// nullopt for a valid barcode, else why it is not one ("character 3 '.' is not A-Z or 0-9").
std::optional<std::string> barcode_error(std::string_view barcode);

// nullopt when barcode_error() has a reason. Suffix rules (the last two characters, when there is
// a volume serial before them): L5..L9 data generation 5..9; M8 LTO-7 Type M; LV..LZ WORM
// generation 5..9; CU cleaning. A "CLN" prefix means cleaning whatever the suffix.
std::optional<BarcodeInfo> parse_barcode(std::string_view barcode);

// "LTO-8 data", "LTO-7 Type M data (LTO-8 format)", "LTO-6 WORM", "cleaning".
std::string describe(const BarcodeInfo& info);

// `count` barcodes from `first` on, counting up the digits just before the 2-character suffix
// and keeping their width: VTL001L8 x3 -> VTL001L8, VTL002L8, VTL003L8. Empty with `error` set
// when `first` is invalid, has no such digits, or the count overflows their width.
std::vector<std::string> expand_barcode_range(std::string_view first, uint32_t count, std::string& error);

// The barcode after `barcode` in a range, if it has one (for writing ranges back out).
std::optional<std::string> next_barcode(std::string_view barcode);

// A barcode or other untrusted text, quoted for a message: non-printable bytes as \xNN, long
// text cut short.
std::string quote(std::string_view text);

}  // namespace vtl::config
