// When a thread of another process may be borrowed to load the agent: the
// loader takes its own lock and calls malloc, so a thread stopped inside
// malloc (holding an arena lock), inside the loader, or inside a callback the
// C library made while holding a lock, would wait forever on itself
// (attach-dossier.md §0: 35 of 60 naive injections hung). And stopping a
// thread must not make its system call fail: some return EINTR after any
// stop (epoll_wait, sigtimedwait, sockets with a receive timeout), so those
// threads are never stopped at all.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace heapdrift {

// The threads worth trying, best first: those blocked in a system call that
// restarts unseen after a stop (idle: borrowing them costs the program
// nothing), then those running. Threads in other calls, in uninterruptible
// sleep, or stopped are left out.
std::vector<pid_t> BorrowableThreads(pid_t pid);

// Walks the stack of a thread this process holds stopped (libdwfl, over
// .eh_frame, no debug files) and says whether the loader may run on it now.
class StackInspector {
 public:
  explicit StackInspector(pid_t pid);
  ~StackInspector();
  StackInspector(const StackInspector&) = delete;
  StackInspector& operator=(const StackInspector&) = delete;

  // Safe when, innermost first: at most a run of C-library frames under a
  // blocking entry point the program called (read, poll, nanosleep,
  // pthread_cond_wait, ...; only if stopped in system call number
  // `system_call`, -1 when not in one, that restarts after the stop by
  // itself or, `wait_restarts`, because the stop's EINTR was turned into a
  // restart: RemoteThread::RestartTheWaitItsStopEnded), then the
  // program's own frames, then only C-library frames of thread start-up and
  // the program's entry point. Any frame in the loader, a C-library frame
  // between two of the program's, or a stack that cannot be walked to its
  // end is unsafe; `reason` says which.
  bool SafeToLoad(pid_t tid, long system_call, bool wait_restarts, std::string* reason);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace heapdrift
