#include "remote_thread.h"

#include <elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <cerrno>
#include <cstring>

#include "target_process.h"

namespace heapdrift {
namespace {

// The kernel's "restart me unless a handler runs" result
// (include/linux/errno.h): a call that returns it with its number in
// orig_rax is run again when the thread goes on and no signal handler is
// delivered first (arch_do_signal_or_restart), and fails with EINTR if one is.
constexpr long kRestartNoHand = -514;
constexpr uint64_t kDirectionFlag = 0x400;
// Big enough for any XSAVE layout (11,008 bytes with AMX tiles); the kernel
// says how much it wrote, and takes back exactly that much.
constexpr size_t kVectorStateCapacity = 64 * 1024;

// Signals the kernel forces on a thread that faults: blocking them would not
// hold them back, only reset the program's handler (force_sig_info_to_task).
constexpr int kFaultSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS};

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

RemoteThread::~RemoteThread() {
  if (held_ == Held::kChanged) {
    Release();
  } else if (held_ == Held::kUnchanged) {
    LetGo();
  }
}

bool RemoteThread::WaitForStop(std::chrono::steady_clock::time_point deadline, int* status) {
  for (;;) {
    pid_t got = waitpid(tid_, status, __WALL | WNOHANG);
    if (got == tid_) return WIFSTOPPED(*status);
    if (got < 0 && errno != EINTR) return false;
    if (std::chrono::steady_clock::now() >= deadline) {
      *status = -1;
      return false;
    }
    timespec pause{0, 20'000};
    nanosleep(&pause, nullptr);
  }
}

RemoteThread::Stop RemoteThread::Hold(std::chrono::milliseconds deadline, std::string* error) {
  auto until = std::chrono::steady_clock::now() + deadline;
  if (ptrace(PTRACE_SEIZE, tid_, nullptr, nullptr) != 0) {
    *error = Errno("ptrace(PTRACE_SEIZE)");
    if (errno == ESRCH) return Stop::kGone;
    // The kernel says EPERM for a thread that has just exited, too.
    if (errno == EPERM) return Exiting() ? Stop::kGone : Stop::kNotPermitted;
    return Stop::kFailed;
  }
  if (ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr) != 0) {
    *error = Errno("ptrace(PTRACE_INTERRUPT)");
    return Stop::kGone;  // seized but gone: the kernel detaches an exiting thread
  }
  held_ = Held::kUnchanged;
  for (;;) {
    int status = 0;
    if (!WaitForStop(until, &status)) {
      // Exited; or it would not stop in time (uninterruptible sleep): the
      // interrupt is cancelled when we detach, at the latest when we exit.
      held_ = Held::kNo;
      *error = status == -1 ? "the thread did not stop in time" : "the thread exited";
      return status == -1 ? Stop::kFailed : Stop::kGone;
    }
    int signal = WSTOPSIG(status);
    if (status >> 16 == PTRACE_EVENT_STOP) {
      if (signal == SIGTRAP) break;  // our interrupt
      // A group stop (SIGSTOP, Ctrl-Z) came first: leave it stopped.
      LetGo();
      *error = "the process is being stopped (SIGSTOP or job control)";
      return Stop::kFailed;
    }
    // A signal on its way in: deliver it as if we were not here.
    if (ptrace(PTRACE_CONT, tid_, nullptr, reinterpret_cast<void*>(static_cast<long>(signal))) != 0) {
      held_ = Held::kNo;
      *error = Errno("ptrace(PTRACE_CONT)");
      return Stop::kGone;
    }
  }
  saved_vector_state_.resize(kVectorStateCapacity);
  iovec vector_state{saved_vector_state_.data(), saved_vector_state_.size()};
  if (ptrace(PTRACE_GETREGS, tid_, nullptr, &saved_) != 0 ||
      ptrace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &vector_state) != 0 ||
      ptrace(PTRACE_GETSIGMASK, tid_, reinterpret_cast<void*>(sizeof(saved_signal_mask_)),
             &saved_signal_mask_) != 0) {
    *error = Errno("reading the thread's registers");
    LetGo();
    return Stop::kFailed;
  }
  saved_vector_state_.resize(vector_state.iov_len);
  return Stop::kStopped;
}

bool RemoteThread::Exiting() const {
  char state = ThreadState(pid_, tid_);
  return state == 'Z' || state == 'X';
}

bool RemoteThread::CallInterrupted() const {
  return static_cast<long>(saved_.orig_rax) >= 0 && static_cast<long>(saved_.rax) == -EINTR;
}

