#include "report_output.h"

#include <fmt/format.h>

#include <algorithm>

#include "format.h"
#include "frame_json.h"
#include "recording_tree.h"

namespace heapdrift {

// "15 % of what it allocated before 8.0 s is still live; none of that died
// after 14.0 s" (a leak keeps what it keeps; a cache's old memory dies).
std::string AgeText(const OldMemory& old) {
  std::string text = fmt::format("{:.0f} % of what it allocated before {:.1f} s is still live",
                                 100 * old.kept_share(), old.born_before);
  if (old.live_at_check <= 0) return text;
  double died = 1 - old.persistence();
  if (died < 0.005) return text + fmt::format("; none of that died after {:.1f} s", old.checked_at);
  return text + fmt::format("; {:.0f} % of what was left at {:.1f} s died since", 100 * died,
                            old.checked_at);
}

namespace {

std::string EvidenceLine(const SiteReport& site) {
  std::string line = fmt::format("rate {}-{}/s (90 %)", HumanBytes(std::max(site.rate.low, 0.0)),
                                 HumanBytes(site.rate.high));
  if (site.evidence.old.known()) line += "; " + AgeText(site.evidence.old);
  return line;
}

void PrintRanked(std::FILE* out, const std::vector<SiteReport>& sites, size_t top, bool sums) {
  fmt::print(out, "{:>4}  {:>12}  {:>10}  {:>10}  {:<12}  {}\n", "rank", "growth", "live now",
             "confidence", "live bytes", sums ? "caller the sites share" : "allocating call site");
  for (size_t i = 0; i < sites.size() && i < top; ++i) {
    const SiteReport& site = sites[i];
    fmt::print(out, "{:>4}  {:>10}/s  {:>10}  {:>9.1f}%  {}  {}{}\n", i + 1,
               HumanBytes(site.growth_bytes_per_sec), HumanBytes(site.live_bytes),
               100 * site.classification.confidence, Sparkline(site.series, 12),
               FrameTitle(site.site),
               sums ? fmt::format("  [{} call sites]", site.call_sites) : "");
    fmt::print(out, "{:>50}{}\n", "", EvidenceLine(site));
    // The callers, under the call site itself.
    for (size_t frame = 1; frame < site.stack.size() && frame <= 6; ++frame) {
      fmt::print(out, "{:>50}{}{}\n", "", site.stack[frame].inlined ? "(inlined) " : "",
                 FrameTitle(site.stack[frame]));
    }
  }
}

// What a verdict was drawn from (README "How growth is judged").
nlohmann::json EvidenceJson(const Evidence& evidence) {
  nlohmann::json json = {{"rise_bytes", evidence.whole.bytes},
                         {"rise_z", evidence.whole.z},
                         {"recent_rise_bytes", evidence.recent.bytes},
                         {"recent_rise_z", evidence.recent.z}};
  if (evidence.old.known()) {
    json["old_memory"] = {{"born_before_seconds", evidence.old.born_before},
                          {"allocated_bytes", evidence.old.allocated},
                          {"live_bytes", evidence.old.live_at_end},
                          {"kept_share", evidence.old.kept_share()},
                          {"checked_at_seconds", evidence.old.checked_at},
                          {"persistence", evidence.old.persistence()}};
  }
  return json;
}

double FastestGrowth(const ProcessReport& process) {
  return process.report.growing.empty() ? 0 : process.report.growing.front().growth_bytes_per_sec;
}

nlohmann::json SiteJson(const SiteReport& site, const ProcessReport& process) {
  nlohmann::json entry = FrameJson(site.site);
  entry["pid"] = process.recording.header.pid();
  entry["recording"] = process.path;
  entry["live_bytes"] = static_cast<int64_t>(site.live_bytes);
  entry["growth_bytes_per_sec"] = site.growth_bytes_per_sec;
  entry["confidence"] = site.classification.confidence;
  entry["growth_interval"] = {site.rate.low, site.rate.high};
  entry["evidence"] = EvidenceJson(site.evidence);
  entry["stack"] = StackJson(site.stack);
  return entry;
}

}  // namespace

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

void PrintReportText(std::FILE* out, const ProcessReport& process, size_t top) {
  const Recording& recording = process.recording;
  const GrowthReport& report = process.report;
  std::string command;
  for (const std::string& argument : recording.header.command_line()) command += argument + " ";
  fmt::print(out, "heapdrift report: {}\n", process.path);
  fmt::print(out, "process {}: {}\n", recording.header.pid(), command);
  if (std::string note = recording.StartNote(); !note.empty()) fmt::print(out, "{}\n", note);
  fmt::print(out, "{} snapshots over {:.1f} s\n", report.snapshots, report.seconds);
  fmt::print(out, "memory: {}\n", ExplainMemory(report.memory));
  if (report.growth_unexplained) {
    fmt::print(out, "the live heap grows {}/s ({}-{}/s, 90 %) and no single call site explains it{}\n",
               HumanBytes(report.heap.growth_bytes_per_sec),
               HumanBytes(std::max(report.heap.rate.low, 0.0)), HumanBytes(report.heap.rate.high),
               report.spread_growth.empty() ? "; no caller or module they share grows either"
                                            : ": summed by the caller they share, below");
  }
  fmt::print(out, "\n");
  if (report.growing.empty()) {
    fmt::print(out, "no call site's live memory grows steadily.\n");
  } else {
    fmt::print(out, "growing call sites ({} of {}):\n", report.growing.size(),
               report.growing.size() + report.others.size());
    PrintRanked(out, report.growing, top, false);
  }
  if (!report.spread_growth.empty()) {
    fmt::print(out, "\ngrowth spread over many call sites, summed by the caller they share:\n");
    PrintRanked(out, report.spread_growth, top, true);
  }
  if (!report.others.empty()) {
    fmt::print(out, "\nnot growing: {} call sites; the largest:\n", report.others.size());
    for (size_t i = 0; i < report.others.size() && i < 3; ++i) {
      const SiteReport& site = report.others[i];
      fmt::print(out, "  {:>10} live, {:>10} allocated, {:<9} {}  {}\n", HumanBytes(site.live_bytes),
                 HumanBytes(site.allocated_bytes), VerdictName(site.classification.verdict),
                 Sparkline(site.series, 12), FrameTitle(site.site));
      if (site.evidence.old.known() && site.live_bytes > 0) {
        fmt::print(out, "{:>50}{}\n", "", AgeText(site.evidence.old));
      }
    }
  }
}

nlohmann::json ReportJson(const std::vector<ProcessReport>& processes, size_t top) {
  struct Ranked {
    const ProcessReport* process;
    const SiteReport* site;
  };
  std::vector<Ranked> ranked;
  nlohmann::json heaps = nlohmann::json::array();
  nlohmann::json spread = nlohmann::json::array();
  for (const ProcessReport& process : processes) {
    for (const SiteReport& site : process.report.growing) ranked.push_back({&process, &site});
    if (!process.readable) continue;
    const SiteReport& heap = process.report.heap;
    heaps.push_back({{"pid", process.recording.header.pid()},
                     {"recording", process.path},
                     {"attached", process.recording.header.attached()},
                     {"verdict", VerdictName(heap.classification.verdict)},
                     {"live_bytes", static_cast<int64_t>(heap.live_bytes)},
                     {"growth_bytes_per_sec", heap.growth_bytes_per_sec},
                     {"growth_interval", {heap.rate.low, heap.rate.high}},
                     {"growth_unexplained", process.report.growth_unexplained}});
    for (const SiteReport& sum : process.report.spread_growth) {
      nlohmann::json entry = SiteJson(sum, process);
      entry["call_sites"] = sum.call_sites;
      spread.push_back(std::move(entry));
    }
  }
  // The order each process's report ranks by (growth x confidence), across processes.
  auto score = [](const Ranked& r) {
    return r.site->growth_bytes_per_sec * r.site->classification.confidence;
  };
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&score](const Ranked& a, const Ranked& b) { return score(a) > score(b); });
  nlohmann::json suspects = nlohmann::json::array();
  for (size_t i = 0; i < ranked.size() && i < top; ++i) {
    nlohmann::json entry = SiteJson(*ranked[i].site, *ranked[i].process);
    entry["rank"] = i + 1;
    suspects.push_back(std::move(entry));
  }
  return {{"suspects", suspects}, {"heap", heaps}, {"spread_growth", spread}};
}

