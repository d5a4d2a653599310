// The verdict of `heapdrift check` on one process's recording: its leaks at
// exit grouped by allocating call site, and the call sites that grew too
// fast. No I/O beyond reading the binaries for symbols.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "frame.h"
#include "recording.h"
#include "suppressions.h"

namespace heapdrift {

struct CheckOptions {
  bool include_reachable = false;          // reachable blocks fail the check too
  double max_leak_bytes = 0;               // fail only above this many bytes
  std::optional<double> max_growth;        // bytes/s a call site may grow by
  std::vector<Suppression> suppressions;   // the user's, then the built-in ones
  std::vector<std::string> wrappers;
  std::string debug_paths;
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
  std::vector<std::string> warnings;

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

ProcessCheck CheckRecording(const Recording& recording, const CheckOptions& options);

// A whole `heapdrift check` run: every process of the tree, in start order.
struct CheckRun {
  std::vector<std::string> command;
  std::vector<ProcessCheck> processes;
  int command_exit_code = 0;  // 128 + N when signal N ended it
  int command_signal = 0;
  bool timed_out = false;  // ended by `check --timeout`
  std::vector<std::string> warnings;  // unreadable recordings and the like

  size_t FailedProcesses(const CheckOptions& options) const {
    size_t failed = 0;
    for (const ProcessCheck& process : processes) failed += process.Failed(options);
    return failed;
  }
};

}  // namespace heapdrift
