#include "html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "format.h"
#include "html_page.h"  // generated from html/page.html and html/page.js
#include "recording_tree.h"

namespace heapdrift {
namespace {

// The page's data document (read by html/page.js, nowhere else):
//   {"kind": "report" | "check", "title", ...}  see ReportJson / CheckPageJson below.
// Bytes are whole numbers: the page shows no fraction of a byte, and a day's
// series are smaller so.
int64_t Whole(double bytes) { return std::llround(bytes); }

nlohmann::json WholeSeries(const std::vector<double>& values) {
  nlohmann::json series = nlohmann::json::array();
  for (double value : values) series.push_back(Whole(value));
  return series;
}

nlohmann::json TimesJson(const std::vector<double>& seconds) {
  nlohmann::json times = nlohmann::json::array();
  for (double t : seconds) times.push_back(std::round(t * 1000) / 1000);
  return times;
}

std::string FrameLabel(const symbolizer::Frame& frame) {
  return frame.function.empty() ? frame.ModuleOffset() : ShortFunction(frame.function);
}

std::string StackFrameTitle(const symbolizer::Frame& frame) {
  return (frame.inlined ? "(inlined) " : "") + FrameTitle(frame);
}

// A stack as the text report names its frames: from the allocating call site outwards.
nlohmann::json StackTitles(const std::vector<symbolizer::Frame>& stack) {
  nlohmann::json titles = nlohmann::json::array();
  for (const symbolizer::Frame& frame : stack) titles.push_back(StackFrameTitle(frame));
  return titles;
}

// {"times": [t...], "frames": [[label, title]...], "paths": [[frame...] root first...],
//  "live": [[bytes per path] per moment], "rest": [bytes per moment], "left_out": n}
nlohmann::json FlameJson(const HeapMoments& heap) {
  nlohmann::json frames = nlohmann::json::array();
  for (const symbolizer::Frame& frame : heap.frames) {
    frames.push_back({FrameLabel(frame), StackFrameTitle(frame)});
  }
  nlohmann::json paths = nlohmann::json::array();
  for (const HeapPath& path : heap.paths) paths.push_back(path.frames);
  nlohmann::json live = nlohmann::json::array();
  for (size_t moment = 0; moment < heap.seconds.size(); ++moment) {
    nlohmann::json values = nlohmann::json::array();
    for (const HeapPath& path : heap.paths) values.push_back(Whole(path.live[moment]));
    live.push_back(std::move(values));
  }
  return {{"times", TimesJson(heap.seconds)}, {"frames", std::move(frames)},
          {"paths", std::move(paths)},        {"live", std::move(live)},
          {"rest", WholeSeries(heap.rest_live)}, {"left_out", heap.paths_left_out}};
}

nlohmann::json SiteJson(const SiteReport& site, bool sums) {
  nlohmann::json json = {{"title", FrameTitle(site.site)},
                         {"live_bytes", Whole(site.live_bytes)},
                         {"allocated_bytes", Whole(site.allocated_bytes)},
                         {"growth_bytes_per_sec", site.growth_bytes_per_sec},
                         {"growth_interval", {site.rate.low, site.rate.high}},
                         {"confidence", site.classification.confidence},
                         {"verdict", VerdictName(site.classification.verdict)},
                         {"age", site.evidence.old.known() ? AgeText(site.evidence.old) : ""},
                         {"series", WholeSeries(site.series)},
                         {"stack", StackTitles(site.stack)}};
  if (sums) json["call_sites"] = site.call_sites;
  return json;
}

nlohmann::json SitesJson(const std::vector<SiteReport>& sites, size_t top, bool sums = false) {
  nlohmann::json json = nlohmann::json::array();
  for (size_t i = 0; i < sites.size() && i < top; ++i) json.push_back(SiteJson(sites[i], sums));
  return json;
}

std::string CommandLine(const proto::Header& header) {
  std::string command;
  for (const std::string& argument : header.command_line()) {
    command += (command.empty() ? "" : " ") + argument;
  }
  return command;
}

// The report's answer in one sentence.
std::string Headline(const GrowthReport& report) {
  if (report.snapshots == 0) {
    return "No snapshot to judge: the process ended, or exec'd, before its first one.";
  }
  if (!report.growing.empty()) {
    const SiteReport& first = report.growing.front();
    return fmt::format(
        "{} keeps growing: {}/s (90 %: {}-{}/s) with {:.1f} % confidence; {} of {} call sites "
        "grow.",
        FrameTitle(first.site), HumanBytes(first.growth_bytes_per_sec),
        HumanBytes(std::max(first.rate.low, 0.0)), HumanBytes(first.rate.high),
        100 * first.classification.confidence, report.growing.size(),
        report.growing.size() + report.others.size());
  }
  if (report.growth_unexplained) {
    return fmt::format("The live heap grows {}/s and no single call site explains it.",
                       HumanBytes(report.heap.growth_bytes_per_sec));
  }
  return fmt::format("No call site's live memory grows steadily over {:.1f} s ({} snapshots).",
                     report.seconds, report.snapshots);
}

nlohmann::json DetailedJson(const HtmlProcess& detailed, size_t top) {
  const ProcessReport& process = *detailed.process;
  const GrowthReport& report = process.report;
  const MemoryOverTime& memory = report.memory_over_time;
  nlohmann::json memory_json = {{"rss", WholeSeries(memory.rss)}};
  if (memory.has_allocator_stats) {
    memory_json["in_use"] = WholeSeries(memory.in_use);
    memory_json["retained"] = WholeSeries(memory.retained);
  }
  memory_json["live_heap"] =
      report.heap.series.empty() ? WholeSeries(std::vector<double>(report.point_seconds.size(), 0))
                                 : WholeSeries(report.heap.series);
  nlohmann::json json = {{"pid", process.recording.header.pid()},
                         {"command", CommandLine(process.recording.header)},
                         {"path", process.path},
                         {"start_note", process.recording.StartNote()},
                         {"snapshots", report.snapshots},
                         {"seconds", report.seconds},
                         {"headline", Headline(report)},
                         {"memory_text", report.snapshots > 0 ? ExplainMemory(report.memory) : ""},
                         {"times", TimesJson(report.point_seconds)},
                         {"memory", std::move(memory_json)},
                         {"suspects", SitesJson(report.growing, top)},
                         {"growing_count", report.growing.size()},
                         {"spread_growth", SitesJson(report.spread_growth, top, true)},
                         {"others", SitesJson(report.others, top)},
                         {"others_count", report.others.size()},
                         {"flame", FlameJson(detailed.heap)}};
  if (report.growth_unexplained) {
    json["heap_growth"] = {{"growth_bytes_per_sec", report.heap.growth_bytes_per_sec},
                           {"growth_interval", {report.heap.rate.low, report.heap.rate.high}}};
  }
  return json;
}

// The template with its blanks filled: the title (escaped as text), the data
// (as a JSON script block, where only "</script" could end it early: every
// '<' is written as \u003c, which JSON reads back the same).
std::string FillPage(const std::string& title, const std::string& headline,
                     const nlohmann::json& data) {
  std::string json = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string escaped_json;
  escaped_json.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      escaped_json += "\\u003c";
    } else {
      escaped_json += c;
    }
  }
  std::string title_text = HtmlEscape(title), headline_text = HtmlEscape(headline);
  std::map<std::string_view, std::string_view> blanks = {{"TITLE", title_text},
                                                          {"HEADLINE", headline_text},
                                                          {"DATA", escaped_json},
                                                          {"SCRIPT", html_page::kScript}};
  std::string page;
  for (size_t i = 0; i < std::size(html_page::kTexts); ++i) {
    page += html_page::kTexts[i];
    if (i < std::size(html_page::kBlanks)) page += blanks.at(html_page::kBlanks[i]);
  }
  return page;
}

