// Runs a real program for a test: extra environment, captured stdout and
// stderr, exit status, and a time limit after which the whole process group
// is killed (so a deadlocked child fails the test instead of hanging it).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace heapdrift::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when a signal ended it
  bool timed_out = false;
  std::string out;
  std::string err;
};

using Environment = std::vector<std::pair<std::string, std::string>>;

ProcessResult RunProcess(const std::vector<std::string>& argv, const Environment& env = {},
                         int timeout_sec = 120);

// The same, with the agent preloaded and writing to `recording`, as the
// first process of a tree of its own.
ProcessResult RunUnderAgent(const std::vector<std::string>& argv, const std::string& recording,
                            Environment env = {}, int timeout_sec = 120);

// The bundled session server run for 19.5 s under `heapdrift run -o
// recording` (19.5 s, so that no periodic snapshot falls into its teardown,
// which frees the cache, at the very end): long enough for the leak to rank
// first. Its stderr names the true leak rate.
ProcessResult RecordSessionLeak(const std::string& recording);

// In a forked child: runs argv[0] (searched in PATH) with those arguments;
// exits 127 if it cannot.
[[noreturn]] void ExecOrExit(const std::vector<std::string>& argv);

// Lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix);

}  // namespace heapdrift::testing
