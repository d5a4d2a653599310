// Stops the program's other threads for the exit-time leak scan, as
// LeakSanitizer stops the world before its own: a thread that still runs
// while the scan reads the heap holds blocks in registers the scan cannot
// see, and moves pointers under it, so its blocks look leaked.
//
// LeakSanitizer stops threads with ptrace from a tracer task; the agent
// cannot count on ptrace (Yama, seccomp, a debugger already attached), so
// it stops them with a signal, as the Boehm collector does: a real-time
// signal nobody handles is given a handler that saves the thread's
// general-purpose registers from its signal context and waits on a futex
// until the scan resumes it. Threads that block the signal (read from
// /proc/self/task/TID/status before it is sent) or do not answer within a
// deadline keep running, and are counted: the scan reads their stacks as
// before, without their registers.
//
// The handler stays installed after the scan (the process is exiting; a
// signal still pending for a thread that unblocks it late must not find the
// default action, which ends the process); outside a stop it returns at
// once. A system call the signal interrupts restarts (SA_RESTART) where the
// kernel allows, and fails with EINTR where it does not (epoll_wait,
// nanosleep): the program is exiting by then.
//
// While the world is stopped the caller must take no lock another thread
// may hold (no dl_iterate_phdr, dladdr, malloc, stdio).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace heapdrift::agent {

constexpr size_t kStoppedRegisters = 23;  // x86-64 NGREG: the signal context's gregs

struct StoppedThread {
  pid_t tid;
  uintptr_t stack_pointer;
  uintptr_t registers[kStoppedRegisters];
};

class WorldStop {
 public:
  WorldStop() = default;
  WorldStop(const WorldStop&) = delete;
  WorldStop& operator=(const WorldStop&) = delete;
  ~WorldStop() { Resume(); }

  // Stops every thread of the process but the caller and the agent's own
  // (which hold no program memory). False if nothing could be tried (no
  // free signal, no memory, /proc unreadable): every thread then runs.
  bool Stop();
  // Lets them go on; waits (bounded) until each has left the handler.
  void Resume();

  const StoppedThread* stopped() const;
  size_t stopped_count() const;
  // Threads that kept running: the signal blocked, or no answer in time.
  size_t running_count() const { return running_; }

  struct State;  // shared with the signal handler (world_stop.cc)

 private:
  State* state_ = nullptr;
  size_t running_ = 0;
};

}  // namespace heapdrift::agent