std::vector<const ProcessReport*> ProcessesToDetail(const std::vector<ProcessReport>& processes) {
  std::vector<const ProcessReport*> sections;
  for (const ProcessReport& process : processes) {
    if (process.readable && !process.report.growing.empty()) sections.push_back(&process);
  }
  std::stable_sort(sections.begin(), sections.end(), [](const auto* a, const auto* b) {
    return FastestGrowth(*a) > FastestGrowth(*b);
  });
  if (sections.empty()) {
    const ProcessReport* largest = nullptr;
    for (const ProcessReport& process : processes) {
      if (process.readable && !process.recording.snapshots.empty() &&
          (largest == nullptr ||
           process.report.memory.live_last > largest->report.memory.live_last)) {
        largest = &process;
      }
    }
    if (largest != nullptr) sections.push_back(largest);
  }
  return sections;
}

std::string ProcessState(const ProcessReport& process) {
  if (!process.readable) return "unreadable";
  if (process.recording.snapshots.empty()) return "no snapshot (it exec'd or was killed at once)";
  if (process.report.growing.empty()) {
    return fmt::format("nothing grows; {} live", HumanBytes(process.report.memory.live_last));
  }
  return fmt::format("{} growing call site(s), fastest {}/s", process.report.growing.size(),
                     HumanBytes(FastestGrowth(process)));
}

void PrintReportTree(std::FILE* out, const std::string& first_path,
                     const std::vector<ProcessReport>& processes, size_t top) {
  fmt::print(out, "heapdrift report: {} and {} recording(s) of the processes started from it\n",
             first_path, processes.size() - 1);
  size_t path_width = 0;
  for (const ProcessReport& process : processes) {
    path_width = std::max(path_width, process.path.size());
  }
  for (const ProcessReport& process : processes) {
    fmt::print(out, "  {:<{}}  {}: {}\n", process.path, path_width,
               DescribeProcess(process.recording.header), ProcessState(process));
  }
  std::vector<const ProcessReport*> sections = ProcessesToDetail(processes);
  for (size_t i = 0; i < sections.size() && i < kMaxDetailedProcesses; ++i) {
    fmt::print(out, "\n");
    PrintReportText(out, *sections[i], top);
  }
  if (sections.size() > kMaxDetailedProcesses) {
    fmt::print(out, "\n{} more processes have growing call sites: heapdrift report on their "
               "recordings, listed above\n",
               sections.size() - kMaxDetailedProcesses);
  }
}

}  // namespace heapdrift
