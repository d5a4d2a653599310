// Start-up, exit, fork and exec policy of the agent.
//
// Start: the library constructor resolves the real allocator, reads the
// settings, reserves every table, loads the unwinder, opens the output and
// starts the collector; only then does sampling begin. Anything that fails is
// said once on stderr and the agent stays off: the host never notices.
//
// Exit: an atexit handler registered from the constructor (so it runs after
// the program's own exit handlers and static destructors) writes the final
// snapshot. Agent state is never torn down: hooks keep running until the end.
//
// Exec (HEAPDRIFT_FOLLOW=exec, the default): the agent stays in LD_PRELOAD,
// so whatever the program executes records too: the program behind a
// wrapper (env, nice, timeout, sh -c, a start script) is what the user is
// after. The first process marks the environment with its pid; each image
// learns from the mark where it stands (PlaceInTree), which names its file
// (Sink::Open). HEAPDRIFT_FOLLOW=none removes the agent from LD_PRELOAD.
//
// Dormant (HEAPDRIFT_DORMANT=1): interposes and records nothing until
// `heapdrift attach` wakes it over its control socket; each wake is a new
// recording, streamed to the waker, and the agent sleeps again after it.
//
// Fork: by default the child is silent (no collector, no sampling, never
// writes the parent's recording). With HEAPDRIFT_FOLLOW=all it starts a
// recording of its own, from the moment of the fork (see StartInForkedChild),
// or, under a dormant agent, sleeps with a control socket of its own.
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "agent.h"
#include "collector.h"
#include "control_channel.h"
#include "environment.h"
#include "frame_unwinder.h"
#include "hooks.h"
#include "live_table.h"
#include "page_arena.h"
#include "process_identity.h"
#include "raw_log.h"
#include "real_alloc.h"
#include "sampler.h"
#include "stack_capture.h"
#include "thread_state.h"

// The C library's exit-handler registration (what atexit() calls).
extern "C" int __cxa_atexit(void (*handler)(void*), void* argument, void* module);

