// A real program started in the background for a test, output to a log
// file, in a process group of its own: signalled or waited for by the test,
// and killed with its group when the test ends (nothing outlives a test).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "subprocess.h"

namespace heapdrift::testing {

class SpawnedProcess {
 public:
  SpawnedProcess(const std::vector<std::string>& argv, const Environment& env,
                 const std::string& log_path);
  ~SpawnedProcess();
  SpawnedProcess(const SpawnedProcess&) = delete;
  SpawnedProcess& operator=(const SpawnedProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signal) const;
  bool Running() const;
  // The exit code (128 + N for signal N), or -1 if it ran past `timeout_sec`
  // (it is killed then).
  int Wait(int timeout_sec);
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
  std::string log_path_;
};

}  // namespace heapdrift::testing
