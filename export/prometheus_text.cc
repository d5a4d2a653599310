#include "prometheus_text.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>

namespace heapdrift {
namespace {

// Integral values print without exponent or fraction; others in full.
std::string Number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return fmt::format("{:.0f}", value);
  return fmt::format("{}", value);
}

class Exposition {
 public:
  // One family: its help and type once, then its samples (none: left out).
  void Family(const char* name, const char* type, const std::string& help,
              const std::function<void()>& samples) {
    name_ = name;
    size_t before = text_.size();
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    size_t header = text_.size();
    samples();
    if (text_.size() == header) text_.resize(before);
  }

  void Sample(const std::string& labels, double value) {
    text_ += name_;
    if (!labels.empty()) text_ += "{" + labels + "}";
    text_ += " " + Number(value) + "\n";
  }

  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
  const char* name_ = "";
};

std::string Label(const char* name, const std::string& value) {
  return fmt::format("{}=\"{}\"", name, PrometheusLabelValue(value));
}

std::string ProcessLabels(const ProcessMetrics& process) {
  return Label("service_name", process.service_name) + "," +
         Label("pid", std::to_string(process.pid)) + "," + Label("comm", process.comm);
}

using Value = double (*)(const ProcessMetrics&);
using SiteValue = double SiteMetrics::*;
using GroupValue = double GroupMetrics::*;

}  // namespace

std::string PrometheusLabelValue(const std::string& value) {
  std::string cut = value;
  if (cut.size() > kMaxLabelValueBytes) {
    size_t end = kMaxLabelValueBytes - 3;
    while (end > 0 && (static_cast<unsigned char>(cut[end]) & 0xC0) == 0x80) --end;
    cut = cut.substr(0, end) + "...";
  }
  std::string escaped;
  for (char c : cut) {
    if (c == '\\') escaped += "\\\\";
    else if (c == '"') escaped += "\\\"";
    else if (c == '\n') escaped += "\\n";
    else escaped += c;
  }
  return escaped;
}

