// The growth statistics on synthetic series: growth, plateau, churn, noise,
// step and shrinkage, with and without sampling noise.
#include "trend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace heapdrift::cli {
namespace {

struct Series {
  std::vector<double> seconds, values;
};

template <typename Shape>
Series Make(int points, Shape shape, double noise = 0, uint64_t seed = 1) {
  std::mt19937_64 random(seed);
  std::normal_distribution<double> gauss(0, noise > 0 ? noise : 1);
  Series series;
  for (int i = 0; i < points; ++i) {
    double t = i;  // one snapshot per second
    series.seconds.push_back(t);
    series.values.push_back(shape(t) + (noise > 0 ? gauss(random) : 0));
  }
  return series;
}

Classification ClassifySeries(const Series& series, double noise_bytes = 0) {
  TrendStats trend = ComputeTrend(series.seconds, series.values);
  return Classify(trend, series.seconds.back() - series.seconds.front(), noise_bytes,
                  series.values.size());
}

TEST(Trend, TheilSenIgnoresAnOutlier) {
  Series series = Make(30, [](double t) { return 1000 + 500 * t; });
  series.values.back() = 0;  // a teardown
  EXPECT_NEAR(TheilSenSlope(series.seconds, series.values), 500, 1e-9);
}

TEST(Trend, MannKendallOnMonotoneFlatAndTiedSeries) {
  Series rising = Make(20, [](double t) { return t; });
  EXPECT_GT(MannKendallZ(rising.values), 5);
  Series falling = Make(20, [](double t) { return -t; });
  EXPECT_LT(MannKendallZ(falling.values), -5);
  Series constant = Make(20, [](double) { return 7; });
  EXPECT_EQ(MannKendallZ(constant.values), 0);
}

TEST(Trend, SteadyGrowthUnderSamplingNoiseIsGrowing) {
  // 400 KB/s under noise of 300 KB per snapshot, 20 snapshots.
  Series series = Make(20, [](double t) { return 2e6 + 4e5 * t; }, 3e5, 3);
  Classification result = ClassifySeries(series, 3e5);
  EXPECT_EQ(result.verdict, Verdict::kGrowing);
  EXPECT_GT(result.confidence, 0.99);
  EXPECT_NEAR(TheilSenSlope(series.seconds, series.values), 4e5, 0.25 * 4e5);
}

TEST(Trend, ACacheThatFilledAndStoppedIsAPlateau) {
  Series series = Make(30, [](double t) { return t < 10 ? 8e5 * t : 8e6; }, 5e4, 4);
  EXPECT_EQ(ClassifySeries(series, 5e4).verdict, Verdict::kPlateau);
}

TEST(Trend, AOneTimeStepIsNotGrowth) {
  Series series = Make(30, [](double t) { return t < 8 ? 1e6 : 9e6; }, 5e4, 5);
  EXPECT_EQ(ClassifySeries(series, 5e4).verdict, Verdict::kPlateau);
}

TEST(Trend, ChurnAroundAFlatLevelIsFlat) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Series series = Make(30, [](double) { return 4e6; }, 6e5, seed);
    Verdict verdict = ClassifySeries(series, 6e5).verdict;
    EXPECT_NE(verdict, Verdict::kGrowing) << "seed " << seed;
  }
}

TEST(Trend, GrowthSmallerThanTheSamplingNoiseIsNotReported) {
  // A real but tiny trend: 2 KB over the run against 64 KB of sampling noise.
  Series series = Make(30, [](double t) { return 1e6 + 70 * t; });
  EXPECT_EQ(ClassifySeries(series, 64 * 1024).verdict, Verdict::kFlat);
  EXPECT_EQ(ClassifySeries(series, 0).verdict, Verdict::kGrowing);
}

TEST(Trend, ShrinkingIsNotGrowth) {
  Series series = Make(30, [](double t) { return 9e6 - 2e5 * t; }, 1e5, 6);
  EXPECT_EQ(ClassifySeries(series, 1e5).verdict, Verdict::kShrinking);
}

TEST(Trend, TooFewPointsSayNothing) {
  Series series = Make(4, [](double t) { return 1e6 * t; });
  EXPECT_EQ(ClassifySeries(series).verdict, Verdict::kFlat);
}

TEST(Trend, NormalCdf) {
  EXPECT_NEAR(NormalCdf(0), 0.5, 1e-12);
  EXPECT_NEAR(NormalCdf(1.6449), 0.95, 1e-4);
  EXPECT_NEAR(NormalCdf(-1.6449), 0.05, 1e-4);
}

}  // namespace
}  // namespace heapdrift::cli
