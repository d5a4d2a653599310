#include "safe_point.h"

#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "target_process.h"

namespace heapdrift {
namespace {

std::string TaskPath(pid_t pid, pid_t tid, const char* entry) {
  return "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/" + entry;
}

// System calls that the kernel restarts after a ptrace stop, unseen
// (-ERESTART*; measured in attach-dossier.md §0): x86-64 numbers.
enum class Restarts { kAlways, kUnlessSocketTimeout, kNo };
Restarts AfterAStop(long number) {
  switch (number) {
    case SYS_pause: case SYS_nanosleep: case SYS_clock_nanosleep: case SYS_poll: case SYS_ppoll:
    case SYS_select: case SYS_pselect6: case SYS_futex: case SYS_wait4: case SYS_waitid:
    case SYS_rt_sigsuspend: case SYS_pread64:
      return Restarts::kAlways;
    // On a socket with SO_RCVTIMEO these return EINTR instead (sock_intr_errno).
    case SYS_read: case SYS_readv: case SYS_recvfrom: case SYS_recvmsg: case SYS_accept:
    case SYS_accept4:
      return Restarts::kUnlessSocketTimeout;
    default:  // epoll_wait, epoll_pwait, rt_sigtimedwait, io_getevents, ...
      return Restarts::kNo;
  }
}

// Whether descriptor `fd` of the process is a socket with a receive timeout
// (looked at through a duplicate: pidfd_getfd). Unknown counts as yes.
bool HasReceiveTimeout(pid_t pid, long fd) {
  int process = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (process < 0) return true;
  int copy = static_cast<int>(syscall(SYS_pidfd_getfd, process, static_cast<int>(fd), 0));
  close(process);
  if (copy < 0) return true;
  timeval timeout{};
  socklen_t size = sizeof(timeout);
  int got = getsockopt(copy, SOL_SOCKET, SO_RCVTIMEO, &timeout, &size);
  bool not_socket = got != 0 && errno == ENOTSOCK;
  close(copy);
  if (not_socket) return false;
  return got != 0 || timeout.tv_sec != 0 || timeout.tv_usec != 0;
}

// C-library entry points a program calls to block: a thread stopped inside
// one (and no deeper in the library) holds none of the library's locks.
bool BlockingEntryPoint(std::string_view name) {
  static const std::set<std::string_view> kNames = {
      "read", "__read", "readv", "pread", "pread64", "recv", "__recv", "recvfrom", "recvmsg",
      "accept", "accept4", "poll", "__poll", "ppoll", "select", "__select", "pselect",
      "epoll_wait", "epoll_pwait", "epoll_pwait2",
      "nanosleep", "__nanosleep", "clock_nanosleep", "__clock_nanosleep", "sleep", "usleep",
      "pause", "wait", "waitpid", "__waitpid", "wait3", "wait4", "waitid", "sigsuspend",
      "sigwait", "syscall", "pthread_cond_wait", "pthread_cond_timedwait",
      "pthread_cond_clockwait", "pthread_mutex_lock", "__pthread_mutex_lock",
      "pthread_mutex_timedlock", "pthread_mutex_clocklock", "pthread_rwlock_rdlock",
      "pthread_rwlock_wrlock", "pthread_rwlock_timedrdlock", "pthread_rwlock_timedwrlock",
      "pthread_join", "pthread_timedjoin_np", "pthread_clockjoin_np", "sem_wait",
      "sem_timedwait", "sem_clockwait", "pthread_barrier_wait", "thrd_sleep", "cnd_wait",
      "cnd_timedwait", "mtx_lock", "mtx_timedlock"};
  return kNames.count(name) != 0;
}

int NoDebugInfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*,
                GElf_Word, char**) {
  return -1;  // .eh_frame and .dynsym are enough, and always there
}

enum class Owner { kProgram, kLibc, kLoader, kUnknown };

std::string_view BaseName(const char* path) {
  std::string_view view(path != nullptr ? path : "");
  size_t slash = view.rfind('/');
  return slash == std::string_view::npos ? view : view.substr(slash + 1);
}

}  // namespace

std::vector<pid_t> BorrowableThreads(pid_t pid) {
  std::vector<pid_t> blocked, running;
  std::string directory = "/proc/" + std::to_string(pid) + "/task";
  DIR* tasks = opendir(directory.c_str());
  if (tasks == nullptr) return {};
  while (dirent* entry = readdir(tasks)) {
    pid_t tid = static_cast<pid_t>(std::atol(entry->d_name));
    if (tid <= 0) continue;
    char state = ThreadState(pid, tid);
    if (state != 'R' && state != 'S') continue;  // D, T, t, Z, X: not now
    std::ifstream file(TaskPath(pid, tid, "syscall"));
    std::string first;
    if (!(file >> first)) continue;
    if (first == "running") {
      running.push_back(tid);
      continue;
    }
    long number = std::strtol(first.c_str(), nullptr, 10);
    std::string fd_text;
    file >> fd_text;
    switch (AfterAStop(number)) {
      case Restarts::kAlways:
        blocked.push_back(tid);
        break;
      case Restarts::kUnlessSocketTimeout:
        if (!HasReceiveTimeout(pid, std::strtol(fd_text.c_str(), nullptr, 16))) {
          blocked.push_back(tid);
        }
        break;
      case Restarts::kNo:
        break;
    }
  }
  closedir(tasks);
  blocked.insert(blocked.end(), running.begin(), running.end());
  return blocked;
}