std::string PageTitle(const std::string& title) { return "heapdrift report: " + title; }

// A flame graph of leak groups: one path per group's stack, one moment.
nlohmann::json LeakFlameJson(const ProcessCheck& process, const CheckOptions& options) {
  HeapMoments heap;
  heap.seconds = {process.seconds};
  heap.rest_live = {0};
  std::map<std::string, uint32_t> frame_index;
  for (const LeakGroup& group : process.leaks) {
    if (group.kind == LeakKind::kReachable && !options.include_reachable) continue;
    HeapPath path;
    for (auto frame = group.stack.rbegin(); frame != group.stack.rend(); ++frame) {
      auto [it, inserted] = frame_index.try_emplace(StackFrameTitle(*frame),
                                                    static_cast<uint32_t>(heap.frames.size()));
      if (inserted) heap.frames.push_back(*frame);
      path.frames.push_back(it->second);
    }
    path.live = {group.bytes};
    heap.paths.push_back(std::move(path));
  }
  return FlameJson(heap);
}

}  // namespace

std::string HtmlReportPage(const std::string& title, const std::vector<ProcessReport>& processes,
                           const std::vector<HtmlProcess>& detailed, size_t top) {
  nlohmann::json all = nlohmann::json::array();
  for (const ProcessReport& process : processes) {
    all.push_back({{"pid", process.recording.header.pid()},
                   {"path", process.path},
                   {"process", DescribeProcess(process.recording.header)},
                   {"state", ProcessState(process)}});
  }
  nlohmann::json sections = nlohmann::json::array();
  for (const HtmlProcess& process : detailed) sections.push_back(DetailedJson(process, top));
  std::string headline = detailed.empty() ? "No readable recording."
                                          : Headline(detailed.front().process->report);
  return FillPage(PageTitle(title), headline,
                  {{"kind", "report"},
                   {"title", PageTitle(title)},
                   {"processes", std::move(all)},
                   {"detailed", std::move(sections)}});
}

