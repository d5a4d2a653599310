// Loads libheapdrift.so into a running process that was not started with it
// (attach-dossier.md §2): checks first what would make it unsafe or
// impossible (a static, non-glibc or foreign binary, a tracer, a seccomp
// filter, an agent file the process cannot see), then borrows one thread at a
// safe moment (safe_point.h), has it call the loader's dlopen on a private
// stack with every signal but the faults held back, and puts the thread back
// exactly as it was (remote_thread.h). The agent starts dormant, with its
// control socket; `attach` then wakes it like any dormant agent, and the
// agent redirects the program's allocation calls to itself while it records
// (agent/got_redirect.h).
#pragma once

#include <sys/types.h>

#include <string>

#include "target_process.h"

namespace heapdrift {

enum class InjectStatus {
  kLoaded,        // the agent is loaded and starting its control thread
  kNotPermitted,  // ptrace refused (user, Yama, capabilities)
  kCannotAttach,  // this process cannot be entered (static, foreign, traced, ...)
  kGone,          // the process exited meanwhile
  kFailed,        // no safe moment in time, or the loader said no
};

struct InjectResult {
  InjectStatus status = InjectStatus::kFailed;
  std::string message;  // one line: what happened, or why not
};

// Runs the injection in a helper process of its own session with every
// signal blocked, so that the death of this process (Ctrl-C, kill -9) at any
// moment never leaves a thread of the target borrowed: the helper finishes
// what it started, puts the thread back, and exits.
InjectResult InjectAgent(const TargetProcess& target, const std::string& agent_path);

}  // namespace heapdrift
