// WORK IN PROGRESS: being written now.
#include "spc/mode_pages.h"

#include <stdexcept>

namespace vtl {

std::vector<uint8_t> mode_page_header(uint8_t, uint8_t, size_t) { return {}; }
void ModePages::add(ModePage) {}
bool ModePages::contains(uint8_t, uint8_t) const { return false; }
std::vector<uint8_t> ModePages::current(uint8_t, uint8_t) const { throw std::out_of_range("mode page"); }
std::variant<std::vector<uint8_t>, scsi::Sense> ModePages::report(PageControl, uint8_t, uint8_t, uint16_t) const {
    return scsi::Sense::invalid_cdb_field(2);
}
std::optional<scsi::Sense> ModePages::select(std::span<const uint8_t>, size_t, bool, bool*) { return std::nullopt; }
void ModePages::restore_saved() {}
std::vector<uint8_t> ModePages::value(const Entry&, PageControl) const { return {}; }

}  // namespace vtl