struct StackInspector::State {
  Dwfl_Callbacks callbacks{};
  Dwfl* dwfl = nullptr;
  bool attached = false;
  std::string error;
};

StackInspector::StackInspector(pid_t pid) : state_(std::make_unique<State>()) {
  state_->callbacks.find_elf = dwfl_linux_proc_find_elf;
  state_->callbacks.find_debuginfo = NoDebugInfo;
  state_->dwfl = dwfl_begin(&state_->callbacks);
  if (state_->dwfl == nullptr) return;
  dwfl_report_begin(state_->dwfl);
  int reported = dwfl_linux_proc_report(state_->dwfl, pid);
  dwfl_report_end(state_->dwfl, nullptr, nullptr);
  // The threads are stopped by us one at a time: libdwfl must not attach.
  state_->attached = reported == 0 && dwfl_linux_proc_attach(state_->dwfl, pid, true) == 0;
  if (!state_->attached) state_->error = dwfl_errmsg(-1);
}

StackInspector::~StackInspector() {
  if (state_->dwfl != nullptr) dwfl_end(state_->dwfl);
}

bool StackInspector::SafeToLoad(pid_t tid, long system_call, bool wait_restarts,
                                std::string* reason) {
  if (!state_->attached) {
    *reason = "cannot read the process's modules (" + state_->error + ")";
    return false;
  }
  std::vector<Dwarf_Addr> frames;
  auto on_frame = [](Dwfl_Frame* frame, void* argument) -> int {
    auto* out = static_cast<std::vector<Dwarf_Addr>*>(argument);
    Dwarf_Addr pc = 0;
    bool activation = false;
    if (!dwfl_frame_pc(frame, &pc, &activation)) return DWARF_CB_ABORT;
    // A return address points after its call: look up the call itself.
    out->push_back(activation ? pc : pc - 1);
    return out->size() > 512 ? DWARF_CB_ABORT : DWARF_CB_OK;
  };
  int walked = dwfl_getthread_frames(state_->dwfl, tid, on_frame, &frames);
  if (walked != 0 || frames.empty()) {
    *reason = "its stack could not be walked to its end";
    return false;
  }
  struct Frame {
    Owner owner;
    std::string symbol;
    bool entry_point;  // within the first bytes of its module's ELF entry
  };
  auto describe = [this](Dwarf_Addr pc) {
    Frame frame{Owner::kUnknown, "", false};
    Dwfl_Module* module = dwfl_addrmodule(state_->dwfl, pc);
    if (module == nullptr) return frame;
    const char* name = dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr,
                                        nullptr, nullptr);
    std::string_view base = BaseName(name);
    frame.owner = base.rfind("libc.so", 0) == 0      ? Owner::kLibc
                  : base.rfind("ld-linux", 0) == 0   ? Owner::kLoader
                                                     : Owner::kProgram;
    GElf_Off offset = 0;
    GElf_Sym symbol{};
    const char* symbol_name =
        dwfl_module_addrinfo(module, pc, &offset, &symbol, nullptr, nullptr, nullptr);
    if (symbol_name != nullptr && offset < symbol.st_size) frame.symbol = symbol_name;
    GElf_Addr bias = 0;
    Elf* elf = dwfl_module_getelf(module, &bias);
    GElf_Ehdr header{};
    if (elf != nullptr && gelf_getehdr(elf, &header) != nullptr && header.e_entry != 0) {
      Dwarf_Addr entry = header.e_entry + bias;
      frame.entry_point = pc >= entry && pc < entry + 64;
    }
    return frame;
  };
  size_t i = 0;
  std::string innermost_entry;
  while (i < frames.size()) {
    Frame frame = describe(frames[i]);
    if (frame.owner != Owner::kLibc) break;
    innermost_entry = frame.symbol;
    ++i;
  }
  if (i > 0) {
    // Only inside a blocking call: the C library does other system calls
    // with locks held (pthread_join unmaps stacks under the loader's stack
    // cache lock, which pthread_create, in the agent's constructor, takes
    // too: a thread borrowed there waited on itself forever).
    if (system_call < 0 || (AfterAStop(system_call) == Restarts::kNo && !wait_restarts)) {
      *reason = "stopped inside the C library";
      return false;
    }
    // An entry point that tail-calls an internal function (pthread_join)
    // leaves no name. Unnamed is fine unless the call is a futex wait: the
    // library waits for its own locks that way (malloc's arenas); in its
    // other blocking calls it holds none that loading the agent takes.
    bool unnamed_but_not_a_lock = innermost_entry.empty() && system_call != SYS_futex;
    if (!unnamed_but_not_a_lock && !BlockingEntryPoint(innermost_entry)) {
      *reason = "inside " + (innermost_entry.empty() ? std::string("the C library")
                                                     : innermost_entry + "()");
      return false;
    }
  }
  bool in_start_up = false;
  for (; i < frames.size(); ++i) {
    Frame frame = describe(frames[i]);
    switch (frame.owner) {
      case Owner::kUnknown:
        *reason = "a frame outside every module";
        return false;
      case Owner::kLoader:
        *reason = "inside the dynamic loader";
        return false;
      case Owner::kLibc:
        in_start_up = true;
        break;
      case Owner::kProgram:
        if (in_start_up && !frame.entry_point) {
          *reason = "in a function the C library called" +
                    (frame.symbol.empty() ? std::string() : " (" + frame.symbol + ")");
          return false;
        }
        break;
    }
  }
  return true;
}

}  // namespace heapdrift
