#include "cohorts.h"

#include <algorithm>
#include <bit>
#include <optional>
#include <vector>

#include "site_series.h"

namespace heapdrift {
namespace {

// The snapshot that closes cohort k: 2^k - 1 (cohort 0 closes at snapshot 0).
uint64_t ClosingSnapshot(size_t cohort) { return (uint64_t{1} << cohort) - 1; }

struct SiteAccumulator {
  Cohorts cohorts;
  double allocated = 0;             // the site's cumulative allocations so far
  std::vector<double> at_closing;   // [k]: allocations when cohort k closed
};

}  // namespace

std::unordered_map<uint32_t, Cohorts> SiteCohorts(const Recording& recording, size_t last) {
  uint32_t cohort_count = recording.header.cohorts();
  std::unordered_map<uint32_t, SiteAccumulator> sites;
  for (size_t index = 0; index <= last && index < recording.snapshots.size(); ++index) {
    uint64_t sequence = recording.snapshots[index].sequence();
    for (const proto::CallSite& site : recording.snapshots[index].sites()) {
      SiteAccumulator& accumulator = sites[site.stack_id()];
      // Cohorts that closed before this snapshot closed with the value before it.
      while (accumulator.at_closing.size() < cohort_count &&
             ClosingSnapshot(accumulator.at_closing.size()) < sequence) {
        accumulator.at_closing.push_back(accumulator.allocated);
      }
      accumulator.allocated = static_cast<double>(site.allocated_bytes());
      for (const proto::Cohort& cohort : site.cohorts()) {
        accumulator.cohorts[cohort.index()].live_bytes = static_cast<double>(cohort.live_bytes());
      }
    }
  }
  uint64_t last_sequence = 0;
  if (!recording.snapshots.empty()) {
    last_sequence = recording.snapshots[std::min(last, recording.snapshots.size() - 1)].sequence();
  }
  std::unordered_map<uint32_t, Cohorts> result;
  for (auto& entry : sites) {
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    const uint32_t id = entry.first;
    SiteAccumulator& accumulator = entry.second;
    while (accumulator.at_closing.size() < cohort_count &&
           ClosingSnapshot(accumulator.at_closing.size()) <= last_sequence) {
      accumulator.at_closing.push_back(accumulator.allocated);
    }
    auto allocated_when_closed = [&accumulator, cohort_count](size_t cohort) {
      bool open = cohort + 1 >= cohort_count || cohort >= accumulator.at_closing.size();
      return open ? accumulator.allocated : accumulator.at_closing[cohort];
    };
    for (uint32_t cohort = 0; cohort < cohort_count; ++cohort) {
      double allocated =
          allocated_when_closed(cohort) - (cohort == 0 ? 0.0 : allocated_when_closed(cohort - 1));
      auto found = accumulator.cohorts.find(cohort);
      double live = found == accumulator.cohorts.end() ? 0 : found->second.live_bytes;
      if (allocated > 0 || live != 0) result[id][cohort] = CohortState{live, allocated};
      if (cohort >= accumulator.at_closing.size()) break;  // later cohorts not born yet
    }
  }
  return result;
}

BirthWindow CohortBirthWindow(const Recording& recording, uint32_t index) {
  // Seconds at which snapshot `sequence` was written; the end if it never was.
  auto written = [&recording](uint64_t sequence) {
    if (recording.snapshots.empty()) return 0.0;
    const proto::Snapshot& snapshot = sequence < recording.snapshots.size()
                                          ? recording.snapshots[sequence]
                                          : recording.snapshots.back();
    return SecondsSinceStart(recording, snapshot);
  };
  BirthWindow window;
  if (index == 0) {
    window.to = written(0);
    return window;
  }
  window.from = written(ClosingSnapshot(index - 1));
  bool last = index + 1 >= recording.header.cohorts();
  window.to = last ? written(UINT64_MAX) : written(ClosingSnapshot(index));
  return window;
}

}  // namespace heapdrift

namespace heapdrift {
namespace {

// The cohort a boundary snapshot closes, if it is one: sequence 2^k - 1
// closes cohort k (the last cohort never closes).
std::optional<uint32_t> CohortClosedBy(uint64_t sequence, uint32_t cohort_count) {
  uint64_t next = sequence + 1;
  if ((next & sequence) != 0) return std::nullopt;  // not 2^k - 1
  auto cohort = static_cast<uint32_t>(std::countr_zero(next));
  if (cohort + 1 >= cohort_count) return std::nullopt;
  return cohort;
}

// Live bytes of cohorts 0..last_cohort.
double LiveBornUpTo(const Cohorts& cohorts, uint32_t last_cohort) {
  double live = 0;
  for (const auto& [index, state] : cohorts) {
    if (index <= last_cohort) live += state.live_bytes;
  }
  return live;
}

}  // namespace

VerdictMoments ChooseVerdictMoments(const Recording& recording,
                                    const std::vector<size_t>& analysed_snapshots) {
  VerdictMoments moments;
  if (analysed_snapshots.empty()) return moments;
  size_t first = analysed_snapshots.front();
  moments.end = analysed_snapshots.back();
  moments.check = moments.end;
  auto seconds = [&recording](size_t index) {
    return SecondsSinceStart(recording, recording.snapshots[index]);
  };
  double start = seconds(first), end = seconds(moments.end);
  double third = (end - start) / 3;
  uint32_t cohort_count = recording.header.cohorts();
  for (size_t index = first; index < moments.end; ++index) {
    if (CohortClosedBy(recording.snapshots[index].sequence(), cohort_count) &&
        end - seconds(index) >= third) {
      moments.has_recent = true;
      moments.recent_from = index;
    }
  }
  if (moments.has_recent) {
    double halfway = (seconds(moments.recent_from) + end) / 2;
    moments.check = moments.recent_from;
    while (moments.check < moments.end && seconds(moments.check) < halfway) ++moments.check;
  }
  return moments;
}

std::unordered_map<uint32_t, AgeAtMoments> MeasureAgeAtMoments(const Recording& recording,
                                                               const VerdictMoments& moments) {
  std::unordered_map<uint32_t, AgeAtMoments> result;
  if (!moments.has_recent) return result;
  uint32_t cohort_count = recording.header.cohorts();
  auto closed = [&](size_t index) {
    return *CohortClosedBy(recording.snapshots[index].sequence(), cohort_count);
  };
  // Live and allocated bytes at the boundary.
  std::unordered_map<uint32_t, const proto::CallSite*> latest;
  for (size_t index = 0; index <= moments.end; ++index) {
    for (const proto::CallSite& site : recording.snapshots[index].sites()) {
      latest[site.stack_id()] = &site;
    }
    if (index == moments.recent_from) {
      for (auto [id, site] : latest) {
        result[id].live_at_recent_from = static_cast<double>(site->live_bytes());
        result[id].allocated_before_recent = static_cast<double>(site->allocated_bytes());
      }
    }
  }
  uint32_t old_cohorts = closed(moments.recent_from);
  for (const auto& [id, cohorts] : SiteCohorts(recording, moments.end)) {
    result[id].kept_from_recent_from = LiveBornUpTo(cohorts, old_cohorts);
  }
  for (const auto& [id, cohorts] : SiteCohorts(recording, moments.check)) {
    result[id].born_before_recent_live_at_check = LiveBornUpTo(cohorts, old_cohorts);
  }
  return result;
}

}  // namespace heapdrift
