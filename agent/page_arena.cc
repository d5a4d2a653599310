#include "page_arena.h"

#include <sys/mman.h>

#include <atomic>

namespace heapdrift::agent {
namespace {

std::atomic<uint64_t> g_mapped_bytes{0};

// Every live mapping, in a fixed table: slots are claimed by CAS on `begin`
// and freed by storing 0, so mapping stays lock-free and async-signal-safe.
// The agent maps a few dozen regions; when the table is full a region goes
// unlisted, which can only make the leak scan call a leak reachable.
constexpr size_t kMaxRegions = 256;
struct RegionSlot {
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> size{0};
};
RegionSlot g_regions[kMaxRegions];

void Remember(void* address, size_t bytes) {
  auto begin = reinterpret_cast<uintptr_t>(address);
  for (RegionSlot& slot : g_regions) {
    uintptr_t empty = 0;
    if (slot.begin.load(std::memory_order_relaxed) == 0 &&
        slot.begin.compare_exchange_strong(empty, begin, std::memory_order_acq_rel)) {
      slot.size.store(bytes, std::memory_order_release);
      return;
    }
  }
}

void Forget(void* address) {
  auto begin = reinterpret_cast<uintptr_t>(address);
  for (RegionSlot& slot : g_regions) {
    if (slot.begin.load(std::memory_order_acquire) == begin) {
      slot.size.store(0, std::memory_order_relaxed);
      slot.begin.store(0, std::memory_order_release);
      return;
    }
  }
}

}  // namespace

void* MapPages(size_t bytes) {
  void* address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (address == MAP_FAILED) return nullptr;
  g_mapped_bytes.fetch_add(bytes, std::memory_order_relaxed);
  Remember(address, bytes);
  return address;
}

void UnmapPages(void* address, size_t bytes) {
  if (address == nullptr) return;
  Forget(address);
  munmap(address, bytes);
  g_mapped_bytes.fetch_sub(bytes, std::memory_order_relaxed);
}

void ZeroPages(void* address, size_t bytes) {
  if (address != nullptr) madvise(address, bytes, MADV_DONTNEED);
}

void* RemapPages(void* address, size_t old_bytes, size_t new_bytes) {
  void* moved = mremap(address, old_bytes, new_bytes, MREMAP_MAYMOVE);
  if (moved == MAP_FAILED) return nullptr;
  Forget(address);
  Remember(moved, new_bytes);
  g_mapped_bytes.fetch_add(new_bytes - old_bytes, std::memory_order_relaxed);
  return moved;
}

void UnmapAllPagesExcept(const void* const* kept, size_t kept_count) {
  for (RegionSlot& slot : g_regions) {
    uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    if (begin == 0) continue;
    bool keep = false;
    for (size_t i = 0; i < kept_count; ++i) keep |= reinterpret_cast<uintptr_t>(kept[i]) == begin;
    if (!keep) UnmapPages(reinterpret_cast<void*>(begin), slot.size.load(std::memory_order_acquire));
  }
}

uint64_t MappedBytes() { return g_mapped_bytes.load(std::memory_order_relaxed); }

size_t AgentRegions(PageRegion* regions, size_t capacity) {
  size_t count = 0;
  for (const RegionSlot& slot : g_regions) {
    uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    uintptr_t size = slot.size.load(std::memory_order_acquire);
    if (begin == 0 || size == 0 || count == capacity) continue;
    regions[count++] = {begin, begin + size};
  }
  return count;
}

}  // namespace heapdrift::agent
