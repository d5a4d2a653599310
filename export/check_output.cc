#include "check_output.h"

#include <fmt/format.h>
#include <signal.h>

#include <cmath>
#include <cstring>
#include <map>

#include "format.h"
#include "frame_json.h"

namespace heapdrift {
namespace {

// Counts are whole numbers in JSON, whatever arithmetic produced them.
uint64_t Whole(double count) { return count > 0 ? static_cast<uint64_t>(std::llround(count)) : 0; }

std::string Objects(double count) {
  return fmt::format("{:.0f} {}", count, count == 1 ? "object" : "objects");
}

std::string WarningText(const CheckWarning& warning) {
  switch (warning.kind) {
    case CheckWarningKind::kTablesFull:
      return "the agent's tables filled up; some allocations were not tracked "
             "(raise HEAPDRIFT_MAX_LIVE / HEAPDRIFT_MAX_STACKS)";
    case CheckWarningKind::kThreadsKeptRunning:
      return fmt::format(
          "{} thread{} kept running during the leak scan (signals blocked or not answering): "
          "blocks only {} held may be reported as leaked",
          warning.count, warning.count == 1 ? "" : "s", warning.count == 1 ? "it" : "they");
    case CheckWarningKind::kTooFewSnapshots:
      return "fewer than 3 snapshots: too short a run to judge growth (lower --interval-ms)";
    case CheckWarningKind::kSymbols:
    case CheckWarningKind::kRecording:
      return warning.text;
  }
  return warning.text;
}

std::string WarningText(const RunWarning& warning) {
  switch (warning.kind) {
    case RunWarningKind::kUnreadableRecording:
      return warning.text;
    case RunWarningKind::kNoRecording:
      return "no process wrote a recording: the agent cannot be preloaded into statically "
             "linked or set-user-ID programs";
    case RunWarningKind::kSampledWithoutGrowth:
      return "with --sample-bytes only --max-growth is checked, and it was not given";
  }
  return warning.text;
}

template <typename Warning>
nlohmann::json WarningsJson(const std::vector<Warning>& warnings) {
  nlohmann::json json = nlohmann::json::array();
  for (const Warning& warning : warnings) json.push_back(WarningText(warning));
  return json;
}

std::string EndingText(const ProcessCheck& process) {
  switch (process.ending) {
    case ProcessEnding::kExited:
      return "exited";
    case ProcessEnding::kReplacedByExec:
      return "replaced itself by exec";
    case ProcessEnding::kVanished:
      return "left without running exit handlers (_exit, a crash or a kill)";
  }
  return "";
}

// Why a process passed without a leak check, or "" when it was checked.
std::string UncheckedReason(const ProcessCheck& process) {
  if (process.ending != ProcessEnding::kExited) return EndingText(process) + ": leaks not checked";
  if (!process.exact) return "sampled run: leaks at exit need exact mode";
  if (process.forked && !process.leak_scan) {
    return fmt::format("forked from pid {} without exec: leaks at exit not checked (what it "
                       "inherited is not tracked), only growth",
                       process.parent_pid);
  }
  if (!process.leak_scan) return "the agent could not scan for leaks";
  return "";
}

// Each LeakKind's name in JSON and in text, in the enum's order.
struct KindNames {
  const char* json;
  const char* text;
};
constexpr KindNames kKindNames[] = {
    {"leaked", "leaked"}, {"indirect", "indirectly leaked"}, {"reachable", "still reachable"}};
const KindNames& NamesOf(LeakKind kind) { return kKindNames[static_cast<size_t>(kind)]; }

// The summary line of one process's leaks.
std::string LeakSummary(const ProcessCheck& process) {
  std::string text;
  if (process.leaked_objects > 0) {
    text = fmt::format("{} definitely leaked in {}", HumanBytes(process.leaked_bytes),
                       Objects(process.leaked_objects));
  }
  if (process.indirect_objects > 0) {
    text += fmt::format("{}{} indirectly leaked in {}", text.empty() ? "" : ", ",
                        HumanBytes(process.indirect_bytes), Objects(process.indirect_objects));
  }
  if (text.empty()) text = "no definite leaks";
  text += fmt::format("; {} in {} still reachable", HumanBytes(process.reachable_bytes),
                      Objects(process.reachable_objects));
  double suppressed_bytes = 0, suppressed_objects = 0;
  for (const SuppressedLeaks& suppressed : process.suppressed) {
    suppressed_bytes += suppressed.bytes;
    suppressed_objects += suppressed.objects;
  }
  if (suppressed_objects > 0) {
    text += fmt::format("; {} in {} suppressed", HumanBytes(suppressed_bytes),
                        Objects(suppressed_objects));
  }
  return text;
}

std::string FailureDetails(const ProcessCheck& process, const CheckOptions& options, size_t top) {
  std::string text;
  if (process.LeakFailed(options)) {
    size_t shown = 0;
    for (const LeakGroup& group : process.leaks) {
      if (group.kind == LeakKind::kReachable && !options.include_reachable) continue;
      if (shown++ == top) {
        text += "  ...\n";
        break;
      }
      text += fmt::format("  {} in {} {} at {}\n", HumanBytes(group.bytes), Objects(group.objects),
                          NamesOf(group.kind).text, FrameTitle(group.site));
      for (size_t frame = 1; frame < group.stack.size() && frame <= 8; ++frame) {
        text += fmt::format("      {}{}\n", group.stack[frame].inlined ? "(inlined) " : "",
                            FrameTitle(group.stack[frame]));
      }
    }
  }
  for (const GrowthFinding& growth : process.growth) {
    text += fmt::format("  live memory grows {}/s (limit {}/s, {:.0f}% confidence, {} live) at {}\n",
                        HumanBytes(growth.growth_bytes_per_sec), HumanBytes(*options.max_growth),
                        100 * growth.confidence, HumanBytes(growth.live_bytes),
                        FrameTitle(growth.site));
    for (size_t frame = 1; frame < growth.stack.size() && frame <= 8; ++frame) {
      text += fmt::format("      {}\n", FrameTitle(growth.stack[frame]));
    }
  }
  return text;
}

std::string XmlEscape(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\'': escaped += "&apos;"; break;
      default:
        // XML 1.0 allows no other control characters, even escaped.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') escaped += c;
    }
  }
  return escaped;
}

