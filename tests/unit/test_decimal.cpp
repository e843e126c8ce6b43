#include <gtest/gtest.h>

#include "config/decimal.h"

namespace vtl::config {
namespace {

TEST(SplitDecimal, WholeFractionAndUnit) {
    const auto n = split_decimal("2.50s", 1000);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->whole, 2u);
    EXPECT_EQ(n->frac, 50u);
    EXPECT_EQ(n->frac_scale, 100u);
    EXPECT_FALSE(n->whole_over);
    EXPECT_FALSE(n->finer);
    EXPECT_EQ(n->unit, "s");
}

TEST(SplitDecimal, RefusesMissingDigits) {
    EXPECT_FALSE(split_decimal("", 10));
    EXPECT_FALSE(split_decimal("s", 10));
    EXPECT_FALSE(split_decimal(".5s", 10));
    EXPECT_FALSE(split_decimal("5.s", 10));
}

TEST(SplitDecimal, ClampsAtTheLimit) {
    auto n = split_decimal("1000MiB", 1000);
    ASSERT_TRUE(n);
    EXPECT_FALSE(n->whole_over);
    EXPECT_EQ(n->whole, 1000u);
    n = split_decimal("1001", 1000);
    ASSERT_TRUE(n);
    EXPECT_TRUE(n->whole_over);
    EXPECT_EQ(n->whole, 1000u);
    n = split_decimal("18446744073709551615B", UINT64_MAX);
    ASSERT_TRUE(n);
    EXPECT_FALSE(n->whole_over);
    EXPECT_EQ(n->whole, UINT64_MAX);
    EXPECT_TRUE(split_decimal("18446744073709551616B", UINT64_MAX)->whole_over);
}

TEST(SplitDecimal, KeepsTwelveDecimalsAndFlagsFinerOnes) {
    auto n = split_decimal("1.0000000000010", 10);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->frac, 1u);
    EXPECT_EQ(n->frac_scale, 1'000'000'000'000u);
    EXPECT_FALSE(n->finer);  // trailing zeros past 12 digits change nothing
    n = split_decimal("1.0000000000001", 10);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->frac, 0u);
    EXPECT_TRUE(n->finer);
}

}  // namespace
}  // namespace vtl::config
