// heapdrift report: the call sites whose live memory keeps growing, ranked.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <cstdio>
#include <string>
#include <string_view>

#include "command_support.h"
#include "commands.h"
#include "exit_codes.h"
#include "format.h"
#include "growth_report.h"
#include "heap_moments.h"
#include "html_report.h"
#include "recording.h"
#include "recording_tree.h"
#include "report_output.h"
#include "site_series.h"

namespace heapdrift::cli {
namespace {

struct Settings {
  std::string path;
  size_t top = 10;
  bool json = false;
  std::string html_path;
  std::vector<std::string> wrappers;
  std::string debug_paths;
  double from = -1e300, to = 1e300;
};

// The whole command, for `report` and for commands that end with a report.
void Report(const Settings& settings, int* exit_code) {
  std::string error;
  if (!CanWriteOptionalOutput(settings.html_path, &error)) {
    std::fprintf(stderr, "heapdrift: %s\n", error.c_str());
    *exit_code = kExitCannotRun;
    return;
  }
  Recording recording;
  if (!LoadRecordingForCommand(settings.path, &recording, exit_code)) return;
  ReportOptions options;
  options.from_seconds = settings.from;
  options.to_seconds = settings.to;
  if (options.from_seconds >= options.to_seconds) {
    std::fprintf(stderr, "heapdrift: --from must be before --to\n");
    *exit_code = kExitUsage;
    return;
  }
  size_t in_window = 0;
  for (const proto::Snapshot& snapshot : recording.snapshots) {
    double t = SecondsSinceStart(recording, snapshot);
    in_window += t >= options.from_seconds && t <= options.to_seconds;
  }
  if (in_window == 0 && !recording.snapshots.empty()) {
    std::fprintf(stderr,
                 "heapdrift: no snapshot between --from and --to (the recording spans %.1f s "
                 "to %.1f s)\n",
                 SecondsSinceStart(recording, recording.snapshots.front()),
                 SecondsSinceStart(recording, recording.snapshots.back()));
    *exit_code = kExitUsage;
    return;
  }
  std::vector<ProcessReport> processes(1);
  processes[0].path = settings.path;
  processes[0].recording = std::move(recording);
  processes[0].readable = true;
  for (TreeMember& member : FindLaterRecordings(settings.path, processes[0].recording.header)) {
    ProcessReport& process = processes.emplace_back();
    process.path = std::move(member.path);
    process.recording.header = std::move(member.header);
    process.readable = ReadRecording(process.path, &process.recording).status == ReadStatus::kOk;
  }
  // Kept for the page's flame graphs: each address is symbolized once.
  std::vector<std::unique_ptr<CallSiteResolver>> resolvers(processes.size());
  for (size_t i = 0; i < processes.size(); ++i) {
    if (!processes[i].readable) continue;
    resolvers[i] = std::make_unique<CallSiteResolver>(processes[i].recording, settings.wrappers,
                                                      settings.debug_paths);
    processes[i].report = BuildGrowthReport(*resolvers[i], options);
    PrintWarnings(resolvers[i]->warnings());
  }
  if (!settings.html_path.empty()) {
    std::vector<HtmlProcess> detailed;
    std::vector<const ProcessReport*> sections = ProcessesToDetail(processes);
    if (sections.size() > kMaxDetailedProcesses) sections.resize(kMaxDetailedProcesses);
    for (const ProcessReport* process : sections) {
      HeapMomentsOptions moments;
      moments.from_seconds = options.from_seconds;
      moments.to_seconds = options.to_seconds;
      CallSiteResolver& resolver = *resolvers[static_cast<size_t>(process - processes.data())];
      detailed.push_back({process, BuildHeapMoments(resolver, moments)});
    }
    std::string page = HtmlReportPage(settings.path, processes, detailed, settings.top);
    *exit_code = WriteOutputFile(settings.html_path, page) ? kExitOk : kExitCannotRun;
    if (*exit_code == kExitOk) {
      std::printf("heapdrift report: wrote %s (%s): open it in a browser\n",
                  settings.html_path.c_str(), HumanBytes(static_cast<double>(page.size())).c_str());
    }
    return;
  }
  if (settings.json) {
    std::puts(ReportJson(processes, settings.top).dump(2).c_str());
  } else if (processes.size() == 1) {
    PrintReportText(stdout, processes[0], settings.top);
  } else {
    PrintReportTree(stdout, settings.path, processes, settings.top);
  }
  *exit_code = kExitOk;
}

}  // namespace

void PrintReport(const std::string& path, int* exit_code) {
  Settings settings;
  settings.path = path;
  Report(settings, exit_code);
}

void AddReportCommand(CLI::App& app, int* exit_code) {
  auto settings = std::make_shared<Settings>();
  CLI::App* command = app.add_subcommand("report", "Rank the call sites whose live memory grows");
  command->footer(
      "Examples:\n"
      "  heapdrift report server.rec\n"
      "  heapdrift report server.rec --top 3 --json\n"
      "  heapdrift report server.rec --html report.html\n"
      "  heapdrift report server.rec --from 60 --to 120   (one phase of the run)\n"
      "  heapdrift report server.rec --wrapper xmalloc --wrapper pool_alloc");
  command->add_option("recording", settings->path, "Recording file")->required();
  AddCountOption(command, "--top", &settings->top, "How many growing call sites to show", 1, kMaxTop);
  auto* json = command->add_flag("--json", settings->json, "Print JSON: {\"suspects\": [...]}");
  command->add_option("--html", settings->html_path,
                      "Write the report as one self-contained HTML page (charts, flame graphs)")
      ->excludes(json);
  AddSecondsOption(command, "--from", &settings->from,
                   "Analyse from this many seconds after the program started", 0, kMaxSeconds);
  AddSecondsOption(command, "--to", &settings->to, "Analyse up to this many seconds after the start",
                   0, kMaxSeconds);
  AddSymbolOptions(command, &settings->wrappers, &settings->debug_paths);
  command->callback([settings, exit_code] { Report(*settings, exit_code); });
}

}  // namespace heapdrift::cli
