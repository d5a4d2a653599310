// Memory for the agent's own data, straight from mmap: the agent never uses the
// heap it observes, so its bookkeeping can neither recurse into the hooks nor
// perturb the host's allocator. Thread-safe, async-signal-safe, never throws.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heapdrift::agent {

// Zero-filled, private, MAP_NORESERVE: untouched pages cost nothing, so tables
// can reserve their worst-case size up front and never move. nullptr on failure.
void* MapPages(size_t bytes);
void UnmapPages(void* address, size_t bytes);
// Gives the pages of [address, address + bytes) back: they read as zeros
// again, and cost nothing until written.
void ZeroPages(void* address, size_t bytes);
// Grows (possibly moving) a mapping obtained from MapPages.
void* RemapPages(void* address, size_t old_bytes, size_t new_bytes);

// Unmaps everything mapped so far but the mappings that begin at one of
// `kept[0..kept_count)`: for a forked child that rebuilds the agent's state
// from nothing, or keeps some tables (no thread may still use the others).
void UnmapAllPagesExcept(const void* const* kept, size_t kept_count);

// Bytes currently reserved through these functions: the agent's memory bound.
uint64_t MappedBytes();

// The agent's own mappings, which hold copies of every tracked block address:
// the leak scan must never take them for the program's memory. Copies up to
// `capacity` [begin, end) pairs into `regions` and returns how many.
struct PageRegion {
  uintptr_t begin, end;
};
size_t AgentRegions(PageRegion* regions, size_t capacity);

}  // namespace heapdrift::agent
