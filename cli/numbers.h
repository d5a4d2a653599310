// The one parser for the numbers users type: sizes ("64KiB"), counts ("20"),
// seconds ("2.5") and durations ("90s", "5m"). Each rejects what would
// silently change a meaning: signs, fractions where a whole number is meant,
// overflow, NaN and infinities, trailing junk. On failure the error says what
// was expected, for the caller to prefix with the option's name.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace heapdrift::cli {

template <typename T>
struct Parsed {
  std::optional<T> value;
  std::string error;  // set when !value
};

// Bytes: a whole number, or a decimal with a unit: B, K/KB/KiB, M/MB/MiB,
// G/GB/GiB, T/TB/TiB (case-insensitive; every unit is a power of 1024, as
// in CLI11 and most tools' flags). "1.5MiB" is 1572864; "1.5" is refused.
Parsed<uint64_t> ParseSize(std::string_view text, uint64_t min, uint64_t max);

// A whole number of things, no unit.
Parsed<uint64_t> ParseCount(std::string_view text, uint64_t min, uint64_t max);

// A finite decimal number of seconds, e.g. "2.5".
Parsed<double> ParseSeconds(std::string_view text, double min, double max);

// A length of time: a decimal with a unit, ms, s, m, h or d; no unit means seconds.
Parsed<std::chrono::milliseconds> ParseDuration(std::string_view text,
                                                std::chrono::milliseconds min,
                                                std::chrono::milliseconds max);

// A limit for messages: "1 TiB" when exact in the largest unit, else bytes.
std::string DescribeSize(uint64_t bytes);

}  // namespace heapdrift::cli
