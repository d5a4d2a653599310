// The allocator the agent forwards to: the next definitions of the malloc
// family after this library in the symbol search order (glibc, or jemalloc /
// tcmalloc when the host brings one), found with dlsym(RTLD_NEXT).
//
// dlsym itself may allocate (and a failed lookup does), so until every pointer
// is resolved, allocations are served from a small static bootstrap heap that
// every entry point recognises and never hands to the real allocator.
#pragma once

#include <atomic>
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

extern RealAllocator g_real;
extern std::atomic<bool> g_real_ready;

// Resolves g_real once; safe to call from any hook, any number of times.
// Returns false while resolution is still in progress (on this or another thread).
bool ResolveRealAllocator();

HD_ALWAYS_INLINE bool RealAllocatorReady() {
  return HD_LIKELY(g_real_ready.load(std::memory_order_acquire)) || ResolveRealAllocator();
}

// True when the real allocator is glibc's, whose mallinfo2 we may then ask.
bool RealAllocatorIsGlibc();

// --- Bootstrap heap -------------------------------------------------------
void* BootstrapAllocate(size_t size, size_t alignment);
bool BootstrapOwns(const void* pointer);
size_t BootstrapSize(const void* pointer);

}  // namespace heapdrift::agent
