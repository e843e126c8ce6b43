// Log pages of one logical unit. Devices declare pages with a function that produces their
// parameters live; LOG SENSE and LOG SELECT (supported pages, subpages, parameter pointer,
// parameter reset) are built on this.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vtl {

// LOG SENSE/SELECT PAGE CONTROL.
enum class LogPc : uint8_t { Threshold = 0, Cumulative = 1, DefaultThreshold = 2, DefaultCumulative = 3 };

struct LogParameter {
    uint16_t code = 0;
    // Control byte: DU b7, TSD b5, ETC b4, TMC b3-2, FORMAT AND LINKING b1-0.
    uint8_t control = 0;
    std::vector<uint8_t> value;
};

// Control bytes for the usual parameter kinds.
inline constexpr uint8_t kLogBoundedCounter = 0x02;  // binary, format and linking 10b
inline constexpr uint8_t kLogBinary = 0x03;          // binary list, 11b
inline constexpr uint8_t kLogAscii = 0x01;           // ASCII list, 01b

struct LogPage {
    uint8_t code = 0;
    uint8_t subpage = 0;
    std::string name;
    // Parameters in ascending code order, for the given PAGE CONTROL.
    std::function<std::vector<LogParameter>(LogPc pc)> parameters;
    // LOG SELECT PCR=1 (or a page reset): clears resettable values. Null: nothing to reset.
    std::function<void()> reset;
};

class LogPages {
public:
    void add(LogPage page);
    const LogPage* find(uint8_t code, uint8_t subpage) const;
    // Ascending by page, then subpage.
    std::vector<const LogPage*> all() const;

private:
    std::map<std::pair<uint8_t, uint8_t>, LogPage> pages_;
};

}  // namespace vtl
