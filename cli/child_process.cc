#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>

namespace heapdrift::cli {
namespace {

using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_child_pid = 0;
volatile sig_atomic_t g_termination_forwarded = 0;

void ForwardSignal(int signal_number, siginfo_t* info, void*) {
  // A terminal-generated SIGINT already went to the whole foreground group.
  if (signal_number == SIGINT && info != nullptr && info->si_code == SI_KERNEL) return;
  if (g_child_pid > 0) kill(g_child_pid, signal_number);
  if (signal_number != SIGINT) g_termination_forwarded = 1;
}

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Waits until `pid` ends or `deadline` passes (nullopt: no deadline), or a
// forwarded signal interrupts the wait. Returns true when it ended.
bool WaitFor(pid_t pid, int pidfd, std::optional<Clock::time_point> deadline, int* status) {
  if (waitpid(pid, status, WNOHANG) == pid) return true;
  if (pidfd < 0 && !deadline) return waitpid(pid, status, 0) == pid;
  int timeout_ms = -1;
  if (deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
    timeout_ms = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count(), 60'000)));
  }
  if (pidfd >= 0) {
    pollfd ready{pidfd, POLLIN, 0};
    poll(&ready, 1, timeout_ms);  // returns early on EINTR: the caller loops
  } else {
    usleep(static_cast<useconds_t>(std::min(timeout_ms, 20) * 1000));  // no pidfd: poll
  }
  return waitpid(pid, status, WNOHANG) == pid;
}

// SIGKILLs whatever processes of the tree are left: as subreaper we inherit
// the orphans, so our children are all that remain of it.
void KillOrphans() {
  for (int round = 0; round < 100; ++round) {
    std::ifstream children("/proc/self/task/" + std::to_string(getpid()) + "/children");
    bool any = false;
    for (pid_t child; children >> child;) {
      any = true;
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
    }
    if (!any) return;
  }
}

}  // namespace

ChildResult RunChild(const std::vector<std::string>& argv,
                     const std::vector<std::pair<std::string, std::string>>& extra_env,
                     const ChildLimits& limits) {
  ChildResult result;
  if (argv.empty()) {
    result.error = "no program given";
    return result;
  }
  // The child reports a failed exec through this close-on-exec pipe.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  std::vector<char*> args;
  for (const std::string& argument : argv) args.push_back(const_cast<char*>(argument.c_str()));
  args.push_back(nullptr);

  struct sigaction forward {};
  forward.sa_sigaction = ForwardSignal;
  forward.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&forward.sa_mask);
  struct sigaction previous[4];
  for (int i = 0; i < 4; ++i) sigaction(kForwarded[i], &forward, &previous[i]);
  g_termination_forwarded = 0;
  bool timed = limits.timeout.count() > 0;
  if (timed) prctl(PR_SET_CHILD_SUBREAPER, 1);

  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 4; ++i) sigaction(kForwarded[i], &previous[i], nullptr);
    close(report[0]);
    for (const auto& [name, value] : extra_env) setenv(name.c_str(), value.c_str(), 1);
    execvp(args[0], args.data());
    int error = errno;
    ssize_t ignored = write(report[1], &error, sizeof(error));
    (void)ignored;
    _exit(127);
  }
  close(report[1]);
  if (pid < 0) {
    result.error = std::string("fork: ") + std::strerror(errno);
    close(report[0]);
    return result;
  }
  g_child_pid = pid;
  int exec_errno = 0;
  ssize_t got;
  do {
    got = read(report[0], &exec_errno, sizeof(exec_errno));
  } while (got < 0 && errno == EINTR);
  close(report[0]);

  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  std::optional<Clock::time_point> timeout_at, kill_at;
  if (timed) timeout_at = Clock::now() + limits.timeout;
  int status = 0;
  for (;;) {
    std::optional<Clock::time_point> deadline = kill_at ? kill_at : timeout_at;
    if (WaitFor(pid, pidfd, deadline, &status)) break;
    auto now = Clock::now();
    if (g_termination_forwarded && !kill_at) kill_at = now + limits.grace;
    if (timeout_at && now >= *timeout_at && !result.timed_out) {
      result.timed_out = true;
      kill(pid, SIGTERM);
      kill_at = now + limits.grace;
    }
    if (kill_at && now >= *kill_at && !result.killed) {
      result.killed = true;
      kill(pid, SIGKILL);
      kill_at = now + std::chrono::hours(1);  // SIGKILL cannot be ignored: just reap
    }
  }
  g_child_pid = 0;
  if (pidfd >= 0) close(pidfd);
  if (result.timed_out) KillOrphans();
  if (timed) prctl(PR_SET_CHILD_SUBREAPER, 0);
  for (int i = 0; i < 4; ++i) sigaction(kForwarded[i], &previous[i], nullptr);

  if (got == sizeof(exec_errno)) {
    result.start_errno = exec_errno;
    result.error = "cannot run '" + argv[0] + "': " + std::strerror(exec_errno);
    return result;
  }
  result.started = true;
  if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
    result.exit_code = 128 + result.signal;
  } else {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

int ExitCodeForStartFailure(const ChildResult& result) {
  return result.start_errno == ENOENT ? 127 : 126;
}

}  // namespace heapdrift::cli
