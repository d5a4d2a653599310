#include "page_arena.h"

#include <sys/mman.h>

#include <atomic>

namespace heapdrift::agent {
namespace {
std::atomic<uint64_t> g_mapped_bytes{0};
}

void* MapPages(size_t bytes) {
  void* address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (address == MAP_FAILED) return nullptr;
  g_mapped_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return address;
}

void UnmapPages(void* address, size_t bytes) {
  if (address == nullptr) return;
  munmap(address, bytes);
  g_mapped_bytes.fetch_sub(bytes, std::memory_order_relaxed);
}

void* RemapPages(void* address, size_t old_bytes, size_t new_bytes) {
  void* moved = mremap(address, old_bytes, new_bytes, MREMAP_MAYMOVE);
  if (moved == MAP_FAILED) return nullptr;
  g_mapped_bytes.fetch_add(new_bytes - old_bytes, std::memory_order_relaxed);
  return moved;
}

uint64_t MappedBytes() { return g_mapped_bytes.load(std::memory_order_relaxed); }

}  // namespace heapdrift::agent
