#include "monitored_process.h"

#include <fmt/format.h>

#include <algorithm>

#include "format.h"
#include "gzip_file.h"
#include "heap_moments.h"
#include "html_report.h"
#include "pprof_export.h"
#include "report_output.h"

namespace heapdrift::serve {
namespace {

// A call site's label: stable across restarts and hosts, since the key is
// symbolic (function, file, line), or module and offset when unsymbolized.
std::string SiteHash(const std::string& site_key) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : site_key) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return fmt::format("{:016x}", hash);
}

std::string FunctionName(const symbolizer::Frame& frame) {
  return frame.function.empty() ? frame.ModuleOffset() : ShortFunction(frame.function);
}

double Score(const SiteReport& site) {
  return site.growth_bytes_per_sec * site.classification.confidence;
}

double Confidence(const SiteReport& site) {
  return site.classification.verdict == Verdict::kGrowing ? site.classification.confidence : 0;
}

}  // namespace

MonitoredProcess::MonitoredProcess(ProcessIdentity identity, const proto::Header& header,
                                   const MonitorSettings& settings,
                                   symbolizer::SharedSymbolizer& symbols)
    : identity_(std::move(identity)),
      settings_(settings),
      symbols_(symbols),
      window_(header, settings.window_seconds, settings.window_points) {}

bool MonitoredProcess::Add(proto::Snapshot snapshot, double received_unix_seconds) {
  std::lock_guard lock(mutex_);
  if (!window_.Add(std::move(snapshot))) return false;
  last_snapshot_seconds_ = received_unix_seconds;
  changed_since_analysis_ = true;
  return true;
}

proto::Snapshot MonitoredProcess::WholeState() const {
  std::lock_guard lock(mutex_);
  return window_.WholeState();
}

CallSiteResolver& MonitoredProcess::Resolver(const Recording& recording) {
  if (!resolver_) {
    resolver_ = std::make_unique<CallSiteResolver>(recording, symbols_, settings_.wrappers);
  }
  return *resolver_;
}

bool MonitoredProcess::InGroup(size_t group, uint32_t stack_id, const ResolvedStack& stack) {
  // Symbols can change only when modules are added: the cache starts again then.
  if (group_cache_mappings_ != resolver_->recording().mappings.size()) {
    group_cache_.clear();
    group_cache_mappings_ = resolver_->recording().mappings.size();
  }
  auto [entry, inserted] = group_cache_.try_emplace(stack_id);
  if (inserted) {
    for (const GroupPattern& pattern : settings_.groups) {
      bool matches = std::any_of(stack.frames.begin(), stack.frames.end(), [&](const auto& frame) {
        return std::regex_search(frame.function, pattern.pattern) ||
               (!frame.file.empty() && std::regex_search(frame.file, pattern.pattern));
      });
      entry->second.push_back(matches);
    }
  }
  return entry->second[group];
}

void MonitoredProcess::Refresh(double now) {
  if (!changed_since_analysis_ || now - analysed_at_ < settings_.refresh_seconds) return;
  changed_since_analysis_ = false;
  analysed_at_ = now;
  const Recording& recording = window_.Materialize();
  CallSiteResolver& resolver = Resolver(recording);
  ReportOptions options;
  options.max_points = settings_.window_points;
  for (size_t i = 0; i < settings_.groups.size(); ++i) {
    options.groups.push_back({settings_.groups[i].name,
                              [this, i](uint32_t id, const ResolvedStack& stack) {
                                return InGroup(i, id, stack);
                              }});
  }
  report_ = BuildGrowthReport(resolver, options);

  // Sticky top-N: a site joins when it ranks in the top N by live bytes or
  // by growth, stays while it ranks in the top 2N by either, and leaves only
  // after `hold_seconds` outside; at most 2N are exported.
  std::vector<const SiteReport*> sites;
  for (const SiteReport& site : report_.growing) sites.push_back(&site);
  for (const SiteReport& site : report_.others) sites.push_back(&site);
  const size_t top = settings_.top_sites;
  auto rank_by = [&](auto key) {
    std::vector<const SiteReport*> ranked = sites;
    std::stable_sort(ranked.begin(), ranked.end(),
                     [&](const SiteReport* a, const SiteReport* b) { return key(*a) > key(*b); });
    return ranked;
  };
  for (const auto& ranked : {rank_by([](const SiteReport& s) { return s.live_bytes; }),
                             rank_by([](const SiteReport& s) { return Score(s); })}) {
    for (size_t rank = 0; rank < ranked.size() && rank < 2 * top; ++rank) {
      const SiteReport& site = *ranked[rank];
      if (site.live_bytes <= 0 && Score(site) <= 0) break;
      auto member = members_.find(site.site_key);
      if (member != members_.end()) {
        member->second.last_in_top = now;
      } else if (rank < top && members_.size() < 2 * top) {
        members_[site.site_key] = {FunctionName(site.site), now};
      }
    }
  }
  std::erase_if(members_, [&](const auto& entry) {
    return now - entry.second.last_in_top > settings_.hold_seconds;
  });
}