std::string ProcessTitle(const ProcessCheck& process) {
  return fmt::format("pid {}: {}", process.pid, process.CommandLine());
}

// JUnit test names that stay the same from run to run, so CI keeps each
// one's history: the command line, with " #2", " #3"... for repeats in start
// order (the pid goes into the case's text instead).
std::vector<std::string> StableCaseNames(const CheckRun& run) {
  std::map<std::string, int> seen;
  std::vector<std::string> names;
  for (const ProcessCheck& process : run.processes) {
    std::string command_line = process.CommandLine();
    int ordinal = ++seen[command_line];
    names.push_back(ordinal == 1 ? command_line : fmt::format("{} #{}", command_line, ordinal));
  }
  return names;
}

}  // namespace

std::string CheckVerdict(const CheckRun& run, const CheckOptions& options) {
  size_t failed = run.FailedProcesses(options);
  std::string verdict = failed > 0 || run.timed_out     ? "FAILED"
                        : run.command_exit_code != 0 ? "command failed"
                                                     : "passed";
  return fmt::format("{}: {} of {} processes leaked or grew{}{}", verdict,
                     failed > 0 ? std::to_string(failed) : "none", run.processes.size(),
                     options.max_leak_bytes > 0
                         ? fmt::format(" (more than {} leaked)", HumanBytes(options.max_leak_bytes))
                         : "",
                     run.timed_out ? "; ended at --timeout"
                     : run.command_exit_code != 0
                         ? fmt::format("; the command exited with {}", run.command_exit_code)
                         : "");
}

const char* LeakKindText(LeakKind kind) { return NamesOf(kind).text; }

std::string ProcessCheckSummary(const ProcessCheck& process) {
  std::string unchecked = UncheckedReason(process);
  return unchecked.empty() ? LeakSummary(process) : unchecked;
}

