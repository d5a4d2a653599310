// A program started in the background for a test, with the agent preloaded
// dormant (or not at all), for `heapdrift attach` to find; its stdout and
// stderr go to files of the test's directory.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "subprocess.h"
#include "temp_dir.h"

namespace heapdrift::testing {

class DormantProcess {
 public:
  DormantProcess(const TempDir& dir, const std::vector<std::string>& argv, bool dormant = true,
                 const Environment& extra_env = {});
  ~DormantProcess();  // kills it if not waited for
  DormantProcess(const DormantProcess&) = delete;
  DormantProcess& operator=(const DormantProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string pid_text() const { return std::to_string(pid_); }

  // Until the dormant agent listens (its control thread exists); false after
  // 5 s, or if the process is gone.
  bool WaitUntilDormant() const;
  // Whether it still runs (not yet exited, or exited but not waited for).
  bool Running() const;

  // Exit status (128 + signal for a signal), stdout and stderr.
  ProcessResult Wait();

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
  bool waited_ = false;
};

}  // namespace heapdrift::testing
