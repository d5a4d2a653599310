#include "real_alloc.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <atomic>
#include <cstring>

namespace heapdrift::agent {

// 64 KiB covers what dlsym and the loader allocate before resolution ends
// (measured: a few hundred bytes); a bump pointer, never reused.
alignas(64) char g_bootstrap_heap[kBootstrapHeapBytes];

namespace {

std::atomic<int> g_resolve_state{0};  // 0 not started, 1 resolving, 2 done, 3 failed
std::atomic<size_t> g_bootstrap_used{0};

constexpr size_t kDefaultAlignment = alignof(max_align_t);

// The bootstrap functions g_real starts with: each resolves the real
// allocator and forwards to it, or serves the bootstrap heap meanwhile.
void* BootMalloc(size_t size) {
  return ResolveRealAllocator() ? g_real.malloc(size) : BootstrapAllocate(size, kDefaultAlignment);
}
void BootFree(void* pointer) {
  if (ResolveRealAllocator()) g_real.free(pointer);  // else: nothing sane to do; keep it
}
void* BootCalloc(size_t count, size_t size) {
  if (ResolveRealAllocator()) return g_real.calloc(count, size);
  size_t total;
  return __builtin_mul_overflow(count, size, &total) ? nullptr
                                                     : BootstrapAllocate(total, kDefaultAlignment);
}
void* BootRealloc(void* pointer, size_t size) {
  if (ResolveRealAllocator()) return g_real.realloc(pointer, size);
  return pointer == nullptr ? BootstrapAllocate(size, kDefaultAlignment) : nullptr;
}
int BootPosixMemalign(void** out, size_t alignment, size_t size) {
  if (ResolveRealAllocator()) return g_real.posix_memalign(out, alignment, size);
  *out = BootstrapAllocate(size, alignment);
  return *out != nullptr ? 0 : 12;  // ENOMEM
}
void* BootAlignedAlloc(size_t alignment, size_t size) {
  return ResolveRealAllocator() ? g_real.aligned_alloc(alignment, size)
                                : BootstrapAllocate(size, alignment);
}
void* BootMemalign(size_t alignment, size_t size) {
  return ResolveRealAllocator() ? g_real.memalign(alignment, size)
                                : BootstrapAllocate(size, alignment);
}
void* BootValloc(size_t size) {
  return ResolveRealAllocator() ? g_real.valloc(size) : BootstrapAllocate(size, 4096);
}
void* BootPvalloc(size_t size) {
  return ResolveRealAllocator() ? g_real.pvalloc(size) : BootstrapAllocate(size, 4096);
}
size_t BootUsableSize(void* pointer) {
  return ResolveRealAllocator() ? g_real.malloc_usable_size(pointer) : 0;
}

struct BootstrapHeader {
  size_t size;
  size_t padding;
};

// Where lookups go: the next definitions after this library (preloaded),
// or the program's (loaded into a running process).
void* g_lookup_handle = RTLD_NEXT;

template <typename Function>
void Resolve(Function& slot, const char* name) {
  void* found = g_lookup_handle == RTLD_NEXT ? nullptr : ProgramDefinition(name);
  slot = reinterpret_cast<Function>(found != nullptr ? found : dlsym(RTLD_NEXT, name));
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
bool FromSameObject(void* (*malloc_function)(size_t), Function function) {
  if (function == nullptr) return false;
  Dl_info of_malloc{}, of_function{};
  if (dladdr(reinterpret_cast<void*>(malloc_function), &of_malloc) == 0 ||
      dladdr(reinterpret_cast<void*>(function), &of_function) == 0) {
    return true;  // cannot tell: trust the lookup
  }
  return of_malloc.dli_fbase == of_function.dli_fbase;
}

}  // namespace

constinit RealAllocator g_real = {BootMalloc,       BootFree,     BootCalloc, BootRealloc,
                                  BootPosixMemalign, BootAlignedAlloc, BootMemalign,
                                  BootValloc,       BootPvalloc,  BootUsableSize};

bool ResolveRealAllocator() {
  int expected = 0;
  if (!g_resolve_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    return expected == 2;
  }
  RealAllocator found{};
  // Mandatory symbols first, each a lookup that succeeds (failing lookups
  // allocate an error string, and its later release would need `free`).
  Resolve(found.malloc, "malloc");
  Resolve(found.free, "free");
  Resolve(found.calloc, "calloc");
  Resolve(found.realloc, "realloc");
  Resolve(found.posix_memalign, "posix_memalign");
  Resolve(found.malloc_usable_size, "malloc_usable_size");
  Resolve(found.aligned_alloc, "aligned_alloc");
  Resolve(found.memalign, "memalign");
  Resolve(found.valloc, "valloc");
  Resolve(found.pvalloc, "pvalloc");
  // An allocator that lacks a legacy entry point lets RTLD_NEXT fall through to
  // glibc's, whose blocks the other allocator cannot free: emulate those instead.
  if (found.malloc == nullptr || found.free == nullptr || found.calloc == nullptr ||
      found.realloc == nullptr || found.posix_memalign == nullptr ||
      found.malloc_usable_size == nullptr) {
    // No allocator after us: nothing sensible to forward to. Stay on the
    // bootstrap heap (it will run out and return nullptr) rather than crash.
    g_resolve_state.store(3, std::memory_order_release);
    return false;
  }
  if (!FromSameObject(found.malloc, found.aligned_alloc)) found.aligned_alloc = EmulatedAlignedAlloc;
  if (!FromSameObject(found.malloc, found.memalign)) found.memalign = EmulatedMemalign;
  if (!FromSameObject(found.malloc, found.valloc)) found.valloc = EmulatedValloc;
  if (!FromSameObject(found.malloc, found.pvalloc)) found.pvalloc = EmulatedPvalloc;
  // posix_memalign first: the emulations call it through g_real.
  g_real = found;
  g_resolve_state.store(2, std::memory_order_release);
  return true;
}

void* ProgramDefinition(const char* name) {
  void* program = dlopen(nullptr, RTLD_NOW | RTLD_NOLOAD);
  if (program == nullptr) return nullptr;
  void* address = dlsym(program, name);
  dlclose(program);
  Dl_info info{};
  ElfW(Sym)* symbol = nullptr;
  if (address == nullptr ||
      dladdr1(address, &info, reinterpret_cast<void**>(&symbol), RTLD_DL_SYMENT) == 0 ||
      symbol == nullptr || symbol->st_shndx == SHN_UNDEF) {
    return nullptr;
  }
  return address;
}

bool ResolveRealAllocatorFromProgram() {
  g_lookup_handle = nullptr;
  g_resolve_state.store(0, std::memory_order_release);
  return ResolveRealAllocator();
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

size_t BootstrapSize(const void* pointer) {
  return static_cast<const BootstrapHeader*>(pointer)[-1].size;
}

}  // namespace heapdrift::agent
