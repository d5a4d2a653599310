// One thread of another process, held still with ptrace for `attach` to
// borrow: seized without a signal (PTRACE_SEIZE + PTRACE_INTERRUPT, never
// PTRACE_ATTACH's SIGSTOP, never PTRACE_O_EXITKILL: if we die, it goes on),
// its state saved whole (general registers, the full XSAVE area at the size
// the kernel reports, the signal mask), made to call functions of its own
// process, and put back exactly as it was.
//
// x86-64 only. See ../shared/research/attach-dossier.md §2 for the hazards
// each step answers.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace heapdrift {

class RemoteThread {
 public:
  enum class Stop { kStopped, kGone, kNotPermitted, kFailed };

  RemoteThread(pid_t pid, pid_t tid) : pid_(pid), tid_(tid) {}
  ~RemoteThread();  // releases the thread if still held
  RemoteThread(const RemoteThread&) = delete;
  RemoteThread& operator=(const RemoteThread&) = delete;

  // Seizes and stops the thread, and saves its state; `error` says why not.
  Stop Hold(std::chrono::milliseconds deadline, std::string* error);

  pid_t tid() const { return tid_; }
  const user_regs_struct& saved() const { return saved_; }
  // Stopped at the end of a system call that failed with EINTR: the stop
  // itself made it fail (a call the kernel restarts shows -ERESTART* here
  // instead, and restarts unseen when the saved registers go back).
  bool CallInterrupted() const;
  // If the stop made an epoll wait fail, turns its EINTR into the kernel's
  // own -ERESTARTNOHAND, so that the wait restarts unseen when the thread
  // goes on, or fails with EINTR only if a signal handler runs first, as it
  // would have without us. Done only when the thread was seen outside the
  // wait `since_seen_outside` ago, at most `kMaxLostWait`: a restart begins
  // the wait's timeout again, so that much is added to it at worst.
  // True when the wait will restart.
  static constexpr std::chrono::milliseconds kMaxLostWait{10};
  bool RestartTheWaitItsStopEnded(std::chrono::steady_clock::duration since_seen_outside);

  // Blocks every signal but the synchronous faults while the thread works
  // for us: a handler must not run on a borrowed stack, and a fault signal
  // that arrives blocked would reset the program's own handler (the kernel's
  // force_sig). What arrives meanwhile stays pending until Release.
  bool BlockSignals();

  // Calls `function(arguments...)` in the thread, on `stack_top` (16-byte
  // aligned below it; 0: the thread's own stack below its red zone). The
  // call returns to address 0, whose fault ends it. False if the thread
  // faulted elsewhere, exited, or the call outlived `deadline`.
  bool Call(uint64_t function, const std::vector<uint64_t>& arguments, uint64_t stack_top,
            std::chrono::milliseconds deadline, uint64_t* result, std::string* error);

  // Puts every register, the vector state and the signal mask back and lets
  // the thread go; a system call it was in restarts as if never stopped.
  bool Release();
  // Lets the thread go without touching its state (nothing was changed).
  void LetGo();

  bool ReadMemory(uint64_t address, void* out, size_t size) const;
  bool WriteMemory(uint64_t address, const void* data, size_t size) const;

 private:
  enum class Held { kNo, kUnchanged, kChanged };
  // The thread has exited, or is exiting (a zombie): /proc says so.
  bool Exiting() const;
  // Waits for the next stop of the thread; false if it exited or the deadline passed.
  bool WaitForStop(std::chrono::steady_clock::time_point deadline, int* status);

  pid_t pid_, tid_;
  Held held_ = Held::kNo;
  user_regs_struct saved_{};
  std::vector<uint8_t> saved_vector_state_;
  uint64_t saved_signal_mask_ = 0;
};

}  // namespace heapdrift