void PrintCheckText(std::FILE* out, const CheckRun& run, const CheckOptions& options, size_t top) {
  for (const RunWarning& warning : run.warnings) {
    fmt::print(out, "heapdrift: warning: {}\n", WarningText(warning));
  }
  for (const ProcessCheck& process : run.processes) {
    bool failed = process.Failed(options);
    fmt::print(out, "{} {}\n", failed ? "FAIL" : "ok  ", ProcessTitle(process));
    fmt::print(out, "  {}\n", ProcessCheckSummary(process));
    if (failed) fmt::print(out, "{}", FailureDetails(process, options, top));
    for (const SuppressedLeaks& suppressed : process.suppressed) {
      fmt::print(out, "  suppressed {} in {} by leak:{} ({})\n", HumanBytes(suppressed.bytes),
                 Objects(suppressed.objects), suppressed.rule->pattern, suppressed.rule->origin);
    }
    for (const CheckWarning& warning : process.warnings) {
      fmt::print(out, "  warning: {}\n", WarningText(warning));
    }
  }
  if (run.timed_out) {
    fmt::print(out, "heapdrift check: the command ran past --timeout and was ended\n");
  } else if (run.command_signal != 0) {
    const char* name = sigabbrev_np(run.command_signal);
    fmt::print(out, "heapdrift check: the program crashed: killed by signal {} (SIG{})\n",
               run.command_signal, name != nullptr ? name : "?");
  }
  fmt::print(out, "heapdrift check: {}\n", CheckVerdict(run, options));
}

void PrintSuppressionUse(std::FILE* out, const CheckRun& run, const CheckOptions& options) {
  struct Use {
    size_t processes = 0;
    double bytes = 0, objects = 0;
  };
  std::map<const Suppression*, Use> uses;
  for (const ProcessCheck& process : run.processes) {
    for (const SuppressedLeaks& suppressed : process.suppressed) {
      Use& use = uses[suppressed.rule];
      ++use.processes;
      use.bytes += suppressed.bytes;
      use.objects += suppressed.objects;
    }
  }
  fmt::print(out, "heapdrift check: suppressions used:\n");
  for (const Suppression& rule : options.suppressions) {
    auto found = uses.find(&rule);
    if (found == uses.end()) continue;
    fmt::print(out, "  {:>10} in {:<12} {} process{}  leak:{} ({})\n", HumanBytes(found->second.bytes),
               Objects(found->second.objects), found->second.processes,
               found->second.processes == 1 ? "" : "es", rule.pattern, rule.origin);
  }
  if (uses.empty()) fmt::print(out, "  none\n");
  for (const Suppression& rule : options.suppressions) {
    if (uses.count(&rule) == 0 && rule.origin.rfind("built-in", 0) != 0) {
      fmt::print(out, "heapdrift: warning: leak:{} ({}) matched nothing\n", rule.pattern,
                 rule.origin);
    }
  }
}

