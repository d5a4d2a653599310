// The collector's per-site sums, by cohort: every sampled byte is counted in
// the cohort it was born in, frees take it back from that cohort, and the
// cohorts always add up to the site's own totals.
#include "site_totals.h"

#include <gtest/gtest.h>

#include <numeric>

#include "cohorts.h"

namespace heapdrift::agent {
namespace {

TEST(Cohorts, AreLogSpacedInEpochsAndNeverOverflow) {
  EXPECT_EQ(CohortOf(0), 0u);
  EXPECT_EQ(CohortOf(1), 1u);
  EXPECT_EQ(CohortOf(2), 2u);
  EXPECT_EQ(CohortOf(3), 2u);
  EXPECT_EQ(CohortOf(4), 3u);
  EXPECT_EQ(CohortOf(7), 3u);
  EXPECT_EQ(CohortOf(8), 4u);
  EXPECT_EQ(CohortOf(1u << 13), 14u);
  EXPECT_EQ(CohortOf((1u << 14) - 1), 14u);
  EXPECT_EQ(CohortOf(1u << 14), kCohorts - 1);
  EXPECT_EQ(CohortOf(UINT32_MAX), kCohorts - 1);
  // Every epoch's cohort starts at 2^(k-1): the rule readers apply.
  for (uint32_t epoch = 1; epoch < (1u << 14); ++epoch) {
    uint32_t cohort = CohortOf(epoch);
    ASSERT_GE(epoch, 1u << (cohort - 1)) << epoch;
    ASSERT_LT(epoch, 1u << cohort) << epoch;
  }
}

TEST(SiteTotals, CountsEachByteInTheCohortItWasBornIn) {
  SiteTotals totals;
  ASSERT_TRUE(totals.Init(8));
  // Born in cohorts 0, 2 and 5; one of cohort 2's blocks dies.
  totals.Apply(SampleEvent{3, SampleEvent::kAlloc, 0, 0, 100, 2.0});
  totals.Apply(SampleEvent{3, SampleEvent::kAlloc, 2, 0, 50, 1.0});
  totals.Apply(SampleEvent{3, SampleEvent::kAlloc, 2, 0, 10, 1.0});
  totals.Apply(SampleEvent{3, SampleEvent::kAlloc, 5, 0, 1000, 1.0});
  totals.Apply(SampleEvent{3, SampleEvent::kFree, 2, 0, 50, 1.0});
  int visits = 0;
  totals.TakeChanged([&](uint32_t id, const SiteTotal& total, const CohortTotals& cohorts,
                         uint16_t changed) {
    ++visits;
    EXPECT_EQ(id, 3u);
    EXPECT_EQ(changed, (1u << 0) | (1u << 2) | (1u << 5));
    EXPECT_DOUBLE_EQ(cohorts.live_bytes[0], 200);
    EXPECT_DOUBLE_EQ(cohorts.live_bytes[2], 10);
    EXPECT_DOUBLE_EQ(cohorts.live_bytes[5], 1000);
    double live = std::accumulate(cohorts.live_bytes, cohorts.live_bytes + kCohorts, 0.0);
    EXPECT_DOUBLE_EQ(live, total.live_bytes);
    EXPECT_DOUBLE_EQ(total.allocated_bytes, 1260);
  });
  EXPECT_EQ(visits, 1);
  // A spilled free reaches the site and its cohort separately; only the
  // cohort it touched is marked changed.
  totals.ApplyFree(3, 2.0, 200);
  totals.ApplyCohortFree(3, 0, 200);
  totals.TakeChanged([&](uint32_t, const SiteTotal& total, const CohortTotals& cohorts,
                         uint16_t changed) {
    EXPECT_EQ(changed, 1u << 0);
    EXPECT_DOUBLE_EQ(cohorts.live_bytes[0], 0);
    EXPECT_DOUBLE_EQ(total.live_bytes, 1010);
  });
}

}  // namespace
}  // namespace heapdrift::agent
