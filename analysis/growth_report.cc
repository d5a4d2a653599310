#include "growth_report.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "call_site_resolver.h"
#include "cohorts.h"
#include "site_groups.h"
#include "site_series.h"

namespace heapdrift {
namespace {

// What a group of stacks sums.
struct GroupTotals {
  std::vector<double> series;  // live bytes at the sampled snapshots
  double live_bytes = 0, live_objects = 0, allocated_bytes = 0;  // at the last one
  AgeAtMoments age;
};

// The cohort boundary's side of a site's evidence.
SinceBoundary AtBoundary(const Recording& recording, const VerdictMoments& moments,
                         const AgeAtMoments& age) {
  auto seconds = [&recording](size_t index) {
    return SecondsSinceStart(recording, recording.snapshots[index]);
  };
  return SinceBoundary{age.live_at_recent_from, age.kept_from_recent_from,
                       OldMemory{seconds(moments.recent_from), age.allocated_before_recent,
                                 seconds(moments.check), age.born_before_recent_live_at_check,
                                 age.kept_from_recent_from}};
}

// What every verdict of one report shares.
struct Judging {
  const Recording& recording;
  const SiteSeries& series;
  VerdictMoments moments;
  std::unordered_map<uint32_t, AgeAtMoments> ages;
  double interval = 0;  // the largest sampling interval in force
  CallSiteResolver& resolver;
};

void Judge(const Judging& judging, const AgeAtMoments& age, SiteReport* site) {
  double object_size = site->live_objects > 0 ? site->live_bytes / site->live_objects : 0;
  double bytes_per_sample = SamplingVariancePerByte(judging.interval, object_size);
  SinceBoundary boundary = AtBoundary(judging.recording, judging.moments, age);
  site->evidence = GatherEvidence(judging.series.seconds, site->series,
                                  judging.moments.has_recent ? &boundary : nullptr,
                                  bytes_per_sample,
                                  BytesPerSampledObject(judging.interval, object_size));
  site->classification = Classify(site->evidence);
  site->rate = EstimateRate(judging.series.seconds, site->series, bytes_per_sample);
  site->growth_bytes_per_sec = site->rate.bytes_per_sec;
}

// Where a stack belongs, and the frame that names the group; nullopt: nowhere.
struct Membership {
  std::string key;
  size_t frame = 0;
};
using GroupBy = std::function<std::optional<Membership>(uint32_t, const ResolvedStack&)>;

// Sums the series of the stacks in each group and judges each sum.
std::vector<SiteReport> JudgeGroups(const Judging& judging, const GroupBy& group_by,
                                    const std::set<std::string>& skip_sites = {}) {
  const SiteSeries& series = judging.series;
  SiteGrouping<GroupTotals> grouping;
  for (size_t entry = 0; entry < series.stack_ids.size(); ++entry) {
    const ResolvedStack& resolved = judging.resolver.Resolve(series.stack_ids[entry]);
    if (skip_sites.count(resolved.site_key) != 0) continue;
    std::optional<Membership> membership = group_by(series.stack_ids[entry], resolved);
    if (!membership) continue;
    const std::vector<double>& live = series.live[entry];
    GroupTotals& totals = grouping.Add(membership->key, resolved, membership->frame, live.back());
    if (totals.series.empty()) totals.series.assign(series.seconds.size(), 0.0);
    for (size_t i = 0; i < live.size(); ++i) totals.series[i] += live[i];
    const proto::CallSite& latest = series.latest[entry];
    totals.live_bytes += static_cast<double>(latest.live_bytes());
    totals.live_objects += static_cast<double>(latest.live_objects());
    totals.allocated_bytes += static_cast<double>(latest.allocated_bytes());
    if (auto age = judging.ages.find(series.stack_ids[entry]); age != judging.ages.end()) {
      totals.age += age->second;
    }
  }
  std::vector<SiteReport> judged;
  for (SiteGroup<GroupTotals>& group : grouping.Take()) {
    SiteReport site;
    site.site = std::move(group.site);
    site.stack = std::move(group.stack);
    site.site_key = std::move(group.key);
    site.call_sites = group.call_sites;
    site.stack_count = group.stacks;
    site.series = std::move(group.totals.series);
    site.live_bytes = group.totals.live_bytes;
    site.live_objects = group.totals.live_objects;
    site.allocated_bytes = group.totals.allocated_bytes;
    Judge(judging, group.totals.age, &site);
    judged.push_back(std::move(site));
  }
  return judged;
}

std::string FunctionKey(const symbolizer::Frame& frame) {
  return frame.function.empty() ? frame.ModuleOffset() : frame.function;
}

double Score(const SiteReport& site) {
  return site.growth_bytes_per_sec * site.classification.confidence;
}

// Growth spread thin: the heap grows but the sites that grow explain less
// than half of it. The other sites are summed by the caller they share,
// one frame further up the stack at a time, and the first level where some
// callers' sums grow is reported; if none does, by module.
std::vector<SiteReport> FindSpreadGrowth(const Judging& judging, const GrowthReport& report) {
  constexpr size_t kDeepestCaller = 12;
  std::set<std::string> explained;
  for (const SiteReport& site : report.growing) explained.insert(site.site_key);
  auto growing_sums = [&](const GroupBy& group_by) {
    std::vector<SiteReport> sums = JudgeGroups(judging, group_by, explained);
    std::erase_if(sums, [](const SiteReport& sum) {
      return sum.classification.verdict != Verdict::kGrowing || sum.call_sites < 2;
    });
    std::sort(sums.begin(), sums.end(),
              [](const auto& a, const auto& b) { return Score(a) > Score(b); });
    return sums;
  };
  for (size_t depth = 1; depth <= kDeepestCaller; ++depth) {
    std::vector<SiteReport> callers = growing_sums([depth](uint32_t, const ResolvedStack& stack)
                                                       -> std::optional<Membership> {
      size_t frame = stack.site_index + depth;
      if (frame >= stack.frames.size()) return std::nullopt;
      return Membership{FunctionKey(stack.frames[frame]), frame};
    });
    if (!callers.empty()) return callers;
  }
  return growing_sums([](uint32_t, const ResolvedStack& stack) -> std::optional<Membership> {
    return Membership{stack.site().module, stack.site_index};
  });
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

MemoryOverTime TraceMemory(const Recording& recording, const SiteSeries& series) {
  MemoryOverTime trace;
  trace.has_allocator_stats = true;
  for (size_t index : series.snapshot_index) {
    const proto::ProcessMemory& memory = recording.snapshots[index].memory();
    trace.has_allocator_stats = trace.has_allocator_stats && memory.has_allocator_stats();
    trace.rss.push_back(static_cast<double>(memory.rss_bytes()));
    trace.in_use.push_back(static_cast<double>(memory.allocator_in_use_bytes()));
    trace.retained.push_back(static_cast<double>(memory.allocator_free_bytes()));
  }
  if (!trace.has_allocator_stats) {
    trace.in_use.clear();
    trace.retained.clear();
  }
  return trace;
}

}  // namespace

GrowthReport BuildGrowthReport(CallSiteResolver& resolver, const ReportOptions& options) {
  resolver.FollowModules();
  const Recording& recording = resolver.recording();
  GrowthReport report;
  SiteSeries series =
      SampleSiteSeries(recording, options.max_points, options.from_seconds, options.to_seconds);
  report.snapshots = series.seconds.size();
  if (series.seconds.empty()) return report;
  report.seconds = series.seconds.back() - series.seconds.front();
  report.memory = SummarizeMemory(recording, series);
  report.memory_over_time = TraceMemory(recording, series);
  report.point_seconds = series.seconds;

  // The largest sampling interval in force bounds the noise of every estimate.
  double interval = static_cast<double>(recording.header.sample_bytes());
  for (size_t index : series.snapshot_index) {
    interval = std::max(interval,
                        static_cast<double>(recording.snapshots[index].stats().current_sample_bytes()));
  }

  Judging judging{recording, series, ChooseVerdictMoments(recording, series.snapshot_index), {},
                  interval, resolver};
  judging.ages = MeasureAgeAtMoments(recording, judging.moments);

  for (SiteReport& site : JudgeGroups(judging, [](uint32_t, const ResolvedStack& stack) {
         return std::optional<Membership>(Membership{stack.site_key, stack.site_index});
       })) {
    (site.classification.verdict == Verdict::kGrowing ? report.growing : report.others)
        .push_back(std::move(site));
  }
  // The whole heap, as one site.
  std::vector<SiteReport> heap = JudgeGroups(judging, [](uint32_t, const ResolvedStack& stack) {
    return std::optional<Membership>(Membership{"", stack.site_index});
  });
  if (!heap.empty()) report.heap = std::move(heap.front());
  for (const NamedGroup& named : options.groups) {
    std::vector<SiteReport> group = JudgeGroups(
        judging, [&named](uint32_t id, const ResolvedStack& stack) -> std::optional<Membership> {
          if (!named.contains(id, stack)) return std::nullopt;
          return Membership{named.name, stack.site_index};
        });
    SiteReport& judged = report.named_groups.emplace_back();
    if (!group.empty()) judged = std::move(group.front());
    judged.site_key = named.name;
  }
  double explained = 0;
  for (const SiteReport& site : report.growing) explained += site.growth_bytes_per_sec;
  report.growth_unexplained = report.heap.classification.verdict == Verdict::kGrowing &&
                              explained < 0.5 * report.heap.growth_bytes_per_sec;
  if (report.growth_unexplained) report.spread_growth = FindSpreadGrowth(judging, report);
  std::sort(report.growing.begin(), report.growing.end(),
            [](const auto& a, const auto& b) { return Score(a) > Score(b); });
  std::sort(report.others.begin(), report.others.end(),
            [](const auto& a, const auto& b) { return a.live_bytes > b.live_bytes; });
  return report;
}

}  // namespace heapdrift
