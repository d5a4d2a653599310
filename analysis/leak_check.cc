#include "leak_check.h"

#include <algorithm>
#include <map>

#include "call_site_resolver.h"
#include "growth_report.h"
#include "site_groups.h"

namespace heapdrift {
namespace {

// Accumulates one process's leaks: each kind's groups, the totals that are
// not suppressed, and what each suppression hid.
class LeakTally {
 public:
  LeakTally(const CheckOptions& options, ProcessCheck* check) : options_(options), check_(check) {}

  // Suppressions apply to what would fail the check: leaks, and reachable
  // blocks only when those fail too.
  void Add(LeakKind kind, const ResolvedStack& resolved, const Suppression* rule, double bytes,
           double objects) {
    if (objects <= 0) return;
    if (rule != nullptr && (kind != LeakKind::kReachable || options_.include_reachable)) {
      SuppressedLeaks& total = suppressed_[rule];
      total.rule = rule;
      total.bytes += bytes;
      total.objects += objects;
      return;
    }
    LeakGroup& group = groups_[static_cast<size_t>(kind)].Add(resolved.site_key, resolved,
                                                              resolved.site_index, bytes);
    group.bytes += bytes;
    group.objects += objects;
    switch (kind) {
      case LeakKind::kDirect:
        check_->leaked_bytes += bytes;
        check_->leaked_objects += objects;
        break;
      case LeakKind::kIndirect:
        check_->indirect_bytes += bytes;
        check_->indirect_objects += objects;
        break;
      case LeakKind::kReachable:
        check_->reachable_bytes += bytes;
        check_->reachable_objects += objects;
        break;
    }
  }

  void Finish() {
    auto by_bytes = [](const LeakGroup& a, const LeakGroup& b) { return a.bytes > b.bytes; };
    for (LeakKind kind : {LeakKind::kDirect, LeakKind::kIndirect, LeakKind::kReachable}) {
      std::vector<LeakGroup> groups;
      for (SiteGroup<LeakGroup>& built : groups_[static_cast<size_t>(kind)].Take()) {
        LeakGroup& group = built.totals;
        group.site = std::move(built.site);
        group.stack = std::move(built.stack);
        group.kind = kind;
        groups.push_back(std::move(group));
      }
      std::sort(groups.begin(), groups.end(), by_bytes);
      check_->leaks.insert(check_->leaks.end(), groups.begin(), groups.end());
    }
    for (auto& [rule, total] : suppressed_) check_->suppressed.push_back(total);
    std::sort(check_->suppressed.begin(), check_->suppressed.end(),
              [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
  }

 private:
  const CheckOptions& options_;
  ProcessCheck* check_;
  SiteGrouping<LeakGroup> groups_[3];  // by LeakKind
  std::map<const Suppression*, SuppressedLeaks> suppressed_;
};

void CheckLeaks(CallSiteResolver& resolver, const CheckOptions& options, ProcessCheck* check) {
  const proto::Snapshot& last = resolver.recording().snapshots.back();
  check->leak_scan = last.leak_scan_done();
  if (!check->leak_scan) return;
  const proto::AgentStats& stats = last.stats();
  if (stats.dropped_live_table_full() + stats.dropped_stack_table_full() > 0) {
    check->warnings.push_back({CheckWarningKind::kTablesFull});
  }
  if (last.leak_scan_threads_running() > 0) {
    check->warnings.push_back(
        {CheckWarningKind::kThreadsKeptRunning, last.leak_scan_threads_running()});
  }
  auto suppression_of = [&](uint32_t stack_id) {
    return FindSuppression(options.suppressions, resolver.Resolve(stack_id).frames);
  };
  LeakTally tally(options, check);
  for (const proto::Leak& leak : last.leaks()) {
    const ResolvedStack& resolved = resolver.Resolve(leak.stack_id());
    const Suppression* rule = suppression_of(leak.stack_id());
    tally.Add(LeakKind::kDirect, resolved, rule, static_cast<double>(leak.leaked_bytes()),
              static_cast<double>(leak.leaked_objects()));
    tally.Add(LeakKind::kReachable, resolved, rule, static_cast<double>(leak.reachable_bytes()),
              static_cast<double>(leak.reachable_objects()));
  }
  // An indirect leak is suppressed by a rule matching its own stack, or the
  // stack of the direct leak that holds it (LeakSanitizer's rule: what only
  // a suppressed leak points to is not reported).
  for (const proto::IndirectLeak& leak : last.indirect_leaks()) {
    const Suppression* rule = suppression_of(leak.stack_id());
    if (rule == nullptr && leak.has_root_stack_id()) rule = suppression_of(leak.root_stack_id());
    tally.Add(LeakKind::kIndirect, resolver.Resolve(leak.stack_id()), rule,
              static_cast<double>(leak.bytes()), static_cast<double>(leak.objects()));
  }
  tally.Finish();
}

void CheckGrowth(CallSiteResolver& resolver, const CheckOptions& options, ProcessCheck* check) {
  GrowthReport report = BuildGrowthReport(resolver);
  check->seconds = report.seconds;
  for (const SiteReport& site : report.growing) {
    if (site.growth_bytes_per_sec <= *options.max_growth) continue;
    if (FindSuppression(options.suppressions, site.stack) != nullptr) continue;
    check->growth.push_back({site.site, site.stack, site.growth_bytes_per_sec,
                             site.classification.confidence, site.live_bytes});
  }
  if (report.snapshots < 3) {
    check->warnings.push_back({CheckWarningKind::kTooFewSnapshots});
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

ProcessCheck CheckRecording(CallSiteResolver& resolver, const CheckOptions& options) {
  resolver.FollowModules();
  const Recording& recording = resolver.recording();
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
  // The symbolizer's warnings once, after those of the first part that needed symbols.
  bool symbols_told = false;
  auto tell_symbols = [&] {
    if (symbols_told) return;
    symbols_told = true;
    for (const std::string& text : resolver.warnings()) {
      check.warnings.push_back({CheckWarningKind::kSymbols, 0, text});
    }
  };
  if (check.ending == ProcessEnding::kExited) CheckLeaks(resolver, options, &check);
  if (check.leak_scan) tell_symbols();
  if (options.max_growth) {
    CheckGrowth(resolver, options, &check);
    tell_symbols();
  }
  return check;
}

}  // namespace heapdrift
