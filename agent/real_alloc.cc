#include "real_alloc.h"

#include <dlfcn.h>

#include <cstring>

namespace heapdrift::agent {

RealAllocator g_real;
std::atomic<bool> g_real_ready{false};

namespace {

std::atomic<int> g_resolve_state{0};  // 0 not started, 1 resolving, 2 done

// 64 KiB covers what dlsym and the loader allocate before resolution ends
// (measured: a few hundred bytes); a bump pointer, never reused.
alignas(64) char g_bootstrap_heap[64 * 1024];
std::atomic<size_t> g_bootstrap_used{0};

struct BootstrapHeader {
  size_t size;
  size_t padding;
};

template <typename Function>
void Resolve(Function& slot, const char* name) {
  slot = reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

// Emulations for allocators that lack a legacy entry point.
size_t PageSize() { return 4096; }
void* MemalignVia(size_t alignment, size_t size) {
  void* pointer = nullptr;
  return g_real.posix_memalign(&pointer, alignment, size) == 0 ? pointer : nullptr;
}
void* EmulatedMemalign(size_t alignment, size_t size) { return MemalignVia(alignment, size); }
void* EmulatedValloc(size_t size) { return MemalignVia(PageSize(), size); }
void* EmulatedPvalloc(size_t size) {
  return MemalignVia(PageSize(), (size + PageSize() - 1) & ~(PageSize() - 1));
}
void* EmulatedAlignedAlloc(size_t alignment, size_t size) { return MemalignVia(alignment, size); }

template <typename Function>
bool FromSameObject(Function function) {
  if (function == nullptr) return false;
  Dl_info of_malloc{}, of_function{};
  if (dladdr(reinterpret_cast<void*>(g_real.malloc), &of_malloc) == 0 ||
      dladdr(reinterpret_cast<void*>(function), &of_function) == 0) {
    return true;  // cannot tell: trust the lookup
  }
  return of_malloc.dli_fbase == of_function.dli_fbase;
}

}  // namespace

bool ResolveRealAllocator() {
  int expected = 0;
  if (!g_resolve_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    return expected == 2;
  }
  // Mandatory symbols first, each a lookup that succeeds (failing lookups
  // allocate an error string, and its later release would need `free`).
  Resolve(g_real.malloc, "malloc");
  Resolve(g_real.free, "free");
  Resolve(g_real.calloc, "calloc");
  Resolve(g_real.realloc, "realloc");
  Resolve(g_real.posix_memalign, "posix_memalign");
  Resolve(g_real.malloc_usable_size, "malloc_usable_size");
  Resolve(g_real.aligned_alloc, "aligned_alloc");
  Resolve(g_real.memalign, "memalign");
  Resolve(g_real.valloc, "valloc");
  Resolve(g_real.pvalloc, "pvalloc");
  // An allocator that lacks a legacy entry point lets RTLD_NEXT fall through to
  // glibc's, whose blocks the other allocator cannot free: emulate those instead.
  if (!FromSameObject(g_real.aligned_alloc)) g_real.aligned_alloc = EmulatedAlignedAlloc;
  if (!FromSameObject(g_real.memalign)) g_real.memalign = EmulatedMemalign;
  if (!FromSameObject(g_real.valloc)) g_real.valloc = EmulatedValloc;
  if (!FromSameObject(g_real.pvalloc)) g_real.pvalloc = EmulatedPvalloc;
  if (g_real.malloc == nullptr || g_real.free == nullptr || g_real.calloc == nullptr ||
      g_real.realloc == nullptr || g_real.posix_memalign == nullptr) {
    // No allocator after us: nothing sensible to forward to. Stay on the
    // bootstrap heap (it will run out and return nullptr) rather than crash.
    return false;
  }
  g_resolve_state.store(2, std::memory_order_release);
  g_real_ready.store(true, std::memory_order_release);
  return true;
}

bool RealAllocatorIsGlibc() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(g_real.malloc), &info) == 0 || info.dli_fname == nullptr) {
    return false;
  }
  return std::strstr(info.dli_fname, "/libc.so") != nullptr;
}

void* BootstrapAllocate(size_t size, size_t alignment) {
  if (alignment < alignof(BootstrapHeader)) alignment = alignof(BootstrapHeader);
  if (size > sizeof(g_bootstrap_heap) || alignment > 4096) return nullptr;
  size_t used = g_bootstrap_used.load(std::memory_order_relaxed);
  for (;;) {
    uintptr_t base = reinterpret_cast<uintptr_t>(g_bootstrap_heap);
    uintptr_t user = (base + used + sizeof(BootstrapHeader) + alignment - 1) & ~(alignment - 1);
    size_t end = user + size - base;
    if (end > sizeof(g_bootstrap_heap)) return nullptr;
    if (g_bootstrap_used.compare_exchange_weak(used, end, std::memory_order_relaxed)) {
      reinterpret_cast<BootstrapHeader*>(user)[-1].size = size;
      return reinterpret_cast<void*>(user);  // static storage: already zero
    }
  }
}

bool BootstrapOwns(const void* pointer) {
  auto address = reinterpret_cast<uintptr_t>(pointer);
  auto base = reinterpret_cast<uintptr_t>(g_bootstrap_heap);
  return address >= base && address < base + sizeof(g_bootstrap_heap);
}

size_t BootstrapSize(const void* pointer) {
  return static_cast<const BootstrapHeader*>(pointer)[-1].size;
}

}  // namespace heapdrift::agent
