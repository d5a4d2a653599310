#include "dormant_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "paths.h"
#include "text_files.h"

namespace heapdrift::testing {

DormantProcess::DormantProcess(const TempDir& dir, const std::vector<std::string>& argv,
                               bool dormant, const Environment& extra_env)
    : out_(dir.File("host.out")), err_(dir.File("host.err")) {
  pid_ = fork();
  if (pid_ == 0) {
    int out = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    if (dormant) {
      setenv("LD_PRELOAD", kAgentPath, 1);
      setenv("HEAPDRIFT_DORMANT", "1", 1);
    }
    for (const auto& [name, value] : extra_env) setenv(name.c_str(), value.c_str(), 1);
    ExecOrExit(argv);
  }
}

DormantProcess::~DormantProcess() {
  if (pid_ > 0 && !waited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool DormantProcess::WaitUntilDormant() const {
  for (int i = 0; i < 200 && Running(); ++i) {
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/task", error)) {
      if (ReadFile(entry.path().string() + "/comm") == "heapdrift-ctl\n") return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

bool DormantProcess::Running() const {
  if (waited_) return false;
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

ProcessResult DormantProcess::Wait() {
  int status = 0;
  waitpid(pid_, &status, 0);
  waited_ = true;
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(out_);
  result.err = ReadFile(err_);
  return result;
}

}  // namespace heapdrift::testing
