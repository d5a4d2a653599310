#include "world_stop.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "agent.h"
#include "collector.h"
#include "page_arena.h"

namespace heapdrift::agent {

// Threads a stop can hold; the rest keep running, counted.
constexpr size_t kMaxStoppedThreads = 4096;
// How long the stop waits for the last thread signalled to answer. A thread
// in a system call answers as soon as it is interrupted; one in
// uninterruptible sleep (disk I/O) may take longer, and is left running.
constexpr uint64_t kAnswerDeadlineNs = 200'000'000;
// How long Resume waits for the threads to leave the handler before it
// gives up unmapping the state (it then stays mapped: the process is exiting).
constexpr uint64_t kLeaveDeadlineNs = 1'000'000'000;

struct WorldStop::State {
  struct Slot {
    std::atomic<pid_t> tid;
    std::atomic<uint32_t> arrived;
    StoppedThread thread;
  };
  std::atomic<uint32_t> resume;  // futex word: 1 once the scan is done
  std::atomic<uint32_t> left;    // handlers that have returned
  std::atomic<uint32_t> slot_count;
  Slot slots[kMaxStoppedThreads];
  StoppedThread stopped[kMaxStoppedThreads];  // the threads that answered
  size_t stopped_count;
};

namespace {

std::atomic<WorldStop::State*> g_stop_state{nullptr};
int g_stop_signal = 0;  // installed once, kept for good

void Pause(int64_t nanoseconds) {
  timespec pause{0, nanoseconds};
  nanosleep(&pause, nullptr);
}

pid_t ThisThread() { return static_cast<pid_t>(syscall(SYS_gettid)); }

void OnStopSignal(int, siginfo_t* info, void* context) {
  int saved_errno = errno;
  WorldStop::State* state = g_stop_state.load(std::memory_order_acquire);
  // Only the agent's own tgkill stops a thread; anything else passes.
  if (state != nullptr && info->si_code == SI_TKILL && info->si_pid == getpid()) {
    pid_t self = ThisThread();
    uint32_t count = state->slot_count.load(std::memory_order_acquire);
    for (uint32_t i = 0; i < count; ++i) {
      WorldStop::State::Slot& slot = state->slots[i];
      if (slot.tid.load(std::memory_order_acquire) != self) continue;
#if defined(__x86_64__)
      const auto* machine = &static_cast<const ucontext_t*>(context)->uc_mcontext;
      static_assert(NGREG == kStoppedRegisters);
      for (size_t r = 0; r < kStoppedRegisters; ++r) {
        slot.thread.registers[r] = static_cast<uintptr_t>(machine->gregs[r]);
      }
      slot.thread.stack_pointer = static_cast<uintptr_t>(machine->gregs[REG_RSP]);
#else
      (void)context;
#endif
      slot.arrived.store(1, std::memory_order_release);
      while (state->resume.load(std::memory_order_acquire) == 0) {
        syscall(SYS_futex, &state->resume, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
      }
      state->left.fetch_add(1, std::memory_order_acq_rel);
      break;
    }
  }
  errno = saved_errno;
}

// A real-time signal with the default disposition (nobody uses it), given
// the handler; 0 if none is free.
int InstallStopSignal() {
  if (g_stop_signal != 0) return g_stop_signal;
  for (int candidate = SIGRTMAX; candidate >= SIGRTMIN; --candidate) {
    struct sigaction current{};
    if (sigaction(candidate, nullptr, &current) != 0) continue;
    if ((current.sa_flags & SA_SIGINFO) != 0 || current.sa_handler != SIG_DFL) continue;
    struct sigaction stop{};
    stop.sa_sigaction = OnStopSignal;
    stop.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigfillset(&stop.sa_mask);
    if (sigaction(candidate, &stop, nullptr) == 0) {
      g_stop_signal = candidate;
      return candidate;
    }
  }
  return 0;
}

enum class ThreadStatus { kAnswers, kBlocksSignal, kGone };

// From /proc/self/task/TID/status: whether the thread can take the signal.
ThreadStatus StatusOf(pid_t tid, int signal) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ThreadStatus::kGone;
  char text[4096];
  ssize_t got = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (got <= 0) return ThreadStatus::kGone;
  text[got] = '\0';
  const char* state = strstr(text, "\nState:\t");
  if (state != nullptr && (state[8] == 'Z' || state[8] == 'X')) return ThreadStatus::kGone;
  const char* blocked = strstr(text, "\nSigBlk:\t");
  if (blocked == nullptr) return ThreadStatus::kBlocksSignal;
  uint64_t mask = 0;
  for (const char* digit = blocked + 9; *digit != '\n' && *digit != '\0'; ++digit) {
    int value = *digit >= 'a' ? *digit - 'a' + 10 : *digit - '0';
    mask = (mask << 4) | static_cast<uint64_t>(value & 15);
  }
  return (mask >> (signal - 1)) & 1 ? ThreadStatus::kBlocksSignal : ThreadStatus::kAnswers;
}

// In a short program the collector thread may not have run its first
// instruction yet: it is in the task list but cannot say who it is.
void AwaitAgentThreads() {
  uint64_t deadline = MonotonicNowNs() + kAnswerDeadlineNs;
  while (g_agent.collector_tid.load(std::memory_order_relaxed) == kThreadNotYetRunning &&
         MonotonicNowNs() < deadline) {
    Pause(50'000);
  }
}

bool IsAgentThread(pid_t tid) {
  return tid == g_agent.collector_tid.load(std::memory_order_relaxed) ||
         tid == g_agent.control_tid.load(std::memory_order_relaxed);
}

struct LinuxDirent64 {
  uint64_t inode;
  int64_t offset;
  unsigned short length;
  unsigned char type;
  char name[];
};

// Calls visit(tid) for every thread of the process; false if /proc could
// not be read.
template <typename Visit>
bool ForEachThread(Visit&& visit) {
  int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  alignas(8) char buffer[4096];
  for (;;) {
    long got = syscall(SYS_getdents64, fd, buffer, sizeof(buffer));
    if (got <= 0) break;
    for (long at = 0; at < got;) {
      const auto* entry = reinterpret_cast<const LinuxDirent64*>(buffer + at);
      at += entry->length;
      char* end = nullptr;
      long tid = strtol(entry->name, &end, 10);
      if (end != entry->name && *end == '\0' && tid > 0) visit(static_cast<pid_t>(tid));
    }
  }
  close(fd);
  return true;
}

}  // namespace

bool WorldStop::Stop() {
  int signal = InstallStopSignal();
  if (signal == 0) return false;
  state_ = static_cast<State*>(MapPages(sizeof(State)));
  if (state_ == nullptr) return false;
  g_stop_state.store(state_, std::memory_order_release);
  AwaitAgentThreads();
  const pid_t self = ThisThread(), process = getpid();
  // Threads started meanwhile appear in a later pass: go on until one finds
  // nothing new (a thread starts with every signal blocked until glibc
  // restores its mask, so a new one may be counted running).
  uint32_t signalled = 0;
  for (int pass = 0; pass < 8; ++pass) {
    bool found_new = false;
    bool listed = ForEachThread([&](pid_t tid) {
      if (tid == self || IsAgentThread(tid)) return;
      uint32_t count = state_->slot_count.load(std::memory_order_relaxed);
      for (uint32_t i = 0; i < count; ++i) {
        if (state_->slots[i].thread.tid == tid) return;
      }
      found_new = true;
      if (count == kMaxStoppedThreads) {
        ++running_;
        return;
      }
      State::Slot& slot = state_->slots[count];
      slot.thread.tid = tid;  // seen, whether it is signalled or not
      state_->slot_count.store(count + 1, std::memory_order_release);
      switch (StatusOf(tid, signal)) {
        case ThreadStatus::kGone:
          return;
        case ThreadStatus::kBlocksSignal:
          ++running_;
          return;
        case ThreadStatus::kAnswers:
          break;
      }
      slot.tid.store(tid, std::memory_order_release);
      if (syscall(SYS_tgkill, process, tid, signal) == 0) {
        ++signalled;
      } else {
        slot.tid.store(0, std::memory_order_release);  // it ended meanwhile
      }
    });
    if (!listed || !found_new) break;
  }
  uint64_t deadline = MonotonicNowNs() + kAnswerDeadlineNs;
  uint32_t arrived = 0;
  for (;;) {
    arrived = 0;
    uint32_t count = state_->slot_count.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < count; ++i) {
      arrived += state_->slots[i].arrived.load(std::memory_order_acquire);
    }
    if (arrived == signalled || MonotonicNowNs() > deadline) break;
    Pause(50'000);
  }
  running_ += signalled - arrived;
  uint32_t count = state_->slot_count.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < count; ++i) {
    if (state_->slots[i].arrived.load(std::memory_order_acquire) != 0) {
      state_->stopped[state_->stopped_count++] = state_->slots[i].thread;
    }
  }
  return true;
}

void WorldStop::Resume() {
  if (state_ == nullptr) return;
  state_->resume.store(1, std::memory_order_release);
  syscall(SYS_futex, &state_->resume, FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
  // Unmapped only once every thread signalled has been through the handler:
  // one that answers late must still find the state it looks up.
  uint32_t signalled = 0;
  uint32_t count = state_->slot_count.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < count; ++i) signalled += state_->slots[i].tid.load() != 0;
  uint64_t deadline = MonotonicNowNs() + kLeaveDeadlineNs;
  while (state_->left.load(std::memory_order_acquire) < state_->stopped_count &&
         MonotonicNowNs() < deadline) {
    Pause(50'000);
  }
  bool all_left = state_->left.load(std::memory_order_acquire) == signalled;
  g_stop_state.store(nullptr, std::memory_order_release);
  if (all_left) UnmapPages(state_, sizeof(State));
  state_ = nullptr;
}

const StoppedThread* WorldStop::stopped() const {
  return state_ != nullptr ? state_->stopped : nullptr;
}

size_t WorldStop::stopped_count() const { return state_ != nullptr ? state_->stopped_count : 0; }

}  // namespace heapdrift::agent
