// heapdrift diff: what changed in the heap between two moments, by call site.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "command_support.h"
#include "commands.h"
#include "diff_output.h"
#include "exit_codes.h"
#include "heap_diff.h"
#include "recording.h"
#include "site_series.h"

namespace heapdrift::cli {

void AddDiffCommand(CLI::App& app, int* exit_code) {
  struct Settings {
    std::string path, debug_paths;
    double from = std::nan(""), to = std::nan("");
    size_t top = 15;
    bool json = false;
    std::vector<std::string> wrappers;
  };
  auto settings = std::make_shared<Settings>();
  CLI::App* command =
      app.add_subcommand("diff", "What changed in the heap between two moments, by call site");
  command->footer(
      "Times are seconds since the program started; each is rounded down to the\n"
      "last snapshot at or before it. Default: the first and the last snapshot.\n"
      "Examples:\n"
      "  heapdrift diff server.rec\n"
      "  heapdrift diff server.rec --from 60 --to 600 --json");
  command->add_option("recording", settings->path, "Recording file")->required();
  AddSecondsOption(command, "--from", &settings->from,
                   "Start, in seconds since the program started", 0, kMaxSeconds);
  AddSecondsOption(command, "--to", &settings->to, "End, in seconds since the program started", 0,
                   kMaxSeconds);
  AddCountOption(command, "--top", &settings->top, "How many call sites to show", 1, kMaxTop);
  command->add_flag("--json", settings->json, "Print JSON");
  AddSymbolOptions(command, &settings->wrappers, &settings->debug_paths);
  command->callback([settings, exit_code] {
    Recording recording;
    if (!LoadRecordingForCommand(settings->path, &recording, exit_code)) return;
    auto [first, last] = AnalysedSpan(recording);
    double from = std::isnan(settings->from) ? first : settings->from;
    double to = std::isnan(settings->to) ? last : settings->to;
    if (std::isnan(settings->from) && std::isnan(settings->to) && !(first < last)) {
      std::fprintf(stderr,
                   "heapdrift: %s holds %s snapshot: a diff needs two moments\n",
                   settings->path.c_str(), recording.snapshots.empty() ? "no" : "only one");
      *exit_code = kExitUsage;
      return;
    }
    if (from > last) {
      std::fprintf(stderr, "heapdrift: --from (%.1f s) is after the last snapshot (%.1f s)\n", from,
                   last);
      *exit_code = kExitUsage;
      return;
    }
    if (!(from < to)) {
      std::fprintf(stderr, "heapdrift: --from (%.1f s) must come before --to (%.1f s)\n", from, to);
      *exit_code = kExitUsage;
      return;
    }
    CallSiteResolver resolver(recording, settings->wrappers, settings->debug_paths);
    HeapDiff diff = BuildHeapDiff(resolver, from, to);
    PrintWarnings(resolver.warnings());
    if (settings->json) {
      std::puts(DiffJson(diff, settings->top).dump(2).c_str());
    } else {
      PrintDiffText(stdout, settings->path, diff, settings->top);
    }
    *exit_code = kExitOk;
  });
}

}  // namespace heapdrift::cli
