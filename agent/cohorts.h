// Cohorts: sampled blocks grouped by when they were born, so that a reader
// can tell memory that is born and never dies (a leak) from memory that is
// replaced (a cache at its plateau) or dies young (churn). A block's epoch is
// the number of snapshots written before it was sampled. Cohorts are
// log-spaced in epochs and anchored at the agent's start, so a block never
// changes cohort and a cohort's live bytes only fall once it is closed:
// cohort 0 holds epoch 0 (born before the first snapshot), cohort k >= 1
// epochs [2^(k-1), 2^k), and the last one everything from 2^(kCohorts-2) on
// (4.5 hours at one snapshot a second). proto/heapdrift.proto states the same
// rule for readers.
#pragma once

#include <cstdint>

namespace heapdrift::agent {

inline constexpr uint32_t kCohorts = 16;

inline uint32_t CohortOf(uint32_t epoch) {
  if (epoch == 0) return 0;
  uint32_t cohort = 32 - static_cast<uint32_t>(__builtin_clz(epoch));
  return cohort < kCohorts ? cohort : kCohorts - 1;
}

}  // namespace heapdrift::agent