nlohmann::json CheckJson(const CheckRun& run, const CheckOptions& options, int exit_code) {
  nlohmann::json processes = nlohmann::json::array();
  for (const ProcessCheck& process : run.processes) {
    nlohmann::json leaks = nlohmann::json::array();
    for (const LeakGroup& group : process.leaks) {
      nlohmann::json entry = FrameJson(group.site);
      entry["kind"] = NamesOf(group.kind).json;
      entry["bytes"] = Whole(group.bytes);
      entry["objects"] = Whole(group.objects);
      entry["stack"] = StackJson(group.stack);
      leaks.push_back(std::move(entry));
    }
    nlohmann::json suppressed = nlohmann::json::array();
    for (const SuppressedLeaks& total : process.suppressed) {
      suppressed.push_back({{"pattern", total.rule->pattern},
                            {"origin", total.rule->origin},
                            {"bytes", Whole(total.bytes)},
                            {"objects", Whole(total.objects)}});
    }
    nlohmann::json growth = nlohmann::json::array();
    for (const GrowthFinding& finding : process.growth) {
      nlohmann::json entry = FrameJson(finding.site);
      entry["growth_bytes_per_sec"] = finding.growth_bytes_per_sec;
      entry["confidence"] = finding.confidence;
      entry["live_bytes"] = Whole(finding.live_bytes);
      entry["stack"] = StackJson(finding.stack);
      growth.push_back(std::move(entry));
    }
    std::string unchecked = UncheckedReason(process);
    processes.push_back({{"pid", process.pid},
                         {"parent_pid", process.parent_pid},
                         {"forked", process.forked},
                         {"command_line", process.command_line},
                         {"ending", EndingText(process)},
                         {"leaks_checked", unchecked.empty()},
                         {"failed", process.Failed(options)},
                         {"seconds", process.seconds},
                         {"leaked_bytes", Whole(process.leaked_bytes)},
                         {"leaked_objects", Whole(process.leaked_objects)},
                         {"indirect_bytes", Whole(process.indirect_bytes)},
                         {"indirect_objects", Whole(process.indirect_objects)},
                         {"reachable_bytes", Whole(process.reachable_bytes)},
                         {"reachable_objects", Whole(process.reachable_objects)},
                         {"leaks", std::move(leaks)},
                         {"suppressed", std::move(suppressed)},
                         {"growth", std::move(growth)},
                         {"warnings", WarningsJson(process.warnings)}});
  }
  return {{"command", run.command},
          {"passed", run.FailedProcesses(options) == 0 && !run.timed_out},
          {"timed_out", run.timed_out},
          {"exit_code", exit_code},
          {"command_exit_code", run.command_exit_code},
          {"command_signal", run.command_signal},
          {"include_reachable", options.include_reachable},
          {"max_leak_bytes", Whole(options.max_leak_bytes)},
          {"max_growth_bytes_per_sec",
           options.max_growth ? nlohmann::json(Whole(*options.max_growth)) : nlohmann::json(nullptr)},
          {"processes", std::move(processes)},
          {"warnings", WarningsJson(run.warnings)}};
}

std::string CheckJunit(const CheckRun& run, const CheckOptions& options) {
  size_t failures = run.FailedProcesses(options), skipped = 0;
  std::string cases;
  std::vector<std::string> names = StableCaseNames(run);
  for (size_t i = 0; i < run.processes.size(); ++i) {
    const ProcessCheck& process = run.processes[i];
    std::string unchecked = UncheckedReason(process);
    cases += fmt::format("    <testcase classname=\"heapdrift.check\" name=\"{}\" time=\"{:.3f}\">\n",
                         XmlEscape(names[i]), process.seconds);
    if (process.Failed(options)) {
      std::string message = process.LeakFailed(options)
                                ? fmt::format("{} leaked in {}", HumanBytes(process.FailingBytes(options)),
                                              Objects(process.FailingObjects(options)))
                                : fmt::format("{} call site{} faster than {}/s",
                                              process.growth.size(),
                                              process.growth.size() == 1 ? " grows" : "s grow",
                                              HumanBytes(*options.max_growth));
      cases += fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                           process.LeakFailed(options) ? "leak" : "growth", XmlEscape(message),
                           XmlEscape(ProcessTitle(process) + "\n" + LeakSummary(process) + "\n" +
                                     FailureDetails(process, options, 100)));
    } else if (!unchecked.empty() && process.growth.empty() && !options.max_growth) {
      ++skipped;
      cases += fmt::format("      <skipped message=\"{}\"/>\n", XmlEscape(unchecked));
    } else {
      cases += fmt::format("      <system-out>{}</system-out>\n",
                           XmlEscape(ProcessTitle(process) + "\n" +
                                     (unchecked.empty() ? LeakSummary(process) : unchecked)));
    }
    cases += "    </testcase>\n";
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"heapdrift check\" tests=\"{0}\" failures=\"{1}\" errors=\"0\" "
      "skipped=\"{2}\">\n"
      "  <testsuite name=\"heapdrift check\" tests=\"{0}\" failures=\"{1}\" errors=\"0\" "
      "skipped=\"{2}\">\n{3}  </testsuite>\n</testsuites>\n",
      run.processes.size(), failures, skipped, cases);
}

}  // namespace heapdrift
