#include "agent_injector.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "remote_thread.h"
#include "safe_point.h"

namespace heapdrift {
namespace {

using std::chrono::milliseconds;

// How long to look for a safe moment: a busy or idle program offers one
// within milliseconds (median 5 tries, attach-dossier.md §0).
constexpr milliseconds kSafeMomentDeadline{5000};
constexpr milliseconds kStopDeadline{1000};
constexpr milliseconds kShortCallDeadline{2000};
// The loader's call is never abandoned once started: a thread torn out of
// dlopen would leave the loader's lock taken for good. The helper waits.
constexpr milliseconds kLoaderCallDeadline{24LL * 3600 * 1000};
// The parent's patience with the helper before it reports and leaves.
constexpr std::chrono::seconds kHelperDeadline{30};
constexpr uint64_t kScratchBytes = 256 * 1024;  // the loader's stack and the path

std::string Proc(pid_t pid, const std::string& entry) {
  return "/proc/" + std::to_string(pid) + "/" + entry;
}

std::string StatusValue(pid_t pid, const std::string& key) {
  std::ifstream status(Proc(pid, "status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(key + ":", 0) == 0) {
      size_t start = line.find_first_not_of(" \t", key.size() + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

struct MappedLibc {
  uint64_t base = 0;
  unsigned long inode = 0;
  std::string path;
};

// The process's glibc, from its memory map: the mapping at file offset 0.
bool FindLibc(pid_t pid, MappedLibc* libc) {
  std::ifstream maps(Proc(pid, "maps"));
  for (std::string line; std::getline(maps, line);) {
    std::istringstream fields(line);
    std::string range, permissions, offset, device, path;
    unsigned long inode = 0;
    if (!(fields >> range >> permissions >> offset >> device >> inode >> path)) continue;
    size_t slash = path.rfind('/');
    if (slash == std::string::npos || path.compare(slash + 1, std::string::npos, "libc.so.6") != 0 ||
        std::stoull(offset, nullptr, 16) != 0) {
      continue;
    }
    libc->base = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    libc->inode = inode;
    libc->path = path;
    return true;
  }
  return false;
}

// The addresses of `names` in the process's libc, from its .dynsym (read
// through /proc/PID/root, so a container's own libc is the one read).
bool ResolveInLibc(pid_t pid, const MappedLibc& libc, std::map<std::string, uint64_t>* names,
                   std::string* error) {
  std::string path = Proc(pid, "root") + libc.path;
  struct stat file {};
  if (stat(path.c_str(), &file) != 0 || file.st_ino != libc.inode) {
    *error = "its C library on disk is not the one it runs (upgraded since it started?)";
    return false;
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot read its C library " + libc.path;
    return false;
  }
  elf_version(EV_CURRENT);
  Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
  uint64_t first_load = UINT64_MAX;
  size_t headers = 0;
  if (elf != nullptr && elf_getphdrnum(elf, &headers) == 0) {
    for (size_t i = 0; i < headers; ++i) {
      GElf_Phdr header{};
      if (gelf_getphdr(elf, static_cast<int>(i), &header) != nullptr && header.p_type == PT_LOAD) {
        first_load = std::min<uint64_t>(first_load, header.p_vaddr & ~uint64_t{0xfff});
      }
    }
  }
  for (Elf_Scn* section = elf != nullptr ? elf_nextscn(elf, nullptr) : nullptr; section != nullptr;
       section = elf_nextscn(elf, section)) {
    GElf_Shdr header{};
    if (gelf_getshdr(section, &header) == nullptr || header.sh_type != SHT_DYNSYM) continue;
    Elf_Data* data = elf_getdata(section, nullptr);
    size_t count = header.sh_entsize != 0 ? header.sh_size / header.sh_entsize : 0;
    for (size_t i = 0; data != nullptr && i < count; ++i) {
      GElf_Sym symbol{};
      if (gelf_getsym(data, static_cast<int>(i), &symbol) == nullptr ||
          symbol.st_shndx == SHN_UNDEF || GELF_ST_TYPE(symbol.st_info) != STT_FUNC) {
        continue;
      }
      const char* name = elf_strptr(elf, header.sh_link, symbol.st_name);
      auto wanted = name != nullptr ? names->find(name) : names->end();
      if (wanted != names->end() && wanted->second == 0) {
        wanted->second = libc.base + symbol.st_value - (first_load == UINT64_MAX ? 0 : first_load);
      }
    }
  }
  if (elf != nullptr) elf_end(elf);
  close(fd);
  for (const auto& [name, address] : *names) {
    if (address == 0) {
      *error = "its C library has no " + name + " (glibc before 2.34?)";
      return false;
    }
  }
  return true;
}

// What rules the process out before any thread is touched.
InjectResult Preflight(const TargetProcess& target, const std::string& agent_path,
                       std::string* visible_agent_path) {
  std::string pid = std::to_string(target.pid);
  auto refuse = [&](const std::string& why) {
    return InjectResult{InjectStatus::kCannotAttach, "pid " + pid + " (" + target.name + ") " + why};
  };
  if (target.state == 'T' || target.state == 't') {
    return refuse("is stopped (job control or a debugger): continue it first");
  }
  if (target.tracer != 0) {
    return refuse("is traced by pid " + std::to_string(target.tracer) +
                  " (a debugger?): only one tracer at a time");
  }
  if (StatusValue(target.pid, "Seccomp") == "2") {
    return refuse("runs under a seccomp filter, which might kill it for the calls loading the "
                  "agent makes; start it with `heapdrift run --dormant` instead");
  }
  int exe = open(Proc(target.pid, "exe").c_str(), O_RDONLY | O_CLOEXEC);
  if (exe < 0) return refuse("has no readable executable (/proc/PID/exe)");
  elf_version(EV_CURRENT);
  Elf* elf = elf_begin(exe, ELF_C_READ, nullptr);
  GElf_Ehdr header{};
  bool dynamic = false;
  size_t count = 0;
  bool read = elf != nullptr && gelf_getehdr(elf, &header) != nullptr &&
              elf_getphdrnum(elf, &count) == 0;
  for (size_t i = 0; read && i < count; ++i) {
    GElf_Phdr program_header{};
    if (gelf_getphdr(elf, static_cast<int>(i), &program_header) != nullptr &&
        program_header.p_type == PT_INTERP) {
      dynamic = true;
    }
  }
  if (elf != nullptr) elf_end(elf);
  close(exe);
  if (!read) return refuse("has an executable that is not ELF");
  if (header.e_machine != EM_X86_64 || header.e_ident[EI_CLASS] != ELFCLASS64) {
    return refuse("is not an x86-64 program: this heapdrift enters x86-64 programs only");
  }
  if (!dynamic) {
    return refuse("is statically linked: there is no loader in it to load the agent");
  }
  MappedLibc libc;
  if (!FindLibc(target.pid, &libc)) {
    return refuse("does not use glibc (no libc.so.6 mapped; musl?)");
  }
  // The process opens the agent by path: it must see the very file we do.
  struct stat ours {}, theirs {};
  std::string through_root = Proc(target.pid, "root") + agent_path;
  if (stat(agent_path.c_str(), &ours) != 0 || stat(through_root.c_str(), &theirs) != 0 ||
      ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino) {
    return refuse("cannot see " + agent_path +
                  " (another mount namespace: a container?); put libheapdrift.so at the same "
                  "path inside it, or start the program with `heapdrift run --dormant`");
  }
  *visible_agent_path = agent_path;
  return InjectResult{InjectStatus::kLoaded, ""};
}

std::string ReadString(const RemoteThread& thread, uint64_t address) {
  char text[512] = {};
  for (size_t got = 0; got + 1 < sizeof(text); got += 64) {
    if (!thread.ReadMemory(address + got, text + got, 64)) break;
    if (memchr(text + got, '\0', 64) != nullptr) break;
  }
  text[sizeof(text) - 1] = '\0';
  return text;
}

// What attach says of the system calls its stops made fail ("" for none).
std::string InterruptedCallsNote(int calls) {
  if (calls == 0) return "";
  return "; " + std::to_string(calls) + " system call" + (calls == 1 ? "" : "s") +
         " stopped on the way returned EINTR";
}

// The loading itself, on a thread held at a safe moment.
InjectResult LoadOnThread(RemoteThread& thread, const std::map<std::string, uint64_t>& libc,
                          const std::string& agent_path) {
  std::string error;
  uint64_t errno_address = 0, scratch = 0, handle = 0, ignored = 0;
  auto failed = [&](const std::string& what) {
    bool restored = thread.Release();
    return InjectResult{InjectStatus::kFailed,
                        what + ": " + error + (restored ? "" : "; its thread may not be as it was")};
  };
  if (!thread.BlockSignals()) return failed("cannot hold its signals back");
  if (!thread.Call(libc.at("__errno_location"), {}, 0, kShortCallDeadline, &errno_address,
                   &error)) {
    return failed("calling __errno_location in it");
  }
  int saved_errno = 0;
  thread.ReadMemory(errno_address, &saved_errno, sizeof(saved_errno));
  if (!thread.Call(libc.at("mmap"),
                   {0, kScratchBytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, static_cast<uint64_t>(-1), 0},
                   0, kShortCallDeadline, &scratch, &error) ||
      scratch == reinterpret_cast<uint64_t>(MAP_FAILED)) {
    if (error.empty()) error = "out of memory";
    return failed("reserving a stack in it");
  }
  if (!thread.WriteMemory(scratch, agent_path.c_str(), agent_path.size() + 1)) {
    error = "process_vm_writev failed";
    return failed("writing the agent's path into it");
  }
  // RTLD_LOCAL: the agent's symbols never join the program's search order.
  if (!thread.Call(libc.at("dlopen"), {scratch, RTLD_NOW | RTLD_LOCAL}, scratch + kScratchBytes,
                   kLoaderCallDeadline, &handle, &error)) {
    return failed("calling dlopen in it");
  }
  std::string refusal;
  if (handle == 0) {
    uint64_t message = 0;
    if (thread.Call(libc.at("dlerror"), {}, scratch + kScratchBytes, kShortCallDeadline, &message,
                    &error) &&
        message != 0) {
      refusal = ReadString(thread, message);
    }
  }
  thread.Call(libc.at("munmap"), {scratch, kScratchBytes}, 0, kShortCallDeadline, &ignored, &error);
  thread.WriteMemory(errno_address, &saved_errno, sizeof(saved_errno));
  if (!thread.Release()) {
    return InjectResult{InjectStatus::kFailed, "the agent is loaded, but its thread could not be "
                                               "put back exactly as it was"};
  }
  if (handle == 0) {
    return InjectResult{InjectStatus::kFailed,
                        "it could not load the agent: " + (refusal.empty() ? "dlopen failed" : refusal)};
  }
  return InjectResult{InjectStatus::kLoaded, "loaded by thread " + std::to_string(thread.tid())};
}

InjectResult Inject(const TargetProcess& target, const std::string& agent_path) {
  std::string visible_path;
  InjectResult checked = Preflight(target, agent_path, &visible_path);
  if (checked.status != InjectStatus::kLoaded) return checked;
  MappedLibc libc;
  std::string error;
  std::map<std::string, uint64_t> functions = {
      {"dlopen", 0}, {"dlerror", 0}, {"mmap", 0}, {"munmap", 0}, {"__errno_location", 0}};
  if (!FindLibc(target.pid, &libc) || !ResolveInLibc(target.pid, libc, &functions, &error)) {
    return InjectResult{InjectStatus::kCannotAttach, "pid " + std::to_string(target.pid) + ": " + error};
  }
  StackInspector inspector(target.pid);
  std::minstd_rand random(static_cast<unsigned>(
      std::chrono::steady_clock::now().time_since_epoch().count()));
  auto deadline = std::chrono::steady_clock::now() + kSafeMomentDeadline;
  std::string last_reason = "no thread was in a call that a stop leaves unseen";
  int tries = 0;
  // A thread read as running may enter a call such as epoll_wait before the
  // stop lands, and the stop makes that call fail with EINTR. An epoll wait
  // is made to restart instead; any other such call is counted and said.
  int interrupted_calls = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    // Every thread listed was outside any epoll wait when its state was read.
    auto listed_at = std::chrono::steady_clock::now();
    for (pid_t tid : BorrowableThreads(target.pid)) {
      RemoteThread thread(target.pid, tid);
      switch (thread.Hold(kStopDeadline, &error)) {
        case RemoteThread::Stop::kStopped:
          break;
        case RemoteThread::Stop::kNotPermitted: {
          std::string yama;
          std::ifstream scope("/proc/sys/kernel/yama/ptrace_scope");
          if (std::getline(scope, yama) && yama != "0") {
            yama = " (kernel.yama.ptrace_scope=" + yama + ")";
          } else {
            yama.clear();
          }
          return InjectResult{InjectStatus::kNotPermitted,
                              "ptrace is not permitted on pid " + std::to_string(target.pid) + yama +
                                  ": run as root or with CAP_SYS_PTRACE, or start the program "
                                  "with `heapdrift run --dormant`"};
        }
        case RemoteThread::Stop::kGone:
          continue;
        case RemoteThread::Stop::kFailed:
          if (error.find("being stopped") != std::string::npos) {
            return InjectResult{InjectStatus::kCannotAttach,
                                "pid " + std::to_string(target.pid) + ": " + error};
          }
          last_reason = error;
          continue;
      }
      ++tries;
      auto held_from = std::chrono::steady_clock::now();
      bool wait_restarts = thread.RestartTheWaitItsStopEnded(held_from - listed_at);
      if (!wait_restarts && thread.CallInterrupted()) ++interrupted_calls;
      long system_call = static_cast<long>(thread.saved().orig_rax);
      if (!inspector.SafeToLoad(tid, system_call, wait_restarts, &last_reason)) {
        thread.LetGo();
        continue;
      }
      InjectResult result = LoadOnThread(thread, functions, visible_path);
      if (result.status == InjectStatus::kLoaded) {
        char held[128];
        std::snprintf(held, sizeof(held), ", held %.2f ms, after %d tr%s",
                      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                held_from)
                          .count(),
                      tries, tries == 1 ? "y" : "ies");
        result.message += held + InterruptedCallsNote(interrupted_calls);
      }
      return result;
    }
    // Somewhere else next time: 0-2 ms, at random.
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 2000));
  }
  if (kill(target.pid, 0) != 0) return InjectResult{InjectStatus::kGone, "it exited"};
  return InjectResult{InjectStatus::kFailed,
                      "found no safe moment to load the agent in " +
                          std::to_string(kSafeMomentDeadline.count() / 1000) + " s (" +
                          std::to_string(tries) + " tries; last: " + last_reason + ")" +
                          InterruptedCallsNote(interrupted_calls)};
}

}  // namespace

InjectResult InjectAgent(const TargetProcess& target, const std::string& agent_path) {
  int channel[2];
  if (pipe2(channel, O_CLOEXEC) != 0) return {InjectStatus::kFailed, "cannot create a pipe"};
  pid_t helper = fork();
  if (helper < 0) {
    close(channel[0]);
    close(channel[1]);
    return {InjectStatus::kFailed, "cannot start the injection helper"};
  }
  if (helper == 0) {
    close(channel[0]);
    setsid();
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    InjectResult result;
    try {
      result = Inject(target, agent_path);
    } catch (const std::exception& error) {
      result = {InjectStatus::kFailed, std::string("internal error: ") + error.what()};
    }
    std::string message = std::to_string(static_cast<int>(result.status)) + " " + result.message;
    ssize_t ignored = write(channel[1], message.data(), message.size());
    (void)ignored;
    _exit(0);
  }
  close(channel[1]);
  std::string answer;
  bool ended = false;
  auto until = std::chrono::steady_clock::now() + kHelperDeadline;
  while (!ended) {
    auto left = std::chrono::duration_cast<milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd readable{channel[0], POLLIN, 0};
    if (poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[512];
    ssize_t got = read(channel[0], buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    ended = got <= 0;
    if (got > 0) answer.append(buffer, static_cast<size_t>(got));
  }
  close(channel[0]);
  int status = 0;
  if (ended) waitpid(helper, &status, 0);
  if (!ended) {
    return {InjectStatus::kFailed, "the loading has not finished in " +
                                       std::to_string(kHelperDeadline.count()) +
                                       " s; its helper (pid " + std::to_string(helper) +
                                       ") stays until it has"};
  }
  size_t space = answer.find(' ');
  if (space == std::string::npos) return {InjectStatus::kFailed, "the injection helper died"};
  return {static_cast<InjectStatus>(std::stoi(answer.substr(0, space))), answer.substr(space + 1)};
}

}  // namespace heapdrift
