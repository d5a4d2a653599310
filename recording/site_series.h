// Each call site's live bytes over time, sampled at up to N evenly spaced
// snapshots (trend statistics cost O(N^2) per site, so thousands of
// snapshots are thinned to N, keeping the first and the last).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "recording.h"

namespace heapdrift {

struct SiteSeries {
  std::vector<double> seconds;             // time of each sampled snapshot since start
  std::vector<size_t> snapshot_index;      // which snapshots were sampled
  // One entry per stack seen, in order of first appearance:
  std::vector<uint32_t> stack_ids;
  std::vector<std::vector<double>> live;   // live bytes at each point (0 before it appeared)
  std::vector<proto::CallSite> latest;     // values at the last sampled snapshot
};

// Samples snapshots whose time lies in [from_seconds, to_seconds]. The final
// (exit) snapshot is left out when more than five others exist: it shows the
// program's teardown, not its behaviour.
SiteSeries SampleSiteSeries(const Recording& recording, size_t max_points,
                            double from_seconds = -1e300, double to_seconds = 1e300);

double SecondsSinceStart(const Recording& recording, const proto::Snapshot& snapshot);

// Seconds of the first and of the last snapshot a report analyses (the exit
// snapshot left out as SampleSiteSeries does).
std::pair<double, double> AnalysedSpan(const Recording& recording);

// Every call site's values as of the last snapshot at or before `at_seconds`
// (the whole recording by default), indexed by stack id; also the time of
// that snapshot.
struct SitesAt {
  std::unordered_map<uint32_t, proto::CallSite> sites;  // by stack id
  double seconds = 0;
};
SitesAt StateAt(const Recording& recording, double at_seconds = 1e300);

}  // namespace heapdrift
