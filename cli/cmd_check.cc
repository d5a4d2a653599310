// heapdrift check: runs a command (and every program it starts) under the
// agent in exact mode and fails when a process leaks at exit or a call site
// grows too fast. Meant for CI: one line, an exit code, JSON and JUnit.
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "agent_environment.h"
#include "agent_locator.h"
#include "check_output.h"
#include "child_process.h"
#include "command_support.h"
#include "commands.h"
#include "exit_codes.h"
#include "html_report.h"
#include "leak_check.h"
#include "process_tree.h"
#include "recording.h"
#include "suppressions.h"

namespace heapdrift::cli {
namespace {

namespace fs = std::filesystem;

struct Settings {
  uint64_t sample_bytes = 1;
  uint64_t interval_ms = 0;
  bool include_reachable = false;
  bool follow_fork = false;
  uint64_t max_leak_bytes = 0;
  uint64_t max_growth = 0;
  std::vector<std::string> suppression_files;
  bool no_builtin_suppressions = false;
  bool print_suppressions = false;
  std::string json_path, junit_path, html_path, recordings_dir;
  std::vector<std::string> wrappers;
  std::string debug_paths;
  size_t top = 5;
  std::chrono::milliseconds timeout{0};
  std::vector<std::string> command;
};

bool LoadSuppressions(const Settings& settings, std::vector<Suppression>* out,
                      std::string* error) {
  for (const std::string& path : settings.suppression_files) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream text;
    if (file) text << file.rdbuf();
    if (!file || fs::is_directory(path) || file.bad()) {
      *error = fmt::format("cannot read suppressions file {}: {}", path,
                           fs::is_directory(path) ? "is a directory" : std::strerror(errno));
      return false;
    }
    if (!ParseSuppressions(text.str(), path, out, error)) return false;
  }
  if (!settings.no_builtin_suppressions) {
    const std::vector<Suppression>& builtins = BuiltinSuppressions();
    out->insert(out->end(), builtins.begin(), builtins.end());
  }
  return true;
}

// Where the recordings go: the directory the user asked to keep, or a fresh
// temporary one removed at the end.
class RecordingsDir {
 public:
  bool Create(const std::string& keep, std::string* error) {
    if (!keep.empty()) {
      std::error_code code;
      fs::create_directories(keep, code);
      path_ = fs::absolute(keep, code).string();
      if (code || !fs::is_directory(path_)) {
        *error = fmt::format("cannot create {}: {}", keep, code ? code.message() : "not a directory");
        return false;
      }
      // Every file in it is taken for a process of this run.
      if (!fs::is_empty(path_, code)) {
        *error = fmt::format("{} is not empty: give --recordings a new directory", keep);
        return false;
      }
      return true;
    }
    std::string pattern = (fs::temp_directory_path() / "heapdrift-check-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      *error = fmt::format("cannot create a temporary directory: {}", std::strerror(errno));
      return false;
    }
    path_ = pattern;
    temporary_ = true;
    return true;
  }
  ~RecordingsDir() {
    std::error_code ignored;
    if (temporary_) fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool temporary_ = false;
};

// Reads every recording of the run (<pid>.rec, or <pid>.rec.N from a
// program exec'd in place of another) and checks the tree they make.
void CheckRecordings(const std::string& dir, const CheckOptions& options, CheckRun* run) {
  std::vector<RecordedProcess> recorded;
  std::error_code code;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, code)) {
    if (!entry.is_regular_file()) continue;
    RecordedProcess& process = recorded.emplace_back();
    ReadResult result = ReadRecording(entry.path().string(), &process.recording);
    if (result.status != ReadStatus::kOk) {
      run->warnings.push_back({RunWarningKind::kUnreadableRecording, result.message});
      recorded.pop_back();
      continue;
    }
    process.read_warnings = std::move(result.warnings);
  }
  run->processes = CheckProcessTree(std::move(recorded), options);
}

}  // namespace