namespace heapdrift::agent {

namespace {

constexpr char kLibraryName[] = "libheapdrift.so";

bool IsThisLibrary(const char* entry, size_t length) {
  size_t name_length = sizeof(kLibraryName) - 1;
  return length >= name_length &&
         std::memcmp(entry + length - name_length, kLibraryName, name_length) == 0 &&
         (length == name_length || entry[length - name_length - 1] == '/');
}

// Calls `visit(entry, length)` for each entry of an LD_PRELOAD list (split
// at ':' and ' ', as the loader splits it) until `visit` returns false.
template <typename Visit>
void ForEachPreloadEntry(const char* preload, Visit visit) {
  for (const char* entry = preload; *entry != '\0';) {
    size_t length = std::strcspn(entry, ": ");
    if (length > 0 && !visit(entry, length)) return;
    entry += length;
    if (*entry != '\0') ++entry;
  }
}

// Removes this library from LD_PRELOAD so that programs the host executes run
// without it.
void StopPreloadingIntoChildren() {
  const char* preload = GetEnv("LD_PRELOAD");
  if (preload == nullptr) return;
  char kept[8192];
  size_t used = 0;
  ForEachPreloadEntry(preload, [&](const char* entry, size_t length) {
    if (!IsThisLibrary(entry, length) && used + length + 1 < sizeof(kept)) {
      if (used > 0) kept[used++] = ':';
      std::memcpy(kept + used, entry, length);
      used += length;
    }
    return true;
  });
  kept[used] = '\0';
  if (used == 0) {
    UnsetEnv("LD_PRELOAD");
  } else {
    SetEnv("LD_PRELOAD", kept);
  }
}

// Where this image stands in the tree, from the mark the first process
// leaves in the environment it passes on (when it passes the agent on).
void PlaceInTree(Options& options) {
  options.process = CurrentProcessIdentity();
  const char* mark = GetEnv(kRootPidVariable);
  char* end = nullptr;
  unsigned long root = mark != nullptr ? strtoul(mark, &end, 10) : 0;
  if (root == 0 || end == mark || *end != '\0' || root > UINT32_MAX) {
    options.role = ImageRole::kFirst;
    options.root_pid = options.process.pid;
    if (options.follow != FollowMode::kNone) {
      char pid_text[16];
      snprintf(pid_text, sizeof(pid_text), "%u", options.process.pid);
      SetEnv(kRootPidVariable, pid_text);
    }
    return;
  }
  options.root_pid = static_cast<uint32_t>(root);
  options.role = options.root_pid == options.process.pid ? ImageRole::kFirstProcessExecd
                                                         : ImageRole::kOther;
}

void AtExit(void*) {
  if (getpid() != g_agent.pid) return;  // a forked child
  InAgentScope scope;
  if (g_agent.options.dormant) StopControlChannel();
  if (g_agent.active()) g_collector.Finish();
}

// Which tables a start reserves: all, or (a forked child that kept its
// blocks) all but the live blocks and stacks.
enum class Tables { kAll, kAllButBlocks };

// Reserves the tables; false (said why) if not.
bool ReserveTables(const Options& options, Tables tables = Tables::kAll) {
  if ((tables == Tables::kAll &&
       (!g_agent.stacks.Init(static_cast<uint32_t>(options.max_stacks)) ||
        !g_live_table.Init(static_cast<uint32_t>(options.max_live)))) ||
      !g_agent.rings.Init(static_cast<uint32_t>(options.max_threads),
                          static_cast<uint32_t>(options.ring_events))) {
    LogLine("cannot reserve memory for its tables; profiling disabled");
    return false;
  }
  return true;
}

// Reserves the tables, then starts the collector; false (said why) if not.
bool StartRecording(const Options& options, Tables tables = Tables::kAll) {
  if (!ReserveTables(options, tables)) return false;
  g_sampler.Configure(options.sample_bytes, options.max_samples_per_sec);
  return g_collector.Start(options);
}

// A dormant agent reserves what a recording needs now (a wake must not fail
// for memory) and waits for `heapdrift attach` on its control thread, which
// also collects each recording: no collector thread while it sleeps. The
// state turns dormant before the control socket opens, and the caller never
// stores it after: a wake may come the moment the socket is up, and must
// find the agent dormant, and what the wake makes of the state (recording)
// must stand. On failure the state is off.
void StartDormant(const Options& options) {
  if (ReserveTables(options) && g_collector.Prepare(options)) {
    g_agent.state.store(AgentState::kDormant, std::memory_order_release);
    if (StartControlChannel(options)) return;
  }
  g_agent.state.store(AgentState::kOff, std::memory_order_release);
}

// The child of a fork starts a recording of its own, as if it had just
// started: the collector and the tables are built anew. What was inherited
// cannot be trusted as it is: the parent's threads (its collector among
// them) may have been halfway through changing a table when the fork copied
// it, and they do not exist here to finish. The inherited tables are
// unmapped, so the child does not keep the parent's copies alive; blocks
// allocated before the fork are then not in the child's recording (their
// frees are not seen), and there is no leak scan at exit: it would take
// those untracked blocks for unknown memory.
//
// In exact mode with the leak scan, every inherited block is the child's
// too, so the child keeps the live blocks and stacks tables (after
// AdoptAfterFork's repairs) and is scanned at its exit like any process:
// its recording still counts from the fork (a session after the parent's).
//
// Runs on the only thread of the child, inside fork(), with signals blocked
// so that no handler's free() reads a table being rebuilt.
void StartInForkedChild() {
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  {
    InAgentScope scope;
    Options& options = g_agent.options;
    const bool keeps_blocks = options.leak_scan && options.sample_bytes == 1 && !options.dormant;
    const void* kept[LiveTable::kMappings + StackTable::kMappings] = {};
    size_t kept_count = 0;
    if (keeps_blocks) {
      g_live_table.Mappings(kept);
      g_agent.stacks.Mappings(kept + LiveTable::kMappings);
      kept_count = std::size(kept);
      g_live_table.AdoptAfterFork();
      g_agent.stacks.AdoptAfterFork();
      g_agent.session.fetch_add(1, std::memory_order_acq_rel);
    } else {
      std::construct_at(&g_agent.stacks);
      std::construct_at(&g_live_table);
      // The parent's early heap is what the scan reads as roots; without
      // the inherited blocks there is no scan.
      g_agent.heap_end_at_start = reinterpret_cast<uintptr_t>(sbrk(0));
    }
    UnmapAllPagesExcept(kept, kept_count);
    std::construct_at(&g_agent.rings);
    std::construct_at(&g_agent.modules);
    std::construct_at(&g_agent.counters);
    g_agent.epoch.store(0, std::memory_order_relaxed);  // its recording starts at snapshot 0
    std::construct_at(&g_collector);
    ForgetThreadRing();
    // Reseeded and redrawn: sibling workers must not sample alike.
    tls_state.rng_state = 0;
    tls_state.bytes_until_sample = 0;
    g_agent.pid = getpid();
    options.leak_scan = keeps_blocks;
    options.forked = true;
    options.role = ImageRole::kOther;
    options.process = CurrentProcessIdentity();
    // A dormant agent's child is dormant too, with a control socket of its
    // own: a prefork server's workers are what an attach is after.
    if (options.dormant) {
      StartDormant(options);
    } else if (StartRecording(options, keeps_blocks ? Tables::kAllButBlocks : Tables::kAll)) {
      g_agent.state.store(AgentState::kActive, std::memory_order_release);
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void AtForkChild() {
  // Whatever happens next, the parent's recording is the parent's.
  AgentState state = g_agent.state.load(std::memory_order_acquire);
  bool was_running = state == AgentState::kActive || state == AgentState::kDormant;
  g_agent.state.store(AgentState::kOff, std::memory_order_release);
  g_collector.LeaveParentsRecording();
  if (g_agent.options.dormant) ForgetControlChannelInChild();
  // A fork from a signal handler that interrupted the agent would leave this
  // thread halfway through a table the child is about to rebuild: stay off.
  if (g_agent.options.follow == FollowMode::kAll && was_running && tls_state.in_agent == 0) {
    StartInForkedChild();
  }
}

bool InPreload() {
  const char* preload = GetEnv("LD_PRELOAD");
  bool found = false;
  if (preload != nullptr) {
    ForEachPreloadEntry(preload, [&found](const char* entry, size_t length) {
      found = IsThisLibrary(entry, length);
      return !found;
    });
  }
  return found;
}

enum class MallocOwner { kThisLibrary, kProgram, kAnotherLibrary, kUnknown };

// Whose malloc the program's modules call: the program's definition
// (ProgramDefinition says why it is looked up that way), compared by object,
// not by address (a GOT entry for &malloc resolves to the program's).
MallocOwner WhoseMalloc() {
  Dl_info first_malloc{}, this_library{};
  void* address = ProgramDefinition("malloc");
  if (address == nullptr || dladdr(address, &first_malloc) == 0 ||
      dladdr(reinterpret_cast<void*>(&WhoseMalloc), &this_library) == 0) {
    return MallocOwner::kUnknown;
  }
  if (first_malloc.dli_fbase == this_library.dli_fbase) return MallocOwner::kThisLibrary;
  // The program's own object is the one whose link map comes first.
  link_map* first = nullptr;
  void* program = dlopen(nullptr, RTLD_NOW | RTLD_NOLOAD);
  if (program != nullptr) {
    dlinfo(program, RTLD_DI_LINKMAP, &first);
    dlclose(program);
  }
  if (first != nullptr && reinterpret_cast<void*>(first->l_addr) == first_malloc.dli_fbase) {
    return MallocOwner::kProgram;
  }
  return MallocOwner::kAnotherLibrary;
}

// Loaded into a running process (heapdrift attach, attach-dossier.md): this
// runs on a borrowed host thread inside dlopen, with the loader's lock held,
// so it only reserves memory and starts the control thread. The environment
// is the host's and stays untouched (no marks, no LD_PRELOAD edits: setenv
// would race the host's own getenv). Every wake redirects the program's GOT
// slots to the agent for the length of its recording.
bool StartLoadedLate(Options& options) {
  options.dormant = true;
  options.redirects_calls = true;
  options.follow = FollowMode::kExec;  // a child of a fork stays silent
  options.role = ImageRole::kFirst;
  options.process = CurrentProcessIdentity();
  options.root_pid = options.process.pid;
  if (!ResolveRealAllocatorFromProgram()) {
    LogLine("no allocator found in the program; attach refused");
    return false;
  }
  return true;
}

void Start() {
  InAgentScope scope;  // everything below may allocate: never sample it
  bool allocator_found = ResolveRealAllocator();
  ResolveEnvironment();
  g_agent.pid = getpid();
  g_agent.heap_end_at_start = reinterpret_cast<uintptr_t>(sbrk(0));
  Options& options = g_agent.options;
  char error[256];
  if (!ParseOptions(&options, error, sizeof(error))) {
    LogLine("%s; profiling disabled", error);
    g_agent.state.store(AgentState::kOff);
    return;
  }
  MallocOwner owner = WhoseMalloc();
  if (owner != MallocOwner::kThisLibrary && !InPreload()) {
    if (!StartLoadedLate(options)) {
      g_agent.state.store(AgentState::kOff);
      return;
    }
  } else {
    if (options.follow == FollowMode::kNone) StopPreloadingIntoChildren();
    PlaceInTree(options);
    if (!allocator_found) {
      LogLine("no allocator found after heapdrift in the symbol search order; profiling disabled");
      g_agent.state.store(AgentState::kOff);
      return;
    }
    // An executable (or a library preloaded before this one) that defines
    // malloc comes first in the search order: its allocations never reach
    // us, and a recording would be silently empty.
    if (owner == MallocOwner::kProgram || owner == MallocOwner::kAnotherLibrary) {
      LogLine(owner == MallocOwner::kProgram
                  ? "the program defines its own malloc, which preloading cannot intercept; "
                    "profiling disabled"
                  : "a library preloaded before heapdrift defines malloc; put heapdrift first "
                    "in LD_PRELOAD; profiling disabled");
      g_agent.state.store(AgentState::kOff);
      return;
    }
  }
  if (!InitThreadExitKey()) {
    LogLine("cannot create a thread-specific key; profiling disabled");
    g_agent.state.store(AgentState::kOff);
    return;
  }
  InitFrameUnwinder();
  uintptr_t begin = 0, end = 0;
  if (AgentTextRangeOf(reinterpret_cast<const void*>(&Start), &begin, &end)) {
    SetAgentTextRange(begin, end);
  }
  // In place before the start: a dormant agent can be woken, and then fork
  // or exit, as soon as its control socket is up. Both handlers are
  // harmless for an agent that then fails to start.
  pthread_atfork(nullptr, nullptr, AtForkChild);
  // Without a module handle: atexit() in a library passes the library's,
  // and its handlers then run from the library's destructor (__cxa_finalize
  // in _dl_fini, called from crtstuff code with no unwind rules), where the
  // leak scan could not walk up to exit()'s caller. This way exit() runs it
  // itself, after every destructor (the agent has none of its own, and is
  // never unloaded: -z nodelete).
  __cxa_atexit(AtExit, nullptr, nullptr);
  if (options.dormant) {
    StartDormant(options);
  } else if (StartRecording(options)) {
    g_agent.state.store(AgentState::kActive, std::memory_order_release);
  } else {
    g_agent.state.store(AgentState::kOff);
  }
}

}  // namespace

__attribute__((constructor(101))) void HeapdriftConstructor() { Start(); }

}  // namespace heapdrift::agent
