#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace heapdrift::cli {
namespace {

volatile sig_atomic_t g_child_pid = 0;

void ForwardSignal(int signal_number, siginfo_t* info, void*) {
  // A terminal-generated SIGINT already went to the whole foreground group.
  if (signal_number == SIGINT && info != nullptr && info->si_code == SI_KERNEL) return;
  if (g_child_pid > 0) kill(g_child_pid, signal_number);
}

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

}  // namespace

ChildResult RunChild(const std::vector<std::string>& argv,
                     const std::vector<std::pair<std::string, std::string>>& extra_env) {
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

  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_child_pid = 0;
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