void AddCheckCommand(CLI::App& app, int* exit_code) {
  auto settings = std::make_shared<Settings>();
  CLI::App* check = app.add_subcommand(
      "check", "Run a command under the agent and fail if a process leaks or grows");
  check->footer(
      "Examples:\n"
      "  heapdrift check -- ./unit_tests\n"
      "  heapdrift check --junit leaks.xml -- meson test -C build\n"
      "  heapdrift check --sample-bytes 65536 --max-growth 100KiB -- ./stress --minutes 10\n"
      "  heapdrift check --follow-fork --max-growth 100KiB -- ./prefork_server --requests 1e5\n"
      "Exit code: the command's own when non-zero (128+N if signal N ended it); otherwise 0\n"
      "when clean and 23 when a process leaked or grew; 2 bad options or suppressions;\n"
      "1 when heapdrift could not run or write its reports; 127/126 program not found/runnable.");
  AddSamplingOptions(check, &settings->sample_bytes,
                     "Sample instead of recording every allocation (for long runs; leaks at exit "
                     "are then not checked, only --max-growth)",
                     &settings->interval_ms);
  check->add_flag("--follow-fork", settings->follow_fork,
                  "Also record and check children forked without exec (pre-forked workers): "
                  "leaks at their exit, what they inherited included, and --max-growth");
  check->add_flag("--include-reachable", settings->include_reachable,
                  "Fail on blocks still reachable at exit too, not only definitely leaked ones");
  AddSizeOption(check, "--max-leak-bytes", &settings->max_leak_bytes,
                "Fail only when a process leaks more than this (e.g. 4KiB; default 0)", 0,
                kMaxSizeLimit);
  AddSizeOption(check, "--max-growth", &settings->max_growth,
                "Fail when a call site's live memory grows faster than this many bytes per "
                "second over the run (e.g. 100KiB)",
                0, kMaxSizeLimit);
  AddDurationOption(check, "--timeout", &settings->timeout,
                    "End the command (SIGTERM, then SIGKILL 5 s later) and fail after this long "
                    "(e.g. 90s, 30m)",
                    std::chrono::seconds(1), std::chrono::hours(24 * 365));
  check->add_option("--suppressions", settings->suppression_files,
                    "File of leak:PATTERN lines (LeakSanitizer syntax); may be repeated");
  check->add_flag("--print-suppressions", settings->print_suppressions,
                  "List what each suppression hid, and warn about yours that matched nothing");
  check->add_flag("--no-builtin-suppressions", settings->no_builtin_suppressions,
                  "Also report the runtime's and loader's one-time allocations");
  check->add_option("--json", settings->json_path, "Write every finding as JSON to this file");
  check->add_option("--junit", settings->junit_path,
                    "Write JUnit XML (one test case per process) to this file");
  check->add_option("--html", settings->html_path,
                    "Write a page (one self-contained HTML file) of each process's leaks");
  check->add_option("--recordings", settings->recordings_dir,
                    "Keep each process's recording in this directory (<pid>.rec)");
  AddCountOption(check, "--top", &settings->top, "Leaking call sites shown per process", 1, kMaxTop);
  AddSymbolOptions(check, &settings->wrappers, &settings->debug_paths);
  check->add_option("command", settings->command, "Program and its arguments (after --)")
      ->required();
  check->callback([check, settings, exit_code] {
    CheckOptions options;
    options.include_reachable = settings->include_reachable;
    options.max_leak_bytes = static_cast<double>(settings->max_leak_bytes);
    if (check->count("--max-growth") > 0) options.max_growth = static_cast<double>(settings->max_growth);
    options.wrappers = settings->wrappers;
    options.debug_paths = settings->debug_paths;
    std::string error;
    if (!LoadSuppressions(*settings, &options.suppressions, &error)) {
      std::fprintf(stderr, "heapdrift: %s\n", error.c_str());
      *exit_code = kExitUsage;
      return;
    }
    std::optional<std::string> agent = LocateAgent(&error);
    RecordingsDir recordings;
    if (!agent || !CanWriteOptionalOutput(settings->json_path, &error) ||
        !CanWriteOptionalOutput(settings->junit_path, &error) ||
        !CanWriteOptionalOutput(settings->html_path, &error) ||
        !recordings.Create(settings->recordings_dir, &error)) {
      std::fprintf(stderr, "heapdrift: %s\n", error.c_str());
      *exit_code = kExitCannotRun;
      return;
    }

    AgentSettings agent_settings;
    agent_settings.output = recordings.path() + "/%p.rec";
    agent_settings.sample_bytes = settings->sample_bytes;
    agent_settings.set_leak_scan = true;
    agent_settings.leak_scan = settings->sample_bytes == 1;
    agent_settings.follow =
        FollowModeName(settings->follow_fork ? agent::FollowMode::kAll : agent::FollowMode::kExec);
    agent_settings.interval_ms = settings->interval_ms;
    Environment env = AgentEnvironment(*agent, agent_settings);
    // Perl frees nothing at exit unless asked to: ask, so that the perl
    // scripts a build or test runner calls do not drown the report.
    if (std::getenv("PERL_DESTRUCT_LEVEL") == nullptr) env.emplace_back("PERL_DESTRUCT_LEVEL", "2");
    ChildResult result = RunChild(settings->command, env, ChildLimits{settings->timeout});
    if (!result.started) {
      std::fprintf(stderr, "heapdrift: %s\n", result.error.c_str());
      *exit_code = ExitCodeForStartFailure(result);
      return;
    }

    CheckRun run;
    run.command = settings->command;
    run.command_exit_code = result.exit_code;
    run.command_signal = result.signal;
    run.timed_out = result.timed_out;
    CheckRecordings(recordings.path(), options, &run);
    if (run.processes.empty()) {
      run.warnings.push_back({RunWarningKind::kNoRecording, ""});
    }
    if (settings->sample_bytes != 1 && !options.max_growth) {
      run.warnings.push_back({RunWarningKind::kSampledWithoutGrowth, ""});
    }
    PrintCheckText(stderr, run, options, settings->top);
    if (settings->print_suppressions) PrintSuppressionUse(stderr, run, options);

    *exit_code = result.timed_out                ? kExitTimedOut
                 : result.exit_code != 0         ? result.exit_code
                 : run.FailedProcesses(options) ? kExitCheckFailed
                 : run.processes.empty()        ? kExitCannotRun
                                                : kExitOk;
    if (!settings->json_path.empty() &&
        !WriteOutputFile(settings->json_path, CheckJson(run, options, *exit_code).dump(2) + "\n")) {
      if (*exit_code == kExitOk) *exit_code = kExitCannotRun;
    }
    if (!settings->junit_path.empty() &&
        !WriteOutputFile(settings->junit_path, CheckJunit(run, options))) {
      if (*exit_code == kExitOk) *exit_code = kExitCannotRun;
    }
    if (!settings->html_path.empty() &&
        !WriteOutputFile(settings->html_path, HtmlCheckPage(run, options, *exit_code))) {
      if (*exit_code == kExitOk) *exit_code = kExitCannotRun;
    }
  });
}

}  // namespace heapdrift::cli
