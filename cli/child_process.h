// Runs a program as a child with extra environment, forwarding termination
// signals to it, and reports how it ended.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace heapdrift::cli {

struct ChildResult {
  bool started = false;
  std::string error;  // why it could not start (started == false)
  int start_errno = 0;
  int exit_code = 0;  // the child's exit status, or 128 + signal like a shell
  int signal = 0;     // non-zero when a signal ended it
  bool timed_out = false;  // ended by us after ChildLimits::timeout
  bool killed = false;     // ignored SIGTERM for ChildLimits::grace and was killed
};

struct ChildLimits {
  std::chrono::milliseconds timeout{0};  // 0: none
  // After a SIGTERM (ours at the timeout, or one forwarded to it), how long
  // the child has to exit before SIGKILL: a hung program may block signals.
  std::chrono::milliseconds grace{5'000};
};

// Starts argv[0] (searched in PATH) with `extra_env` set, waits for it. While
// it runs, SIGTERM, SIGHUP and SIGQUIT sent to us go to the child, and so does
// a SIGINT sent by kill(1); a Ctrl-C from the terminal reaches the child on
// its own (same process group), so it is not sent twice. A child that has
// not exited `limits.grace` after a forwarded SIGTERM, SIGHUP or SIGQUIT is
// killed. At `limits.timeout` the child gets SIGTERM, then SIGKILL after the
// grace, and so do its descendants that are left (we are their subreaper).
ChildResult RunChild(const std::vector<std::string>& argv,
                     const std::vector<std::pair<std::string, std::string>>& extra_env,
                     const ChildLimits& limits = {});

// Exit code for a child that could not start: 127 not found, 126 otherwise.
int ExitCodeForStartFailure(const ChildResult& result);

}  // namespace heapdrift::cli
