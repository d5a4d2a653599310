// The exported allocation API. Each function is the same few lines: forward
// to the real allocator (or the bootstrap heap while that is being found) and
// tell the hooks. Nothing else lives here.
//
// C++ operator new/delete (all variants: sized, aligned, nothrow) are not
// exported: libstdc++ implements them with malloc, aligned_alloc and free
// through the PLT, so they arrive here (tests/e2e checks every variant).
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "compiler.h"
#include "hooks.h"
#include "real_alloc.h"

using namespace heapdrift::agent;

namespace {

HD_ALWAYS_INLINE bool MultiplyOverflows(size_t count, size_t size, size_t* total) {
  return __builtin_mul_overflow(count, size, total);
}

void* ReallocImpl(void* old_pointer, size_t size) {
  if (HD_UNLIKELY(BootstrapOwns(old_pointer))) {
    void* moved = malloc(size == 0 ? 1 : size);
    if (moved != nullptr) {
      size_t old_size = BootstrapSize(old_pointer);
      std::memcpy(moved, old_pointer, old_size < size ? old_size : size);
    }
    return moved;
  }
  ReallocTicket ticket = BeforeRealloc(old_pointer);
  void* pointer = g_real.realloc(old_pointer, size);
  AfterRealloc(ticket, old_pointer, pointer, size);
  return pointer;
}

}  // namespace

extern "C" {

HD_EXPORT void* malloc(size_t size) {
  void* pointer = g_real.malloc(size);
  OnAlloc(pointer, size);
  return pointer;
}

HD_EXPORT void free(void* pointer) {
  if (HD_UNLIKELY(BootstrapOwns(pointer))) return;  // never handed to the real allocator
  OnFree(pointer);
  g_real.free(pointer);
}

HD_EXPORT void* calloc(size_t count, size_t size) {
  size_t total;
  if (HD_UNLIKELY(MultiplyOverflows(count, size, &total))) {
    errno = ENOMEM;
    return nullptr;
  }
  void* pointer = g_real.calloc(count, size);
  OnAlloc(pointer, total);
  return pointer;
}

HD_EXPORT void* realloc(void* old_pointer, size_t size) { return ReallocImpl(old_pointer, size); }

// Not forwarded to the real reallocarray: glibc's calls realloc through the
// PLT, which would count the same allocation twice.
HD_EXPORT void* reallocarray(void* old_pointer, size_t count, size_t size) {
  size_t total;
  if (HD_UNLIKELY(MultiplyOverflows(count, size, &total))) {
    errno = ENOMEM;
    return nullptr;
  }
  return ReallocImpl(old_pointer, total);
}

HD_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) {
  int result = g_real.posix_memalign(out, alignment, size);
  if (result == 0) OnAlloc(*out, size);
  return result;
}

HD_EXPORT void* aligned_alloc(size_t alignment, size_t size) {
  void* pointer = g_real.aligned_alloc(alignment, size);
  OnAlloc(pointer, size);
  return pointer;
}

HD_EXPORT void* memalign(size_t alignment, size_t size) {
  void* pointer = g_real.memalign(alignment, size);
  OnAlloc(pointer, size);
  return pointer;
}

HD_EXPORT void* valloc(size_t size) {
  void* pointer = g_real.valloc(size);
  OnAlloc(pointer, size);
  return pointer;
}

HD_EXPORT void* pvalloc(size_t size) {
  void* pointer = g_real.pvalloc(size);
  OnAlloc(pointer, size);
  return pointer;
}

HD_EXPORT size_t malloc_usable_size(void* pointer) {
  if (pointer == nullptr) return 0;
  if (HD_UNLIKELY(BootstrapOwns(pointer))) return BootstrapSize(pointer);
  return g_real.malloc_usable_size(pointer);
}

}  // extern "C"
