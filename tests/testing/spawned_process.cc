#include "spawned_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "text_files.h"

namespace heapdrift::testing {

SpawnedProcess::SpawnedProcess(const std::vector<std::string>& argv, const Environment& env,
                               const std::string& log_path)
    : log_path_(log_path) {
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    ExecOrExit(argv);
  }
  setpgid(pid_, pid_);
}

SpawnedProcess::~SpawnedProcess() {
  if (pid_ > 0 && !waited_) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void SpawnedProcess::Signal(int signal) const {
  if (!waited_) kill(pid_, signal);
}

bool SpawnedProcess::Running() const {
  if (waited_) return false;
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

int SpawnedProcess::Wait(int timeout_sec) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_sec);
  while (Running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  bool timed_out = Running();
  if (timed_out) kill(-pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  waited_ = true;
  if (timed_out) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string SpawnedProcess::Log() const { return ReadFile(log_path_); }

}  // namespace heapdrift::testing