bool RemoteThread::RestartTheWaitItsStopEnded(
    std::chrono::steady_clock::duration since_seen_outside) {
  // Only the epoll waits: they return EINTR on any stop, consume no event
  // when they do, and are safe to run again. (Not every call that fails
  // with EINTR is: the rt_sigreturn of a handler that ran returns the
  // interrupted call's EINTR, and must never run twice.)
  long call = static_cast<long>(saved_.orig_rax);
  bool epoll_wait = call == SYS_epoll_wait || call == SYS_epoll_pwait || call == SYS_epoll_pwait2;
  if (!CallInterrupted() || !epoll_wait || since_seen_outside > kMaxLostWait) return false;
  user_regs_struct restarting = saved_;
  restarting.rax = static_cast<uint64_t>(kRestartNoHand);
  if (ptrace(PTRACE_SETREGS, tid_, nullptr, &restarting) != 0) return false;
  saved_ = restarting;
  return true;
}

bool RemoteThread::BlockSignals() {
  uint64_t mask = ~uint64_t{0};
  for (int signal : kFaultSignals) mask &= ~(uint64_t{1} << (signal - 1));
  held_ = Held::kChanged;
  return ptrace(PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof(mask)), &mask) == 0;
}

bool RemoteThread::Call(uint64_t function, const std::vector<uint64_t>& arguments,
                        uint64_t stack_top, std::chrono::milliseconds deadline, uint64_t* result,
                        std::string* error) {
  if (arguments.size() > 6) {
    *error = "more than six arguments";
    return false;
  }
  user_regs_struct registers = saved_;
  // Below the caller's 128-byte red zone (and some slack) on its own stack;
  // the ABI wants rsp + 8 16-byte aligned at a function's first instruction.
  uint64_t stack = stack_top != 0 ? stack_top : saved_.rsp - 128 - 256;
  stack = (stack & ~uint64_t{15}) - 8;
  uint64_t return_address = 0;
  if (!WriteMemory(stack, &return_address, sizeof(return_address))) {
    *error = Errno("writing the call's return address");
    return false;
  }
  unsigned long long* slots[] = {&registers.rdi, &registers.rsi, &registers.rdx,
                                 &registers.rcx, &registers.r8,  &registers.r9};
  for (size_t i = 0; i < arguments.size(); ++i) *slots[i] = arguments[i];
  registers.rip = function;
  registers.rsp = stack;
  registers.rax = 0;
  // Not inside a system call any more: else the kernel would "restart" the
  // interrupted one by moving rip back into our function (gdb does the same).
  registers.orig_rax = static_cast<unsigned long long>(-1);
  registers.eflags &= ~kDirectionFlag;  // the ABI wants DF clear at entry
  held_ = Held::kChanged;
  if (ptrace(PTRACE_SETREGS, tid_, nullptr, &registers) != 0 ||
      ptrace(PTRACE_CONT, tid_, nullptr, nullptr) != 0) {
    *error = Errno("starting the call");
    return false;
  }
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int status = 0;
    if (!WaitForStop(until, &status)) {
      *error = status == -1 ? "the call did not return in time" : "the process exited";
      if (status != -1) held_ = Held::kNo;
      return false;
    }
    int signal = WSTOPSIG(status);
    if (status >> 16 == PTRACE_EVENT_STOP) {
      // A group stop during the call: it waits until the call is over.
      if (ptrace(PTRACE_CONT, tid_, nullptr, nullptr) != 0) return false;
      continue;
    }
    siginfo_t info{};
    ptrace(PTRACE_GETSIGINFO, tid_, nullptr, &info);
    user_regs_struct now{};
    ptrace(PTRACE_GETREGS, tid_, nullptr, &now);
    if (signal == SIGSEGV && now.rip == 0 && info.si_code > 0) {
      *result = now.rax;
      return true;
    }
    if (info.si_code > 0) {  // a fault of the call's own
      *error = "the call faulted (signal " + std::to_string(signal) + ")";
      return false;
    }
    // Sent by someone (kill, tgkill): it is the program's; deliver it.
    if (ptrace(PTRACE_CONT, tid_, nullptr, reinterpret_cast<void*>(static_cast<long>(signal))) != 0) {
      return false;
    }
  }
}

bool RemoteThread::Release() {
  if (held_ == Held::kNo) return true;
  bool restored = true;
  if (held_ == Held::kChanged) {
    iovec vector_state{saved_vector_state_.data(), saved_vector_state_.size()};
    restored =
        ptrace(PTRACE_SETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &vector_state) == 0 &&
        ptrace(PTRACE_SETREGS, tid_, nullptr, &saved_) == 0 &&
        ptrace(PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof(saved_signal_mask_)),
               &saved_signal_mask_) == 0;
  }
  ptrace(PTRACE_DETACH, tid_, nullptr, nullptr);
  held_ = Held::kNo;
  return restored;
}

void RemoteThread::LetGo() {
  ptrace(PTRACE_DETACH, tid_, nullptr, nullptr);
  held_ = Held::kNo;
}

bool RemoteThread::ReadMemory(uint64_t address, void* out, size_t size) const {
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(address), size};
  return process_vm_readv(pid_, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

bool RemoteThread::WriteMemory(uint64_t address, const void* data, size_t size) const {
  iovec local{const_cast<void*>(data), size};
  iovec remote{reinterpret_cast<void*>(address), size};
  return process_vm_writev(pid_, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

}  // namespace heapdrift