std::string PrometheusText(const std::vector<ProcessMetrics>& processes,
                           const DaemonMetrics& daemon, double window_seconds) {
  Exposition out;
  const std::string window = fmt::format("the last {} s", Number(window_seconds));
  auto per_process = [&](const char* name, const char* type, const std::string& help,
                         Value value, bool (*applies)(const ProcessMetrics&) = nullptr) {
    out.Family(name, type, help, [&] {
      for (const ProcessMetrics& process : processes) {
        if (applies == nullptr || applies(process)) out.Sample(ProcessLabels(process), value(process));
      }
    });
  };
  auto per_site = [&](const char* name, const std::string& help, SiteValue value) {
    out.Family(name, "gauge", help, [&] {
      for (const ProcessMetrics& process : processes) {
        for (const SiteMetrics& site : process.sites) {
          out.Sample(ProcessLabels(process) + "," + Label("site", site.site) + "," +
                         Label("function", site.function),
                     site.*value);
        }
      }
    });
  };
  auto per_group = [&](const char* name, const std::string& help, GroupValue value) {
    out.Family(name, "gauge", help, [&] {
      for (const ProcessMetrics& process : processes) {
        for (const GroupMetrics& group : process.groups) {
          out.Sample(ProcessLabels(process) + "," + Label("group", group.group), group.*value);
        }
      }
    });
  };

  out.Family("heapdrift_agent_info", "gauge", "Monitored processes; the value is always 1.", [&] {
    for (const ProcessMetrics& process : processes) {
      out.Sample(ProcessLabels(process) + "," + Label("version", process.agent_version), 1);
    }
  });
  per_site("heapdrift_site_live_bytes",
           "Estimated live heap bytes allocated at a call site (top sites by live bytes and "
           "growth; site=\"other\" holds the rest).",
           &SiteMetrics::live_bytes);
  per_site("heapdrift_site_live_objects", "Estimated live objects allocated at a call site.",
           &SiteMetrics::live_objects);
  per_site("heapdrift_site_growth_bytes_per_second",
           "Growth of a call site's live bytes (Theil-Sen slope over " + window + ").",
           &SiteMetrics::growth_bytes_per_second);
  per_site("heapdrift_site_growth_confidence",
           "Confidence that a call site's live memory grows like a leak (heapdrift's verdict "
           "over " + window + "; 0 when it does not grow).",
           &SiteMetrics::growth_confidence);
  per_group("heapdrift_group_live_bytes",
            "Estimated live heap bytes of the stacks matching a named group (--group).",
            &GroupMetrics::live_bytes);
  per_group("heapdrift_group_growth_bytes_per_second",
            "Growth of a named group's live bytes (Theil-Sen slope over " + window + ").",
            &GroupMetrics::growth_bytes_per_second);
  per_group("heapdrift_group_growth_confidence",
            "Confidence that a named group's live memory grows like a leak (over " + window +
                "; 0 when it does not grow).",
            &GroupMetrics::growth_confidence);
  per_process("heapdrift_sampled_live_bytes", "gauge",
              "Estimated live heap bytes of the process (all call sites).",
              [](const ProcessMetrics& p) { return p.sampled_live_bytes; });
  per_process("heapdrift_process_resident_memory_bytes", "gauge",
              "Resident set size of the monitored process.",
              [](const ProcessMetrics& p) { return p.resident_bytes; });
  auto allocator = [](const ProcessMetrics& p) { return p.has_allocator_stats; };
  per_process("heapdrift_allocator_in_use_bytes", "gauge",
              "Bytes malloc counts as in use (glibc mallinfo2).",
              [](const ProcessMetrics& p) { return p.allocator_in_use_bytes; }, allocator);
  per_process("heapdrift_allocator_retained_bytes", "gauge",
              "Bytes free but retained by malloc (glibc mallinfo2 fordblks).",
              [](const ProcessMetrics& p) { return p.allocator_retained_bytes; }, allocator);
  per_process("heapdrift_allocator_mapped_bytes", "gauge",
              "Bytes malloc obtained from the kernel (glibc mallinfo2 arena + hblkhd).",
              [](const ProcessMetrics& p) { return p.allocator_mapped_bytes; }, allocator);
  per_process("heapdrift_process_start_time_seconds", "gauge",
              "Start time of the monitored process's agent, seconds since the Unix epoch.",
              [](const ProcessMetrics& p) { return p.start_time_seconds; });
  per_process("heapdrift_agent_last_snapshot_timestamp_seconds", "gauge",
              "When the daemon received the agent's last snapshot, seconds since the Unix epoch.",
              [](const ProcessMetrics& p) { return p.last_snapshot_seconds; });
  per_process("heapdrift_agent_samples_total", "counter", "Allocations the agent sampled.",
              [](const ProcessMetrics& p) { return static_cast<double>(p.samples); });
  per_process("heapdrift_agent_dropped_samples_total", "counter",
              "Sampled allocations the agent lost to full buffers or tables.",
              [](const ProcessMetrics& p) { return static_cast<double>(p.dropped_samples); });
  per_process("heapdrift_agent_snapshots_total", "counter",
              "Snapshots the daemon received from the agent.",
              [](const ProcessMetrics& p) { return static_cast<double>(p.snapshots); });
  per_process("heapdrift_agent_sampling_interval_bytes", "gauge",
              "Mean sampling interval in force (1: every allocation).",
              [](const ProcessMetrics& p) { return p.sampling_interval_bytes; });
  per_process("heapdrift_tracked_sites", "gauge",
              "Call sites the agent reported, exported or not.",
              [](const ProcessMetrics& p) { return static_cast<double>(p.tracked_sites); });
  per_process("heapdrift_growth_window_seconds", "gauge",
              "Span of snapshots the growth statistics cover now (at most the daemon's window).",
              [](const ProcessMetrics& p) { return p.window_seconds; });

  auto daemon_value = [&](const char* name, const char* type, const char* help, double value) {
    out.Family(name, type, help, [&] { out.Sample("", value); });
  };
  daemon_value("heapdrift_agents", "gauge", "Agents connected to the daemon now.",
               static_cast<double>(daemon.agents));
  daemon_value("heapdrift_daemon_connections_total", "counter",
               "Connections the daemon accepted on its agent socket.",
               static_cast<double>(daemon.connections_total));
  daemon_value("heapdrift_daemon_rejected_connections_total", "counter",
               "Connections dropped for sending something other than a recording.",
               static_cast<double>(daemon.rejected_connections_total));
  daemon_value("heapdrift_daemon_stored_bytes", "gauge",
               "Bytes of recording segments the daemon keeps on disk.",
               static_cast<double>(daemon.stored_bytes));
  daemon_value("heapdrift_daemon_deleted_segments_total", "counter",
               "Recording segments deleted to keep within --retain and --max-disk.",
               static_cast<double>(daemon.deleted_segments_total));
  daemon_value("heapdrift_daemon_capped_site_series", "gauge",
               "Call-site series left out of this scrape by the series cap (--max-series).",
               static_cast<double>(daemon.capped_site_series));
  return out.Take();
}

}  // namespace heapdrift
