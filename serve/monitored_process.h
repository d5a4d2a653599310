// One process an agent streams to the daemon: its recent window
// (recording/recording_window.h), the analysis of it, refreshed at most every
// `refresh_seconds` and cached (a scrape costs the same however old the
// process is), the sticky membership of its exported call sites, and what
// the HTTP endpoints serve of it. Thread-safe: the agent loop adds snapshots
// while HTTP threads read.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "call_site_resolver.h"
#include "growth_report.h"
#include "prometheus_text.h"
#include "recording_window.h"
#include "report_output.h"

namespace heapdrift::serve {

struct GroupPattern {
  std::string name;
  std::string text;     // as the user wrote it
  std::regex pattern;   // searched in every frame's function name, file and module
};

struct MonitorSettings {
  double window_seconds = 600;
  size_t window_points = 120;
  size_t top_sites = 20;
  // An exported site stays until it has been out of the top 2N this long: a
  // series that comes and goes resets Prometheus' deriv() and for: timers.
  double hold_seconds = 3600;
  double refresh_seconds = 5;
  std::vector<GroupPattern> groups;
  std::vector<std::string> wrappers;
};

struct ProcessIdentity {
  pid_t pid = 0;                // from the socket's peer (SO_PEERCRED)
  uint64_t start_ticks = 0;     // from /proc/PID/stat
  std::string comm;             // from /proc/PID/comm
  std::string service_name;     // HEAPDRIFT_SERVICE, else the executable's name
};

class MonitoredProcess {
 public:
  // `symbols` (the daemon's, shared by every process) outlives it.
  MonitoredProcess(ProcessIdentity identity, const proto::Header& header,
                   const MonitorSettings& settings, symbolizer::SharedSymbolizer& symbols);

  // False if the snapshot breaks the format's limits (it is ignored).
  bool Add(proto::Snapshot snapshot, double received_unix_seconds);
  proto::Snapshot WholeState() const;
  const ProcessIdentity& identity() const { return identity_; }

  ProcessMetrics Metrics(double now_unix_seconds);
  // The live heap now as a gzipped pprof profile.
  std::string PprofGzip();
  // The ranked suspects, as `report --json` prints them.
  nlohmann::json ReportJson(size_t top);
  // The same as `report --html`'s page, of the recent window.
  std::string ReportPage(size_t top);

 private:
  struct Member {
    std::string function;
    double last_in_top = 0;  // Unix seconds
  };
  void Refresh(double now);  // holds mutex_
  std::vector<ProcessReport> ReportNow();  // holds mutex_
  CallSiteResolver& Resolver(const Recording& recording);
  bool InGroup(size_t group, uint32_t stack_id, const ResolvedStack& stack);

  const ProcessIdentity identity_;
  const MonitorSettings& settings_;
  symbolizer::SharedSymbolizer& symbols_;
  mutable std::mutex mutex_;
  RecordingWindow window_;
  std::unique_ptr<CallSiteResolver> resolver_;
  GrowthReport report_;
  double analysed_at_ = -1e300;
  bool changed_since_analysis_ = true;
  std::map<std::string, Member> members_;  // by site key
  std::unordered_map<uint32_t, std::vector<bool>> group_cache_;  // stack id -> per group
  size_t group_cache_mappings_ = 0;
  double last_snapshot_seconds_ = 0;
};

}  // namespace heapdrift::serve
