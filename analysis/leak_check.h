// The verdict of `heapdrift check` on one process's recording: its leaks at
// exit grouped by allocating call site, and the call sites that grew too
// fast. Typed results and warnings; export/check_output words them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "call_site_resolver.h"
#include "frame.h"
#include "recording.h"
#include "suppressions.h"

namespace heapdrift {

struct CheckOptions {
  bool include_reachable = false;          // reachable blocks fail the check too
  double max_leak_bytes = 0;               // fail only above this many bytes
  std::optional<double> max_growth;        // bytes/s a call site may grow by
  std::vector<Suppression> suppressions;   // the user's, then the built-in ones
  std::vector<std::string> wrappers;       // for the resolver of each recording
  std::string debug_paths;
};

// Why a process's verdict may be less than it seems.
enum class CheckWarningKind {
  kTablesFull,          // the agent's tables filled: some allocations went untracked
  kThreadsKeptRunning,  // `count` threads ran during the leak scan
  kTooFewSnapshots,     // too short a run to judge growth
  kSymbols,             // `text`: a module the symbolizer could not use, and why
  kRecording,           // `text`: the reader's note (a truncated or corrupt tail, no final snapshot)
};

struct CheckWarning {
  CheckWarningKind kind;
  uint64_t count = 0;
  std::string text;
};

// LeakSanitizer's kinds: a direct leak no live block points to; an indirect
// one only other leaked blocks point to; a reachable block some root leads to.
enum class LeakKind { kDirect, kIndirect, kReachable };

// Blocks of one kind from one allocating call site.
struct LeakGroup {
  symbolizer::Frame site;
  std::vector<symbolizer::Frame> stack;  // of its largest stack, from the site outwards
  double bytes = 0;
  double objects = 0;
  LeakKind kind = LeakKind::kDirect;
};

struct SuppressedLeaks {
  const Suppression* rule = nullptr;
  double bytes = 0;
  double objects = 0;
};

struct GrowthFinding {
  symbolizer::Frame site;
  std::vector<symbolizer::Frame> stack;
  double growth_bytes_per_sec = 0;
  double confidence = 0;
  double live_bytes = 0;
};

enum class ProcessEnding {
  kExited,          // ran its exit handlers: leaks were checked
  kReplacedByExec,  // the same process went on as another program
  kVanished,        // crashed, was killed, or left with _exit: no leak check
};

struct ProcessCheck {
  uint32_t pid = 0;
  uint32_t parent_pid = 0;
  bool forked = false;     // recorded from a fork() without exec on
  bool recorded = false;   // wrote at least one snapshot
  std::vector<std::string> command_line;
  ProcessEnding ending = ProcessEnding::kVanished;
  bool exact = true;       // every allocation recorded (leaks are checked only then)
  bool leak_scan = false;  // the agent classified the blocks live at exit
  std::vector<LeakGroup> leaks;  // direct, indirect, reachable; each largest first
  // Not suppressed: direct leaks, indirect ones (both definitely leaked), reachable blocks.
  double leaked_bytes = 0, leaked_objects = 0;
  double indirect_bytes = 0, indirect_objects = 0;
  double reachable_bytes = 0, reachable_objects = 0;
  std::vector<SuppressedLeaks> suppressed;
  std::vector<GrowthFinding> growth;  // call sites over --max-growth
  double seconds = 0;
  std::vector<CheckWarning> warnings;

  double FailingBytes(const CheckOptions& options) const {
    return leaked_bytes + indirect_bytes + (options.include_reachable ? reachable_bytes : 0);
  }
  double FailingObjects(const CheckOptions& options) const {
    return leaked_objects + indirect_objects + (options.include_reachable ? reachable_objects : 0);
  }
  bool LeakFailed(const CheckOptions& options) const {
    return FailingBytes(options) > options.max_leak_bytes;
  }
  bool Failed(const CheckOptions& options) const {
    return LeakFailed(options) || !growth.empty();
  }
  std::string CommandLine() const;
};

// The recording is the resolver's.
ProcessCheck CheckRecording(CallSiteResolver& resolver, const CheckOptions& options);

// What a whole run may lack.
enum class RunWarningKind {
  kUnreadableRecording,    // `text`: the reader's message
  kNoRecording,            // no process wrote one (static or set-user-ID programs)
  kSampledWithoutGrowth,   // sampled, so leaks are not checked, and no --max-growth
};

struct RunWarning {
  RunWarningKind kind;
  std::string text;
};

// A whole `heapdrift check` run: every process of the tree, in start order.
struct CheckRun {
  std::vector<std::string> command;
  std::vector<ProcessCheck> processes;
  int command_exit_code = 0;  // 128 + N when signal N ended it
  int command_signal = 0;
  bool timed_out = false;  // ended by `check --timeout`
  std::vector<RunWarning> warnings;

  size_t FailedProcesses(const CheckOptions& options) const {
    size_t failed = 0;
    for (const ProcessCheck& process : processes) failed += process.Failed(options);
    return failed;
  }
};

}  // namespace heapdrift