ProcessMetrics MonitoredProcess::Metrics(double now) {
  std::lock_guard lock(mutex_);
  Refresh(now);
  ProcessMetrics metrics;
  metrics.service_name = identity_.service_name;
  metrics.pid = static_cast<uint32_t>(identity_.pid);
  metrics.comm = identity_.comm;
  const proto::Header& header = window_.header();
  metrics.agent_version = header.agent_version();
  std::unordered_map<std::string, const SiteReport*> by_key;
  for (const auto* list : {&report_.growing, &report_.others}) {
    for (const SiteReport& site : *list) by_key[site.site_key] = &site;
  }
  SiteMetrics other{"other", "other"};
  other.live_bytes = report_.heap.live_bytes;
  other.live_objects = report_.heap.live_objects;
  other.growth_bytes_per_second = report_.heap.growth_bytes_per_sec;
  for (const auto& [key, member] : members_) {
    SiteMetrics site{SiteHash(key), member.function};
    if (auto found = by_key.find(key); found != by_key.end()) {
      site.live_bytes = found->second->live_bytes;
      site.live_objects = found->second->live_objects;
      site.growth_bytes_per_second = found->second->growth_bytes_per_sec;
      site.growth_confidence = Confidence(*found->second);
    }
    other.live_bytes -= site.live_bytes;
    other.live_objects -= site.live_objects;
    other.growth_bytes_per_second -= site.growth_bytes_per_second;
    metrics.sites.push_back(std::move(site));
  }
  std::sort(metrics.sites.begin(), metrics.sites.end(),
            [](const SiteMetrics& a, const SiteMetrics& b) { return a.live_bytes > b.live_bytes; });
  // Rounding and the slopes of parts need not add up; a bucket is never negative.
  other.live_bytes = std::max(other.live_bytes, 0.0);
  other.live_objects = std::max(other.live_objects, 0.0);
  metrics.sites.push_back(other);
  for (size_t i = 0; i < settings_.groups.size() && i < report_.named_groups.size(); ++i) {
    const SiteReport& group = report_.named_groups[i];
    metrics.groups.push_back({settings_.groups[i].name, group.live_bytes,
                              group.growth_bytes_per_sec, Confidence(group)});
  }
  metrics.sampled_live_bytes = report_.heap.live_bytes;
  const proto::Snapshot& latest = window_.latest();
  const proto::ProcessMemory& memory = latest.memory();
  metrics.resident_bytes = static_cast<double>(memory.rss_bytes());
  metrics.has_allocator_stats = memory.has_allocator_stats();
  metrics.allocator_in_use_bytes = static_cast<double>(memory.allocator_in_use_bytes());
  metrics.allocator_retained_bytes = static_cast<double>(memory.allocator_free_bytes());
  metrics.allocator_mapped_bytes = static_cast<double>(memory.allocator_mapped_bytes());
  metrics.start_time_seconds = static_cast<double>(header.start_time_unix_ns()) / 1e9;
  metrics.last_snapshot_seconds = last_snapshot_seconds_;
  const proto::AgentStats& stats = latest.stats();
  metrics.samples = stats.samples();
  metrics.dropped_samples = stats.dropped_ring_full() + stats.dropped_no_ring() +
                            stats.dropped_live_table_full() + stats.dropped_stack_table_full();
  metrics.snapshots = window_.snapshots_seen();
  metrics.sampling_interval_bytes = static_cast<double>(
      stats.current_sample_bytes() != 0 ? stats.current_sample_bytes() : header.sample_bytes());
  metrics.tracked_sites = window_.call_sites();
  metrics.window_seconds = report_.seconds;
  return metrics;
}

std::string MonitoredProcess::PprofGzip() {
  std::lock_guard lock(mutex_);
  const Recording& recording = window_.Materialize();
  CallSiteResolver& resolver = Resolver(recording);
  return GzipBytes(BuildPprofProfile(resolver).SerializeAsString());
}

std::vector<ProcessReport> MonitoredProcess::ReportNow() {
  std::vector<ProcessReport> processes(1);
  processes[0].path = identity_.comm + " (pid " + std::to_string(identity_.pid) + ")";
  processes[0].recording = window_.Materialize();
  processes[0].report = BuildGrowthReport(Resolver(window_.Materialize()));
  processes[0].readable = true;
  return processes;
}

nlohmann::json MonitoredProcess::ReportJson(size_t top) {
  std::lock_guard lock(mutex_);
  return heapdrift::ReportJson(ReportNow(), top);
}

std::string MonitoredProcess::ReportPage(size_t top) {
  std::lock_guard lock(mutex_);
  std::vector<ProcessReport> processes = ReportNow();
  std::vector<HtmlProcess> detailed = {
      {&processes[0], BuildHeapMoments(Resolver(window_.Materialize()))}};
  return HtmlReportPage(processes[0].path, processes, detailed, top);
}

}  // namespace heapdrift::serve
