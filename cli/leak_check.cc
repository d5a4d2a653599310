#include "leak_check.h"

#include <algorithm>
#include <map>

#include "call_site_resolver.h"
#include "growth_report.h"

namespace heapdrift::cli {
namespace {

struct GroupBuilder {
  LeakGroup group;
  double largest_stack_bytes = -1;
};

void AddToGroup(std::map<std::string, GroupBuilder>& groups, const ResolvedStack& resolved,
                double bytes, double objects) {
  GroupBuilder& builder = groups[resolved.site_key];
  if (builder.largest_stack_bytes < 0) builder.group.site = resolved.site();
  builder.group.bytes += bytes;
  builder.group.objects += objects;
  if (bytes > builder.largest_stack_bytes) {
    builder.largest_stack_bytes = bytes;
    builder.group.stack.assign(resolved.frames.begin() + static_cast<long>(resolved.site_index),
                               resolved.frames.end());
  }
}

void CheckLeaks(const Recording& recording, const CheckOptions& options, ProcessCheck* check) {
  const proto::Snapshot& last = recording.snapshots.back();
  check->leak_scan = last.leak_scan_done();
  if (!check->leak_scan) return;
  const proto::AgentStats& stats = last.stats();
  if (stats.dropped_live_table_full() + stats.dropped_stack_table_full() > 0) {
    check->warnings.push_back(
        "the agent's tables filled up; some allocations were not tracked "
        "(raise HEAPDRIFT_MAX_LIVE / HEAPDRIFT_MAX_STACKS)");
  }
  CallSiteResolver resolver(recording, options.wrappers, options.debug_paths);
  std::map<std::string, GroupBuilder> leaked, reachable;
  std::map<const Suppression*, SuppressedLeaks> suppressed;
  for (const proto::Leak& leak : last.leaks()) {
    const ResolvedStack& resolved = resolver.Resolve(leak.stack_id());
    double leaked_bytes = static_cast<double>(leak.leaked_bytes());
    double leaked_objects = static_cast<double>(leak.leaked_objects());
    double reachable_bytes = static_cast<double>(leak.reachable_bytes());
    double reachable_objects = static_cast<double>(leak.reachable_objects());
    // Suppressions apply to what would fail the check: definitely leaked
    // blocks, and reachable ones only when those fail too.
    const Suppression* rule = FindSuppression(options.suppressions, resolved.frames);
    if (rule != nullptr) {
      SuppressedLeaks& total = suppressed[rule];
      total.rule = rule;
      total.bytes += leaked_bytes;
      total.objects += leaked_objects;
      leaked_bytes = leaked_objects = 0;
      if (options.include_reachable) {
        total.bytes += reachable_bytes;
        total.objects += reachable_objects;
        reachable_bytes = reachable_objects = 0;
      }
    }
    if (leaked_objects > 0) AddToGroup(leaked, resolved, leaked_bytes, leaked_objects);
    if (reachable_objects > 0) AddToGroup(reachable, resolved, reachable_bytes, reachable_objects);
    check->leaked_bytes += leaked_bytes;
    check->leaked_objects += leaked_objects;
    check->reachable_bytes += reachable_bytes;
    check->reachable_objects += reachable_objects;
  }
  auto by_bytes = [](const LeakGroup& a, const LeakGroup& b) { return a.bytes > b.bytes; };
  std::vector<LeakGroup> leaked_groups, reachable_groups;
  for (auto& [key, builder] : leaked) leaked_groups.push_back(std::move(builder.group));
  for (auto& [key, builder] : reachable) {
    builder.group.reachable = true;
    reachable_groups.push_back(std::move(builder.group));
  }
  std::sort(leaked_groups.begin(), leaked_groups.end(), by_bytes);
  std::sort(reachable_groups.begin(), reachable_groups.end(), by_bytes);
  check->leaks = std::move(leaked_groups);
  check->leaks.insert(check->leaks.end(), reachable_groups.begin(), reachable_groups.end());
  for (auto& [rule, total] : suppressed) {
    if (total.objects > 0) check->suppressed.push_back(total);
  }
  std::sort(check->suppressed.begin(), check->suppressed.end(),
            [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
  for (const std::string& warning : resolver.warnings()) check->warnings.push_back(warning);
}

void CheckGrowth(const Recording& recording, const CheckOptions& options, ProcessCheck* check) {
  ReportOptions report_options;
  report_options.wrappers = options.wrappers;
  report_options.debug_paths = options.debug_paths;
  GrowthReport report = BuildGrowthReport(recording, report_options);
  check->seconds = report.seconds;
  for (const SiteReport& site : report.growing) {
    if (site.growth_bytes_per_sec <= *options.max_growth) continue;
    if (FindSuppression(options.suppressions, site.stack) != nullptr) continue;
    check->growth.push_back({site.site, site.stack, site.growth_bytes_per_sec,
                             site.classification.confidence, site.live_bytes});
  }
  if (report.snapshots < 3) {
    check->warnings.push_back(
        "fewer than 3 snapshots: too short a run to judge growth (lower --interval-ms)");
  }
}

}  // namespace

std::string ProcessCheck::CommandLine() const {
  std::string text;
  for (const std::string& argument : command_line) {
    if (!text.empty()) text += ' ';
    text += argument;
  }
  return text;
}

ProcessCheck CheckRecording(const Recording& recording, const CheckOptions& options) {
  ProcessCheck check;
  check.pid = recording.header.pid();
  check.parent_pid = recording.header.parent_pid();
  check.forked = recording.header.forked();
  check.command_line.assign(recording.header.command_line().begin(),
                            recording.header.command_line().end());
  if (check.command_line.empty()) check.command_line.push_back(recording.header.executable());
  check.exact = recording.header.sample_bytes() == 1;
  if (recording.snapshots.empty()) return check;
  check.recorded = true;
  check.seconds = recording.DurationSeconds();
  check.ending = recording.snapshots.back().final() ? ProcessEnding::kExited
                                                    : ProcessEnding::kVanished;
  if (check.ending == ProcessEnding::kExited) CheckLeaks(recording, options, &check);
  if (options.max_growth) CheckGrowth(recording, options, &check);
  return check;
}

}  // namespace heapdrift::cli
