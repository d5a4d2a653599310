#include "fast_math.h"

#include <gtest/gtest.h>

#include <cmath>

namespace heapdrift::agent {
namespace {

TEST(FastMath, NaturalLogMatchesLibmAcrossMagnitudes) {
  for (double x = 1e-300; x < 1e300; x *= 1.37) {
    EXPECT_NEAR(NaturalLog(x), std::log(x), 1e-11 * std::max(1.0, std::fabs(std::log(x))))
        << "x=" << x;
  }
  EXPECT_DOUBLE_EQ(NaturalLog(1.0), 0.0);
}

TEST(FastMath, ExpMatchesLibm) {
  for (double y = -700; y < 700; y += 0.731) {
    EXPECT_NEAR(Exp(y) / std::exp(y), 1.0, 1e-12) << "y=" << y;
  }
  EXPECT_EQ(Exp(-800), 0.0);
}

TEST(FastMath, OneMinusExpNegIsAccurateForTinyAndLargeArguments) {
  for (double x = 1e-12; x < 50; x *= 1.5) {
    EXPECT_NEAR(OneMinusExpNeg(x) / -std::expm1(-x), 1.0, 1e-12) << "x=" << x;
  }
}

}  // namespace
}  // namespace heapdrift::agent
