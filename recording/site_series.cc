#include "site_series.h"

#include <cmath>

namespace heapdrift {

namespace {

// The snapshot written at exit shows the program's teardown (static
// destructors, freed caches), not its behaviour: it is left out when the
// recording has enough others.
size_t AnalysedSnapshotCount(const Recording& recording) {
  size_t count = recording.snapshots.size();
  constexpr size_t kEnoughPeriodicSnapshots = 5;
  if (count > kEnoughPeriodicSnapshots && recording.snapshots.back().final()) --count;
  return count;
}

}  // namespace

std::pair<double, double> AnalysedSpan(const Recording& recording) {
  size_t count = AnalysedSnapshotCount(recording);
  if (count == 0) return {0, 0};
  return {SecondsSinceStart(recording, recording.snapshots.front()),
          SecondsSinceStart(recording, recording.snapshots[count - 1])};
}

double SecondsSinceStart(const Recording& recording, const proto::Snapshot& snapshot) {
  return static_cast<double>(static_cast<int64_t>(snapshot.time_ns() -
                                                  recording.header.start_clock_ns())) /
         1e9;
}

SiteSeries SampleSiteSeries(const Recording& recording, size_t max_points, double from_seconds,
                            double to_seconds) {
  SiteSeries series;
  size_t count = AnalysedSnapshotCount(recording);
  std::vector<size_t> in_window;
  for (size_t i = 0; i < count; ++i) {
    double t = SecondsSinceStart(recording, recording.snapshots[i]);
    if (t >= from_seconds && t <= to_seconds) in_window.push_back(i);
  }
  if (in_window.empty()) return series;
  std::vector<size_t> chosen;
  if (in_window.size() <= max_points || max_points < 2) {
    chosen = in_window;
  } else {
    for (size_t k = 0; k < max_points; ++k) {
      double position = static_cast<double>(k) * static_cast<double>(in_window.size() - 1) /
                        static_cast<double>(max_points - 1);
      chosen.push_back(in_window[static_cast<size_t>(std::lround(position))]);
    }
  }
  std::unordered_map<uint32_t, size_t> index_of;  // stack id -> entry
  size_t next = 0;
  for (size_t i = 0; i <= chosen.back(); ++i) {
    for (const proto::CallSite& site : recording.snapshots[i].sites()) {
      auto [it, inserted] = index_of.try_emplace(site.stack_id(), series.stack_ids.size());
      if (inserted) {
        series.stack_ids.push_back(site.stack_id());
        series.latest.emplace_back();
        series.live.emplace_back();
        series.live.back().reserve(chosen.size());
        series.live.back().assign(series.seconds.size(), 0.0);  // not yet allocated: zero
      }
      series.latest[it->second] = site;
    }
    if (i != chosen[next]) continue;
    series.seconds.push_back(SecondsSinceStart(recording, recording.snapshots[i]));
    series.snapshot_index.push_back(i);
    for (size_t entry = 0; entry < series.live.size(); ++entry) {
      series.live[entry].push_back(static_cast<double>(series.latest[entry].live_bytes()));
    }
    ++next;
  }
  return series;
}

SitesAt StateAt(const Recording& recording, double at_seconds) {
  SitesAt state;
  for (const proto::Snapshot& snapshot : recording.snapshots) {
    double t = SecondsSinceStart(recording, snapshot);
    if (t > at_seconds) break;
    state.seconds = t;
    for (const proto::CallSite& site : snapshot.sites()) state.sites[site.stack_id()] = site;
  }
  return state;
}

}  // namespace heapdrift
