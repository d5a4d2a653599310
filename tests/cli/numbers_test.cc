#include "numbers.h"

#include <gtest/gtest.h>

namespace heapdrift::cli {
namespace {

using std::chrono::milliseconds;
constexpr uint64_t kHuge = uint64_t{1} << 50;

TEST(ParseSize, TakesBytesAndBinaryUnits) {
  EXPECT_EQ(ParseSize("4096", 0, kHuge).value, 4096u);
  EXPECT_EQ(ParseSize("64KiB", 0, kHuge).value, 65536u);
  EXPECT_EQ(ParseSize("64k", 0, kHuge).value, 65536u);
  EXPECT_EQ(ParseSize("64KB", 0, kHuge).value, 65536u);
  EXPECT_EQ(ParseSize("1.5MiB", 0, kHuge).value, 1572864u);
  EXPECT_EQ(ParseSize("2g", 0, kHuge).value, uint64_t{2} << 30);
  EXPECT_EQ(ParseSize("0", 0, kHuge).value, 0u);
  EXPECT_EQ(ParseSize("10B", 0, kHuge).value, 10u);
}

TEST(ParseSize, RefusesWhatWouldChangeTheMeaning) {
  for (const char* bad : {"-5", "-1", "+5", "", " 5", "5 ", "1.5", "0.1KiB", "abc", "5XB", "1e3",
                          "nan", "inf", "18446744073709551616", "99999999999999999999999999999999",
                          "1.", ".5", "5KiBs"}) {
    Parsed<uint64_t> parsed = ParseSize(bad, 0, kHuge);
    EXPECT_FALSE(parsed.value) << bad << " gave " << *parsed.value;
    EXPECT_NE(parsed.error.find('\'' + std::string(bad) + '\''), std::string::npos) << parsed.error;
  }
}

TEST(ParseSize, EnforcesTheRange) {
  EXPECT_FALSE(ParseSize("0", 1, 100).value);
  EXPECT_FALSE(ParseSize("101", 1, 100).value);
  EXPECT_EQ(ParseSize("100", 1, 100).value, 100u);
  EXPECT_NE(ParseSize("2TiB", 1, uint64_t{1} << 40).error.find("1 B to 1 TiB"), std::string::npos);
}

TEST(ParseCount, TakesOnlyWholeNumbers) {
  EXPECT_EQ(ParseCount("20", 1, 100).value, 20u);
  for (const char* bad : {"0", "-3", "1e3", "2.0", "20k", "abc", "", "101"}) {
    EXPECT_FALSE(ParseCount(bad, 1, 100).value) << bad;
  }
}

TEST(ParseSeconds, TakesFiniteDecimals) {
  EXPECT_DOUBLE_EQ(*ParseSeconds("2.5", 0, 1e9).value, 2.5);
  EXPECT_DOUBLE_EQ(*ParseSeconds("0", 0, 1e9).value, 0);
  for (const char* bad : {"-1", "nan", "inf", "1e3", "2s", "", "."}) {
    EXPECT_FALSE(ParseSeconds(bad, 0, 1e9).value) << bad;
  }
  EXPECT_FALSE(ParseSeconds("0.4", 0.5, 3600).value);
}

TEST(ParseDuration, TakesUnitsAndSecondsByDefault) {
  milliseconds min{1}, max{milliseconds::max()};
  EXPECT_EQ(ParseDuration("90", min, max).value, milliseconds(90'000));
  EXPECT_EQ(ParseDuration("90s", min, max).value, milliseconds(90'000));
  EXPECT_EQ(ParseDuration("1.5m", min, max).value, milliseconds(90'000));
  EXPECT_EQ(ParseDuration("2h", min, max).value, milliseconds(7'200'000));
  EXPECT_EQ(ParseDuration("250ms", min, max).value, milliseconds(250));
  EXPECT_EQ(ParseDuration("7d", min, max).value, milliseconds(7 * 86'400'000LL));
  for (const char* bad : {"-1s", "1x", "1w", "s", "", "1 s"}) {
    EXPECT_FALSE(ParseDuration(bad, min, max).value) << bad;
  }
  EXPECT_FALSE(ParseDuration("0.5", milliseconds(1000), max).value);
}

}  // namespace
}  // namespace heapdrift::cli
