// The exit codes of every command (documented in README.md, "Exit codes").
#pragma once

#include "recording.h"

namespace heapdrift::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitCannotRun = 1,     // heapdrift itself could not do its job (agent, output)
  kExitUsage = 2,
  kExitBadRecording = 3,
  kExitNewerFormat = 4,
  kExitNoSuchProcess = 5,  // `attach`: no process has that pid
  kExitNotPermitted = 6,   // `attach`: the process is not ours to enter (user, ptrace policy)
  kExitCannotAttach = 7,   // `attach`: this process cannot be entered (no dormant agent, ...)
  kExitCheckFailed = 23,  // `check`: a process leaked or grew (LeakSanitizer's code)
  kExitTimedOut = 124,    // `check --timeout`: the command was ended (timeout(1)'s code)
};

// A recording that cannot be read: newer format 4, anything else 3.
int ExitCodeFor(ReadStatus status);

}  // namespace heapdrift::cli
