#include "stack_capture.h"

#include <dlfcn.h>
#include <link.h>
#include <unwind.h>

#include "stack_table.h"

namespace heapdrift::agent {
namespace {

using UnwBacktrace = int (*)(void** buffer, int size);
using UnwSetCachingPolicy = int (*)(void* address_space, int policy);
// libunwind-common.h's unw_caching_policy_t (the header is not included: its
// unwind.h would shadow libgcc's, which the fallback uses).
constexpr int kUnwCacheNone = 0;

UnwBacktrace g_unw_backtrace = nullptr;
uintptr_t g_skip_begin[2] = {0, 0};
uintptr_t g_skip_end[2] = {0, 0};

bool InSkippedCode(uintptr_t pc) {
  for (int i = 0; i < 2; ++i) {
    if (pc >= g_skip_begin[i] && pc < g_skip_end[i]) return true;
  }
  return false;
}

// Executable range of the loaded object containing `address`.
bool TextRangeOf(const void* address, uintptr_t* begin, uintptr_t* end) {
  struct Query {
    uintptr_t address, begin, end;
  } query{reinterpret_cast<uintptr_t>(address), UINTPTR_MAX, 0};
  dl_iterate_phdr(
      [](dl_phdr_info* object, size_t, void* data) {
        auto* q = static_cast<Query*>(data);
        bool contains = false;
        uintptr_t text_begin = UINTPTR_MAX, text_end = 0;
        for (int i = 0; i < object->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = object->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          uintptr_t start = object->dlpi_addr + ph.p_vaddr;
          if (q->address >= start && q->address < start + ph.p_memsz) contains = true;
          if ((ph.p_flags & PF_X) == 0) continue;
          if (start < text_begin) text_begin = start;
          if (start + ph.p_memsz > text_end) text_end = start + ph.p_memsz;
        }
        if (!contains) return 0;
        q->begin = text_begin;
        q->end = text_end;
        return 1;
      },
      &query);
  if (query.end == 0) return false;
  *begin = query.begin;
  *end = query.end;
  return true;
}

struct FallbackWalk {
  uintptr_t* frames;
  uint32_t max_depth;
  uint32_t depth;
};

_Unwind_Reason_Code FallbackStep(_Unwind_Context* context, void* data) {
  auto* walk = static_cast<FallbackWalk*>(data);
  if (walk->depth >= walk->max_depth) return _URC_END_OF_STACK;
  uintptr_t pc = _Unwind_GetIP(context);
  if (pc == 0) return _URC_END_OF_STACK;
  walk->frames[walk->depth++] = pc;
  return _URC_NO_REASON;
}

}  // namespace

bool AgentTextRangeOf(const void* address, uintptr_t* begin, uintptr_t* end) {
  return TextRangeOf(address, begin, end);
}

bool LoadUnwinder() {
  void* library = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) return false;
  auto function = reinterpret_cast<UnwBacktrace>(dlsym(library, "unw_backtrace"));
  // libunwind's default, one register-state cache for the process, holds its
  // lock while it calls dl_iterate_phdr on a miss. A host thread inside a
  // dl_iterate_phdr callback (holding the loader's lock) whose malloc is
  // sampled then waits for that cache lock, held by a thread that waits for
  // the loader's lock: the host deadlocks. Debian's build has no per-thread
  // caches (it silently maps them to the global one), so the cache is turned
  // off; unw_backtrace's own per-thread trace cache, which serves repeated
  // stacks (~0.2 us at 19 frames either way), takes no lock and stays.
  // (These are the exported names of unw_set_caching_policy and
  // unw_local_addr_space for local unwinding on x86_64.)
  auto set_caching_policy =
      reinterpret_cast<UnwSetCachingPolicy>(dlsym(library, "_ULx86_64_set_caching_policy"));
  auto* local_address_space = static_cast<void**>(dlsym(library, "_ULx86_64_local_addr_space"));
  if (function == nullptr || set_caching_policy == nullptr || local_address_space == nullptr ||
      set_caching_policy(*local_address_space, kUnwCacheNone) != 0) {
    return false;
  }
  uintptr_t begin = 0, end = 0;
  if (TextRangeOf(reinterpret_cast<const void*>(function), &begin, &end)) {
    g_skip_begin[1] = begin;
    g_skip_end[1] = end;
  }
  // The first unwind initialises libunwind under its own global lock: do it
  // here, in the constructor, rather than in some host thread later.
  void* warm_up[4];
  function(warm_up, 4);
  g_unw_backtrace = function;
  return true;
}

void SetAgentTextRange(uintptr_t begin, uintptr_t end) {
  g_skip_begin[0] = begin;
  g_skip_end[0] = end;
}

uint32_t CaptureStack(uintptr_t* frames, uint32_t max_depth) {
  // Room for the agent's and the unwinder's own frames on top.
  constexpr uint32_t kOwnFrames = 16;
  uintptr_t raw[StackTable::kMaxDepth + kOwnFrames];
  uint32_t wanted = max_depth + kOwnFrames;
  if (wanted > sizeof(raw) / sizeof(raw[0])) wanted = sizeof(raw) / sizeof(raw[0]);
  uint32_t depth = 0;
  if (g_unw_backtrace != nullptr) {
    int captured = g_unw_backtrace(reinterpret_cast<void**>(raw), static_cast<int>(wanted));
    depth = captured > 0 ? static_cast<uint32_t>(captured) : 0;
  } else {
    FallbackWalk walk{raw, wanted, 0};
    _Unwind_Backtrace(FallbackStep, &walk);
    depth = walk.depth;
  }
  uint32_t first = 0;
  while (first < depth && InSkippedCode(raw[first])) ++first;
  while (depth > first && raw[depth - 1] == 0) --depth;  // unwinders may end on a zero
  uint32_t kept = 0;
  for (uint32_t i = first; i < depth && kept < max_depth; ++i) frames[kept++] = raw[i];
  return kept;
}

}  // namespace heapdrift::agent
