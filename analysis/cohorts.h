// A call site's live memory by when it was born (proto Cohort): what share of
// the bytes born in each window is still live. A leak's old cohorts keep
// what they kept; a cache's and churn's die away. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "recording.h"

namespace heapdrift {

struct CohortState {
  double live_bytes = 0;       // as the agent last reported it
  double allocated_bytes = 0;  // the site's allocations across the cohort's birth window
};

// Cohort index -> its state.
using Cohorts = std::map<uint32_t, CohortState>;

// Every site's cohorts as of snapshot `last` (an index into
// recording.snapshots), in one pass over the snapshots up to it.
std::unordered_map<uint32_t, Cohorts> SiteCohorts(const Recording& recording, size_t last);

// When cohort `index` was born, in seconds since the start: a block's epoch
// is the number of snapshots written before it was sampled, cohort 0 holds
// epoch 0 and cohort k epochs [2^(k-1), 2^k) (the last cohort: every later
// epoch), so cohort k spans from snapshot 2^(k-1)-1 to snapshot 2^k-1.
struct BirthWindow {
  double from = 0, to = 0;
};
BirthWindow CohortBirthWindow(const Recording& recording, uint32_t index);


// The moments a growth verdict compares, chosen among cohort boundaries (the
// snapshots that close a cohort, 2^k - 1) inside an analysed window of
// snapshots: where the cohorts split the live bytes exactly into what was
// born before a moment and what after.
struct VerdictMoments {
  size_t end = 0;              // the last analysed snapshot
  bool has_recent = false;     // the latest boundary with a third of the window after it
  size_t recent_from = 0;
  size_t check = 0;            // halfway from recent_from to the end
};
VerdictMoments ChooseVerdictMoments(const Recording& recording,
                                    const std::vector<size_t>& analysed_snapshots);

// One stack's bytes at those moments; sums over the stacks of a call site.
struct AgeAtMoments {
  double live_at_recent_from = 0;
  double kept_from_recent_from = 0;   // of those, still live at the end
  double allocated_before_recent = 0;
  double born_before_recent_live_at_check = 0;

  AgeAtMoments& operator+=(const AgeAtMoments& other) {
    live_at_recent_from += other.live_at_recent_from;
    kept_from_recent_from += other.kept_from_recent_from;
    allocated_before_recent += other.allocated_before_recent;
    born_before_recent_live_at_check += other.born_before_recent_live_at_check;
    return *this;
  }
};
std::unordered_map<uint32_t, AgeAtMoments> MeasureAgeAtMoments(const Recording& recording,
                                                               const VerdictMoments& moments);

}  // namespace heapdrift
