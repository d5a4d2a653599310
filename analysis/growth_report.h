// The heart of `heapdrift report`: from a recording to call sites ranked by
// how fast their live memory grows, with the memory of the process
// reconciled against the estimated live heap. Typed results; export/ words
// them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "call_site_resolver.h"
#include "frame.h"
#include "recording.h"
#include "trend.h"

namespace heapdrift {

// A group of stacks the user named (heapdrift serve --group session=REGEX):
// judged as one site, whatever its members' sites.
struct NamedGroup {
  std::string name;
  // Whether a stack belongs; called for every stack of every analysis (the
  // caller caches by id what costs).
  std::function<bool(uint32_t stack_id, const ResolvedStack& stack)> contains;
};

struct ReportOptions {
  double from_seconds = -1e300;       // window of the recording to analyse
  double to_seconds = 1e300;
  size_t max_points = 120;            // snapshots sampled for the trend statistics
  std::vector<NamedGroup> groups;
};

struct SiteReport {
  symbolizer::Frame site;                // the allocating call site (or the shared caller)
  std::string site_key;                  // as CallSiteResolver groups stacks
  std::vector<symbolizer::Frame> stack;  // of its largest stack, from the site outwards
  double live_bytes = 0;                 // at the end of the window
  double live_objects = 0;
  double allocated_bytes = 0;
  double growth_bytes_per_sec = 0;       // Theil-Sen
  RateEstimate rate;                     // the same, with its 90 % interval
  Evidence evidence;                     // what the verdict was drawn from
  Classification classification;
  std::vector<double> series;            // live bytes at the sampled snapshots
  size_t stack_count = 0;
  size_t call_sites = 1;                 // more when it sums sites by a shared caller
};

struct MemorySummary {
  double rss_first = 0, rss_last = 0;
  bool has_allocator_stats = false;
  double in_use_first = 0, in_use_last = 0;  // malloc's own count of bytes in use
  double free_first = 0, free_last = 0;      // held by malloc but free (fragmentation)
  double live_first = 0, live_last = 0;      // estimated live heap, all sites
};

// The process's memory at each point of the series, beside the live heap
// (GrowthReport::heap.series): what a chart reconciles.
struct MemoryOverTime {
  bool has_allocator_stats = false;  // at every point
  std::vector<double> rss, in_use, retained;  // retained: malloc's free bytes
};

struct GrowthReport {
  std::vector<SiteReport> growing;  // ranked: growth rate x confidence
  std::vector<SiteReport> others;   // the rest, by live bytes
  SiteReport heap;                  // every site as one: the live heap
  // The heap grows, and the growing sites explain less than half of it.
  bool growth_unexplained = false;
  // Then: the other sites summed by the caller they share (the shallowest
  // level where some sums grow) or by module, growing sums ranked.
  std::vector<SiteReport> spread_growth;
  // One per ReportOptions::groups, in its order; a group without members
  // has an empty series and zero bytes.
  std::vector<SiteReport> named_groups;
  MemorySummary memory;
  MemoryOverTime memory_over_time;
  std::vector<double> point_seconds;  // when each point of every series was taken
  double seconds = 0;               // length of the analysed window
  size_t snapshots = 0;
};

// The recording is the resolver's.
GrowthReport BuildGrowthReport(CallSiteResolver& resolver, const ReportOptions& options = {});


}  // namespace heapdrift
