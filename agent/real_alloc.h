// The allocator the agent forwards to: the next definitions of the malloc
// family after this library in the symbol search order (glibc, or jemalloc /
// tcmalloc when the host brings one), found with dlsym(RTLD_NEXT).
//
// Until they are found, g_real holds bootstrap functions that resolve them
// on first use (so the hot paths need no "ready?" test) and, while dlsym is
// itself running (it may allocate, and a failed lookup does), serve memory
// from a small static bootstrap heap that every entry point recognises and
// never hands to the real allocator.
#pragma once

#include <cstddef>
#include <cstdint>

#include "compiler.h"

namespace heapdrift::agent {

struct RealAllocator {
  void* (*malloc)(size_t);
  void (*free)(void*);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  int (*posix_memalign)(void**, size_t, size_t);
  void* (*aligned_alloc)(size_t, size_t);
  void* (*memalign)(size_t, size_t);
  void* (*valloc)(size_t);
  void* (*pvalloc)(size_t);
  size_t (*malloc_usable_size)(void*);
};

// Written once, by ResolveRealAllocator, before the agent starts sampling.
extern RealAllocator g_real;

// Resolves g_real once. True when the real functions are in place; false
// while resolution is in progress (dlsym's own allocations) or impossible.
bool ResolveRealAllocator();

// For an agent loaded into a running process (got_redirect.h): g_real
// becomes the definitions the program's modules are bound to (the first in
// the global search order: glibc's, or an allocator preloaded before the
// process started), not the next after this library, which is loaded
// locally and is nobody's. False if the program has none.
bool ResolveRealAllocatorFromProgram();
// The program's definition of `name` (a defined symbol: a non-PIE program's
// PLT stub for a function whose address it takes does not count), or null.
void* ProgramDefinition(const char* name);

// True when the real allocator is glibc's, whose mallinfo2 we may then ask.
bool RealAllocatorIsGlibc();

// --- Bootstrap heap -------------------------------------------------------
inline constexpr size_t kBootstrapHeapBytes = 64 * 1024;
extern HD_HIDDEN char g_bootstrap_heap[kBootstrapHeapBytes];

void* BootstrapAllocate(size_t size, size_t alignment);
size_t BootstrapSize(const void* pointer);
HD_ALWAYS_INLINE bool BootstrapOwns(const void* pointer) {
  return reinterpret_cast<uintptr_t>(pointer) - reinterpret_cast<uintptr_t>(g_bootstrap_heap) <
         kBootstrapHeapBytes;
}

}  // namespace heapdrift::agent
