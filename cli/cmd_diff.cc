// heapdrift diff: what changed in the heap between two moments, by call site.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "command_support.h"
#include "commands.h"
#include "exit_codes.h"
#include "format.h"
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
    size_t shown = std::min(settings->top, diff.sites.size());
    if (settings->json) {
      nlohmann::json sites = nlohmann::json::array();
      for (size_t i = 0; i < shown; ++i) {
        const SiteChange& site = diff.sites[i];
        sites.push_back({{"function", site.site.function.empty() ? site.site.ModuleOffset()
                                                                 : site.site.function},
                         {"file", site.site.file},
                         {"line", site.site.line},
                         {"live_bytes_from", static_cast<int64_t>(site.live_bytes_from)},
                         {"live_bytes_to", static_cast<int64_t>(site.live_bytes_to)},
                         {"change_bytes", static_cast<int64_t>(site.change())},
                         {"live_objects_from", static_cast<int64_t>(site.live_objects_from)},
                         {"live_objects_to", static_cast<int64_t>(site.live_objects_to)},
                         {"allocated_bytes_between",
                          static_cast<int64_t>(site.allocated_bytes_between)}});
      }
      nlohmann::json out = {{"from_seconds", diff.from_seconds},
                            {"to_seconds", diff.to_seconds},
                            {"live_bytes_from", static_cast<int64_t>(diff.live_from)},
                            {"live_bytes_to", static_cast<int64_t>(diff.live_to)},
                            {"sites", sites}};
      std::puts(out.dump(2).c_str());
    } else {
      fmt::print("heapdrift diff: {}, {:.1f} s -> {:.1f} s\n", settings->path, diff.from_seconds,
                 diff.to_seconds);
      fmt::print("estimated live heap {} -> {} ({})\n\n", HumanBytes(diff.live_from),
                 HumanBytes(diff.live_to), SignedBytes(diff.live_to - diff.live_from));
      fmt::print("{:>12}  {:>10}  {:>10}  {:>12}  {}\n", "change", "from", "to", "allocated",
                 "allocating call site");
      for (size_t i = 0; i < shown; ++i) {
        const SiteChange& site = diff.sites[i];
        fmt::print("{:>12}  {:>10}  {:>10}  {:>12}  {}\n", SignedBytes(site.change()),
                   HumanBytes(site.live_bytes_from), HumanBytes(site.live_bytes_to),
                   HumanBytes(site.allocated_bytes_between), FrameTitle(site.site));
      }
    }
    *exit_code = kExitOk;
  });
}

}  // namespace heapdrift::cli
