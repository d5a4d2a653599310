#include "growth_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "call_site_resolver.h"
#include "cohorts.h"
#include "format.h"
#include "site_series.h"

namespace heapdrift::cli {
namespace {

struct Group {
  SiteReport report;
  AgeAtMoments age;  // summed over its stacks
  double largest_member_live = -1;
  const ResolvedStack* largest_member = nullptr;
};

void AddAge(const AgeAtMoments& stack, AgeAtMoments* site) {
  site->live_at_recent_from += stack.live_at_recent_from;
  site->kept_from_recent_from += stack.kept_from_recent_from;
  site->allocated_before_recent += stack.allocated_before_recent;
  site->born_before_recent_live_at_check += stack.born_before_recent_live_at_check;
}

// The verdict's evidence. The whole window's rise compares the means of its
// first and last thirds: many points, so one moment's scatter cannot make it
// alone. The recent rise is measured exactly from a cohort boundary to the
// end where the window has one, else between the means of its last two
// thirds.
Evidence GatherEvidence(const Recording& recording, const VerdictMoments& moments,
                        const std::vector<double>& series, const AgeAtMoments& age,
                        double bytes_per_sample) {
  Evidence evidence;
  evidence.points = series.size();
  const size_t n = series.size();
  const double now = series.back();
  evidence.whole = RiseBetweenWindows(series, 0, n / 3, n - n / 3, n, bytes_per_sample);
  if (moments.has_recent) {
    evidence.recent =
        RiseSince(age.live_at_recent_from, now, age.kept_from_recent_from, bytes_per_sample);
    auto seconds = [&recording](size_t index) {
      return SecondsSinceStart(recording, recording.snapshots[index]);
    };
    evidence.old = OldMemory{seconds(moments.recent_from), age.allocated_before_recent,
                             seconds(moments.check), age.born_before_recent_live_at_check,
                             age.kept_from_recent_from};
  } else {
    evidence.recent = RiseBetweenWindows(series, n / 3, n - n / 3, n - n / 3, n, bytes_per_sample);
  }
  return evidence;
}

MemorySummary SummarizeMemory(const Recording& recording, const SiteSeries& series) {
  MemorySummary memory;
  if (series.snapshot_index.empty()) return memory;
  const proto::ProcessMemory& first = recording.snapshots[series.snapshot_index.front()].memory();
  const proto::ProcessMemory& last = recording.snapshots[series.snapshot_index.back()].memory();
  memory.rss_first = static_cast<double>(first.rss_bytes());
  memory.rss_last = static_cast<double>(last.rss_bytes());
  memory.has_allocator_stats = first.has_allocator_stats() && last.has_allocator_stats();
  memory.in_use_first = static_cast<double>(first.allocator_in_use_bytes());
  memory.in_use_last = static_cast<double>(last.allocator_in_use_bytes());
  memory.free_first = static_cast<double>(first.allocator_free_bytes());
  memory.free_last = static_cast<double>(last.allocator_free_bytes());
  for (const auto& live : series.live) {
    memory.live_first += live.front();
    memory.live_last += live.back();
  }
  return memory;
}

}  // namespace

GrowthReport BuildGrowthReport(const Recording& recording, const ReportOptions& options) {
  GrowthReport report;
  SiteSeries series =
      SampleSiteSeries(recording, options.max_points, options.from_seconds, options.to_seconds);
  report.snapshots = series.seconds.size();
  if (series.seconds.empty()) return report;
  report.seconds = series.seconds.back() - series.seconds.front();
  report.memory = SummarizeMemory(recording, series);

  // The largest sampling interval in force bounds the noise of every estimate.
  double interval = static_cast<double>(recording.header.sample_bytes());
  for (size_t index : series.snapshot_index) {
    interval = std::max(interval,
                        static_cast<double>(recording.snapshots[index].stats().current_sample_bytes()));
  }

  VerdictMoments moments = ChooseVerdictMoments(recording, series.snapshot_index);
  std::unordered_map<uint32_t, AgeAtMoments> ages = MeasureAgeAtMoments(recording, moments);

  CallSiteResolver resolver(recording, options.wrappers, options.debug_paths);
  std::map<std::string, Group> groups;
  for (size_t entry = 0; entry < series.stack_ids.size(); ++entry) {
    const ResolvedStack& resolved = resolver.Resolve(series.stack_ids[entry]);
    Group& group = groups[resolved.site_key];
    SiteReport& merged = group.report;
    if (merged.series.empty()) {
      merged.site = resolved.site();
      merged.series.assign(series.seconds.size(), 0.0);
    }
    const std::vector<double>& live = series.live[entry];
    for (size_t i = 0; i < live.size(); ++i) merged.series[i] += live[i];
    const proto::CallSite& latest = series.latest[entry];
    merged.live_bytes += static_cast<double>(latest.live_bytes());
    merged.live_objects += static_cast<double>(latest.live_objects());
    merged.allocated_bytes += static_cast<double>(latest.allocated_bytes());
    ++merged.stack_count;
    if (auto age = ages.find(series.stack_ids[entry]); age != ages.end()) {
      AddAge(age->second, &group.age);
    }
    if (live.back() > group.largest_member_live) {
      group.largest_member_live = live.back();
      group.largest_member = &resolved;
    }
  }
  report.warnings = resolver.warnings();

  for (auto& [key, group] : groups) {
    SiteReport& site = group.report;
    const ResolvedStack& largest = *group.largest_member;
    site.stack.assign(largest.frames.begin() + static_cast<long>(largest.site_index),
                      largest.frames.end());
    // Objects larger than the interval are all sampled; their count's own
    // (Poisson) scatter then weighs like samples of their size.
    double object_size = site.live_objects > 0 ? site.live_bytes / site.live_objects : 0;
    double bytes_per_sample = std::max(interval, object_size);
    site.evidence = GatherEvidence(recording, moments, site.series, group.age, bytes_per_sample);
    site.classification = Classify(site.evidence);
    site.rate = EstimateRate(series.seconds, site.series, bytes_per_sample);
    site.growth_bytes_per_sec = site.rate.bytes_per_sec;
    (site.classification.verdict == Verdict::kGrowing ? report.growing : report.others)
        .push_back(std::move(site));
  }
  std::sort(report.growing.begin(), report.growing.end(), [](const auto& a, const auto& b) {
    return a.growth_bytes_per_sec * a.classification.confidence >
           b.growth_bytes_per_sec * b.classification.confidence;
  });
  std::sort(report.others.begin(), report.others.end(),
            [](const auto& a, const auto& b) { return a.live_bytes > b.live_bytes; });
  return report;
}

std::string ExplainMemory(const MemorySummary& memory) {
  double rss = memory.rss_last - memory.rss_first;
  double live = memory.live_last - memory.live_first;
  std::string text = fmt::format("RSS {} ({} -> {}); estimated live heap {}", SignedBytes(rss),
                                 HumanBytes(memory.rss_first), HumanBytes(memory.rss_last),
                                 SignedBytes(live));
  if (memory.has_allocator_stats) {
    double in_use = memory.in_use_last - memory.in_use_first;
    double retained = memory.free_last - memory.free_first;
    text += fmt::format("; malloc in use {}, free but retained by malloc {}", SignedBytes(in_use),
                        SignedBytes(retained));
  }
  constexpr double kMeaningful = 1 << 20;
  if (rss > kMeaningful && live < 0.25 * rss) {
    text += ". RSS grew but the live heap did not: the growth is ";
    text += memory.has_allocator_stats && memory.free_last - memory.free_first > 0.25 * rss
                ? "memory malloc keeps after frees (fragmentation), not a leak at these sites"
                : "outside the heap (mmap, thread stacks, code) or fragmentation, not a leak "
                  "at these sites";
  } else if (rss > kMeaningful) {
    text += fmt::format(". The live heap explains {:.0f}% of the RSS growth",
                        100 * std::min(1.0, live / rss));
  }
  return text;
}

}  // namespace heapdrift::cli