std::string HtmlCheckPage(const CheckRun& run, const CheckOptions& options, int exit_code) {
  std::string command;
  for (const std::string& argument : run.command) command += (command.empty() ? "" : " ") + argument;
  nlohmann::json processes = nlohmann::json::array();
  for (const ProcessCheck& process : run.processes) {
    nlohmann::json leaks = nlohmann::json::array();
    for (const LeakGroup& group : process.leaks) {
      leaks.push_back({{"kind", LeakKindText(group.kind)},
                       {"counts", group.kind != LeakKind::kReachable || options.include_reachable},
                       {"bytes", Whole(group.bytes)},
                       {"objects", Whole(group.objects)},
                       {"title", FrameTitle(group.site)},
                       {"stack", StackTitles(group.stack)}});
    }
    nlohmann::json growth = nlohmann::json::array();
    for (const GrowthFinding& finding : process.growth) {
      growth.push_back({{"title", FrameTitle(finding.site)},
                        {"growth_bytes_per_sec", finding.growth_bytes_per_sec},
                        {"confidence", finding.confidence},
                        {"live_bytes", Whole(finding.live_bytes)},
                        {"stack", StackTitles(finding.stack)}});
    }
    processes.push_back({{"pid", process.pid},
                         {"command", process.CommandLine()},
                         {"failed", process.Failed(options)},
                         {"summary", ProcessCheckSummary(process)},
                         {"leaks", std::move(leaks)},
                         {"growth", std::move(growth)},
                         {"flame", LeakFlameJson(process, options)}});
  }
  std::string verdict = CheckVerdict(run, options);
  std::string title = "heapdrift check: " + command;
  return FillPage(title, verdict,
                  {{"kind", "check"},
                   {"title", title},
                   {"verdict", verdict},
                   {"exit_code", exit_code},
                   {"processes", std::move(processes)},
                   {"max_growth_bytes_per_sec",
                    options.max_growth ? nlohmann::json(*options.max_growth) : nlohmann::json()}});
}

}  // namespace heapdrift
