// log and exp for the sampler, without libm.
//
// Why not <cmath>: std::log/std::exp live in libm, and the agent may link only
// libc (the host decides which libm it loads, and a preloaded library should
// not add one). Both functions are accurate to ~1e-12 relative, far beyond what
// sampling statistics need; tests/agent/fast_math_test.cc checks them against
// libm.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace heapdrift::agent {

inline constexpr double kLn2 = 0.69314718055994530942;

// Natural log of a positive, normal, finite x.
inline double NaturalLog(double x) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
  // log(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), s = (m-1)/(m+1), |s| < 0.172.
  uint64_t bits = std::bit_cast<uint64_t>(x);
  int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    ++exponent;
  }
  double s = (m - 1.0) / (m + 1.0);
  double s2 = s * s;
  double series = 1.0 / 15;
  series = 1.0 / 13 + s2 * series;
  series = 1.0 / 11 + s2 * series;
  series = 1.0 / 9 + s2 * series;
  series = 1.0 / 7 + s2 * series;
  series = 1.0 / 5 + s2 * series;
  series = 1.0 / 3 + s2 * series;
  series = 1.0 + s2 * series;
  return exponent * kLn2 + 2.0 * s * series;
}

// e^y for y <= 709; underflows to 0 below about -708.
inline double Exp(double y) {
  if (y < -708.0) return 0.0;
  // y = k ln2 + r, |r| <= ln2/2; ln2 split in two so r keeps full precision.
  // Rounded by hand: __builtin_round may become a call into libm.
  double scaled = y * (1.0 / kLn2);
  double k = static_cast<double>(static_cast<int64_t>(scaled + (scaled >= 0 ? 0.5 : -0.5)));
  double r = (y - k * 0.6931471803691238) - k * 1.9082149292705877e-10;
  // Taylor to r^13 by Horner with 1/k! as constants: no division (a sample
  // pays this once; thirteen dependent divisions were ~60 ns of it).
  constexpr auto kInverseFactorials = [] {
    std::array<double, 14> inverse{};
    double factorial = 1.0;
    for (int n = 0; n < 14; ++n) {
      if (n > 0) factorial *= n;
      inverse[n] = 1.0 / factorial;
    }
    return inverse;
  }();
  double sum = kInverseFactorials[13];
  for (int n = 12; n >= 0; --n) sum = kInverseFactorials[n] + r * sum;
  int64_t biased = static_cast<int64_t>(k) + 1023;
  if (biased <= 0) return 0.0;
  return sum * std::bit_cast<double>(static_cast<uint64_t>(biased) << 52);
}

// 1 - e^(-x) for x >= 0, accurate also for tiny x where the subtraction would cancel.
inline double OneMinusExpNeg(double x) {
  if (x < 1e-3) {
    return x * (1.0 - x * (0.5 - x * (1.0 / 6 - x * (1.0 / 24 - x * (1.0 / 120)))));
  }
  return 1.0 - Exp(-x);
}

}  // namespace heapdrift::agent
