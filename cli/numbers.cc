#include "numbers.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace heapdrift::cli {
namespace {

// A decimal as digits and a count of fraction digits: exact, no rounding.
struct Decimal {
  unsigned __int128 digits = 0;
  int fraction_digits = 0;
  std::string_view unit;  // whatever letters follow the number
};

constexpr int kMaxDigits = 30;  // 10^30 < 2^127: no overflow below

std::optional<Decimal> SplitDecimal(std::string_view text) {
  Decimal decimal;
  size_t i = 0;
  int digit_count = 0;
  bool in_fraction = false, any_integer_digit = false, any_fraction_digit = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    if (++digit_count > kMaxDigits) return std::nullopt;
    decimal.digits = decimal.digits * 10 + static_cast<unsigned>(c - '0');
    (in_fraction ? any_fraction_digit : any_integer_digit) = true;
    if (in_fraction) ++decimal.fraction_digits;
  }
  if (!any_integer_digit || (in_fraction && !any_fraction_digit)) return std::nullopt;
  decimal.unit = text.substr(i);
  return decimal;
}

unsigned __int128 PowerOfTen(int exponent) {
  unsigned __int128 value = 1;
  for (int i = 0; i < exponent; ++i) value *= 10;
  return value;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<uint64_t> SizeUnit(std::string_view unit) {
  if (unit.empty() || EqualsIgnoringCase(unit, "b")) return 1;
  constexpr std::string_view kPrefixes = "kmgt";
  char prefix = static_cast<char>(std::tolower(static_cast<unsigned char>(unit[0])));
  size_t power = kPrefixes.find(prefix);
  if (power == std::string_view::npos) return std::nullopt;
  std::string_view rest = unit.substr(1);
  if (!rest.empty() && !EqualsIgnoringCase(rest, "b") && !EqualsIgnoringCase(rest, "ib")) {
    return std::nullopt;
  }
  return uint64_t{1} << (10 * (power + 1));
}

std::string Quoted(std::string_view text) {
  return fmt::format("'{}'", text.size() > 64 ? std::string(text.substr(0, 64)) + "..." : text);
}

}  // namespace

std::string DescribeSize(uint64_t bytes) {
  constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  for (int power = 4; power >= 1; --power) {
    uint64_t unit = uint64_t{1} << (10 * power);
    if (bytes >= unit && bytes % unit == 0) return fmt::format("{} {}", bytes / unit, kUnits[power - 1]);
  }
  return fmt::format("{} B", bytes);
}

Parsed<uint64_t> ParseSize(std::string_view text, uint64_t min, uint64_t max) {
  std::string range = fmt::format("{} to {}", DescribeSize(min), DescribeSize(max));
  std::optional<Decimal> decimal = SplitDecimal(text);
  std::optional<uint64_t> unit = decimal ? SizeUnit(decimal->unit) : std::nullopt;
  if (!decimal || !unit) {
    return {std::nullopt, fmt::format("{} is not a size (bytes, or a number with a unit such as "
                                      "64KiB or 1.5MiB; {})",
                                      Quoted(text), range)};
  }
  if (decimal->digits > (~static_cast<unsigned __int128>(0)) / *unit) {
    return {std::nullopt, fmt::format("{} is out of range ({})", Quoted(text), range)};
  }
  unsigned __int128 scale = PowerOfTen(decimal->fraction_digits);
  unsigned __int128 scaled = decimal->digits * *unit;
  if (scaled % scale != 0) {
    return {std::nullopt, fmt::format("{} is not a whole number of bytes", Quoted(text))};
  }
  unsigned __int128 bytes = scaled / scale;
  if (bytes < min || bytes > max) {
    return {std::nullopt, fmt::format("{} is out of range ({})", Quoted(text), range)};
  }
  return {static_cast<uint64_t>(bytes), {}};
}

Parsed<uint64_t> ParseCount(std::string_view text, uint64_t min, uint64_t max) {
  std::optional<Decimal> decimal = SplitDecimal(text);
  if (!decimal || decimal->fraction_digits != 0 || !decimal->unit.empty()) {
    return {std::nullopt,
            fmt::format("{} is not a whole number (expected {} to {})", Quoted(text), min, max)};
  }
  if (decimal->digits < min || decimal->digits > max) {
    return {std::nullopt, fmt::format("{} is out of range ({} to {})", Quoted(text), min, max)};
  }
  return {static_cast<uint64_t>(decimal->digits), {}};
}

Parsed<double> ParseSeconds(std::string_view text, double min, double max) {
  std::optional<Decimal> decimal = SplitDecimal(text);
  if (!decimal || !decimal->unit.empty()) {
    return {std::nullopt, fmt::format("{} is not a number of seconds (e.g. 2.5)", Quoted(text))};
  }
  double seconds = std::strtod(std::string(text).c_str(), nullptr);
  if (!std::isfinite(seconds) || seconds < min || seconds > max) {
    return {std::nullopt,
            fmt::format("{} is out of range ({:g} to {:g} seconds)", Quoted(text), min, max)};
  }
  return {seconds, {}};
}

Parsed<std::chrono::milliseconds> ParseDuration(std::string_view text,
                                                std::chrono::milliseconds min,
                                                std::chrono::milliseconds max) {
  std::string expected = fmt::format("{} is not a duration (e.g. 90s, 5m, 1h, 7d, 500ms; no unit "
                                     "means seconds)",
                                     Quoted(text));
  std::optional<Decimal> decimal = SplitDecimal(text);
  if (!decimal) return {std::nullopt, expected};
  uint64_t unit_ms = 0;
  if (decimal->unit.empty() || decimal->unit == "s") {
    unit_ms = 1000;
  } else if (decimal->unit == "ms") {
    unit_ms = 1;
  } else if (decimal->unit == "m") {
    unit_ms = 60'000;
  } else if (decimal->unit == "h") {
    unit_ms = 3'600'000;
  } else if (decimal->unit == "d") {
    unit_ms = 86'400'000;
  } else {
    return {std::nullopt, expected};
  }
  unsigned __int128 scale = PowerOfTen(decimal->fraction_digits);
  unsigned __int128 ms = decimal->digits * unit_ms / scale;  // fractions of a ms are dropped
  if (ms < static_cast<uint64_t>(min.count()) || ms > static_cast<uint64_t>(max.count())) {
    return {std::nullopt, fmt::format("{} is out of range ({} ms to {} ms)", Quoted(text),
                                      min.count(), max.count())};
  }
  return {std::chrono::milliseconds(static_cast<int64_t>(ms)), {}};
}

}  // namespace heapdrift::cli
