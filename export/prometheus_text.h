// The Prometheus text exposition (format 0.0.4) of what `heapdrift serve`
// monitors: per process, a capped top-N of call sites plus an `other`
// bucket, the user's named groups, memory, and the agent's health; and the
// daemon's own counters. Names, types and units follow Prometheus' naming
// rules (base units, `_total` only on counters, no `process_` prefix, which
// belongs to the exposing process); `promtool check metrics` is the test.
// Every metric is described once, in prometheus_text.cc's table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heapdrift {

inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";
// Longest label value written: long C++ names are cut (and marked), since
// Prometheus fails a whole scrape over its label_value_length_limit.
inline constexpr size_t kMaxLabelValueBytes = 128;

struct SiteMetrics {
  std::string site;      // a stable hash of the call site, or "other"
  std::string function;  // the allocating function, demangled
  double live_bytes = 0;
  double live_objects = 0;
  double growth_bytes_per_second = 0;  // Theil-Sen over the daemon's window
  double growth_confidence = 0;        // that it grows (heapdrift's verdict), 0 to 1
};

struct GroupMetrics {
  std::string group;
  double live_bytes = 0;
  double growth_bytes_per_second = 0;
  double growth_confidence = 0;
};

struct ProcessMetrics {
  std::string service_name;
  uint32_t pid = 0;
  std::string comm;
  std::string agent_version;
  std::vector<SiteMetrics> sites;  // the exported ones, then "other"
  std::vector<GroupMetrics> groups;
  double sampled_live_bytes = 0;
  double resident_bytes = 0;
  bool has_allocator_stats = false;
  double allocator_in_use_bytes = 0;
  double allocator_retained_bytes = 0;  // free but held by malloc
  double allocator_mapped_bytes = 0;
  double start_time_seconds = 0;  // Unix time
  double last_snapshot_seconds = 0;
  uint64_t samples = 0;
  uint64_t dropped_samples = 0;
  uint64_t snapshots = 0;
  double sampling_interval_bytes = 0;
  uint64_t tracked_sites = 0;
  double window_seconds = 0;  // what the growth statistics cover now
};

struct DaemonMetrics {
  uint64_t agents = 0;                  // connected now
  uint64_t connections_total = 0;
  uint64_t rejected_connections_total = 0;  // not an agent, or broke the format
  uint64_t stored_bytes = 0;
  uint64_t deleted_segments_total = 0;
  uint64_t capped_site_series = 0;  // left out by the series cap in this scrape
};

// `window_seconds` is stated in the growth metrics' help.
std::string PrometheusText(const std::vector<ProcessMetrics>& processes,
                           const DaemonMetrics& daemon, double window_seconds);

// A label value as the text format writes it: \, " and newline escaped,
// cut to kMaxLabelValueBytes on a UTF-8 boundary, "..." marking a cut.
std::string PrometheusLabelValue(const std::string& value);

}  // namespace heapdrift
