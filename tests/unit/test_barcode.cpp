// Barcodes: what is accepted, what the LTO suffix says, and ranges.
#include <gtest/gtest.h>

#include "config/barcode.h"

using namespace vtl::config;

namespace {

struct SuffixCase {
    const char* barcode;
    std::optional<MediaType> type;
    std::optional<int> generation;
    bool type_m;
};

}  // namespace

TEST(Barcode, SuffixRules) {
    const SuffixCase cases[] = {
        {"VTL001L5", MediaType::Data, 5, false},     {"VTL001L9", MediaType::Data, 9, false},
        {"VTL001M8", MediaType::Data, 7, true},      {"VTL001LV", MediaType::Worm, 5, false},
        {"VTL001LY", MediaType::Worm, 8, false},     {"VTL001LZ", MediaType::Worm, 9, false},
        {"VTL001CU", MediaType::Cleaning, {}, false}, {"CLN001L8", MediaType::Cleaning, {}, false},
        {"CLN", MediaType::Cleaning, {}, false},     {"VTL001L4", {}, {}, false},
        {"VTL001M7", {}, {}, false},                 {"VTL001LU", {}, {}, false},
        {"L8", {}, {}, false},                       {"A", {}, {}, false},
        {"1234567890ABCDEF", {}, {}, false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.barcode);
        const auto info = parse_barcode(c.barcode);
        ASSERT_TRUE(info.has_value());
        EXPECT_EQ(info->type, c.type);
        EXPECT_EQ(info->generation, c.generation);
        EXPECT_EQ(info->type_m, c.type_m);
        EXPECT_EQ(barcode_error(c.barcode), std::nullopt);
    }
}

TEST(Barcode, HostileBarcodesAreRejectedWithTheReason) {
    const std::pair<std::string, std::string> cases[] = {
        {"../../etc", "character 1 '.' is not A-Z or 0-9"},
        {"VTL/01", "character 4 '/' is not A-Z or 0-9"},
        {"A B", "character 2 is a space; only A-Z and 0-9 are allowed"},
        {"", "empty; expected 1 to 16 characters A-Z, 0-9"},
        {"ABCDEFGHIJKLMNOPQ", "17 characters long; at most 16 characters A-Z, 0-9"},
        {"vtl001l8", "character 1 'v' is lower case; only A-Z and 0-9 are allowed"},
        {"VTL\xC3\x84" "01", "byte 4 (0xC3) is not A-Z or 0-9"},
        {std::string("VTL\0" "01", 6), "byte 4 (0x00) is not A-Z or 0-9"},
        {"VTL\t1", "byte 4 (0x09) is not A-Z or 0-9"},
        {"VTL-01", "character 4 '-' is not A-Z or 0-9"},
    };
    for (const auto& [barcode, reason] : cases) {
        SCOPED_TRACE(quote(barcode));
        EXPECT_EQ(barcode_error(barcode), reason);
        EXPECT_EQ(parse_barcode(barcode), std::nullopt);
    }
}

TEST(Barcode, Describe) {
    EXPECT_EQ(describe(*parse_barcode("VTL001L8")), "LTO-8 data");
    EXPECT_EQ(describe(*parse_barcode("VTL001LY")), "LTO-8 WORM");
    EXPECT_EQ(describe(*parse_barcode("VTL001M8")), "LTO-7 Type M data (LTO-8 format)");
    EXPECT_EQ(describe(*parse_barcode("CLN001CU")), "cleaning");
    EXPECT_EQ(describe(*parse_barcode("DIAG01")), "no known suffix");
}

TEST(Barcode, RangeCountsTheDigitsBeforeTheSuffixKeepingTheirWidth) {
    std::string error;
    const auto codes = expand_barcode_range("VTL001L8", 40, error);
    ASSERT_EQ(codes.size(), 40u) << error;
    EXPECT_EQ(codes.front(), "VTL001L8");
    EXPECT_EQ(codes[9], "VTL010L8");
    EXPECT_EQ(codes.back(), "VTL040L8");

    EXPECT_EQ(expand_barcode_range("A0998LY", 2, error), (std::vector<std::string>{"A0998LY", "A0999LY"}));
    EXPECT_EQ(expand_barcode_range("CLN9CU", 1, error), (std::vector<std::string>{"CLN9CU"}));
    // Only the digits right before the suffix count; earlier digits are part of the prefix.
    EXPECT_EQ(expand_barcode_range("1A09L6", 2, error), (std::vector<std::string>{"1A09L6", "1A10L6"}));
}

TEST(Barcode, RangeErrors) {
    std::string error;
    EXPECT_TRUE(expand_barcode_range("VTL998L8", 3, error).empty());
    EXPECT_EQ(error, "3 cartridges from \"VTL998L8\" would need the number 1000, wider than the 3 digits before the suffix");
    EXPECT_EQ(expand_barcode_range("VTL998L8", 2, error).back(), "VTL999L8");

    EXPECT_TRUE(expand_barcode_range("VTLABCL8", 2, error).empty());
    EXPECT_EQ(error, "\"VTLABCL8\" has no digits before its 2-character suffix to count with");

    EXPECT_TRUE(expand_barcode_range("vtl001l8", 2, error).empty());
    EXPECT_EQ(error, "barcode \"vtl001l8\" is invalid: character 1 'v' is lower case; only A-Z and 0-9 are allowed");

    EXPECT_TRUE(expand_barcode_range("99999999999999L8", 2, error).empty());
    EXPECT_NE(error.find("wider than the 14 digits"), std::string::npos);
}

TEST(Barcode, NextBarcode) {
    EXPECT_EQ(next_barcode("VTL009L8"), "VTL010L8");
    EXPECT_EQ(next_barcode("VTL999L8"), std::nullopt);
    EXPECT_EQ(next_barcode("DIAG"), std::nullopt);
}

TEST(Barcode, QuoteShowsUnprintableBytes) {
    EXPECT_EQ(quote("A\"B\\C\n\xFF"), "\"A\\\"B\\\\C\\x0A\\xFF\"");
    EXPECT_EQ(quote(std::string(50, 'X')), "\"" + std::string(40, 'X') + "...\"");
}
