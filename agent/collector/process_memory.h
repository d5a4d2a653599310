// The process's memory as the kernel (/proc/self/statm) and, when the real
// allocator is glibc's, the allocator (mallinfo2) see it. Read with raw
// open/read, never stdio: stdio's locks may be held by a host thread.
// Collector thread only.
#pragma once

#include <cstdint>

namespace heapdrift::agent {

struct ProcessMemory {
  uint64_t rss_bytes = 0;
  uint64_t virtual_bytes = 0;
  bool has_allocator_stats = false;
  uint64_t allocator_in_use_bytes = 0;
  uint64_t allocator_free_bytes = 0;
  uint64_t allocator_mapped_bytes = 0;
  uint64_t allocator_releasable_bytes = 0;
};

// mallinfo2 walks every free chunk of every arena holding that arena's lock
// (~0.4 ms on the session example's fragmented heap), and a host thread that
// allocates in that arena meanwhile waits for it: the one place the collector
// can make the host wait. So its duty is bounded: the next walk comes no
// sooner than kWalkGapFactor times the last one's duration later (the locks
// held at most 0.01 % of the time; a small heap, walked in microseconds, is
// walked every snapshot). Snapshots in between carry the last walk's figures.
class ProcessMemoryReader {
 public:
  static constexpr uint64_t kWalkGapFactor = 10'000;

  void Reset(bool allocator_is_glibc);
  // `walk_allocator`: walk the arenas whatever the last walk cost (a
  // recording's first and final snapshots).
  ProcessMemory Read(uint64_t now_ns, bool walk_allocator);

 private:
  bool allocator_is_glibc_ = false;
  bool walked_ = false;
  uint64_t next_walk_ns_ = 0;
  ProcessMemory last_walk_;
};

}  // namespace heapdrift::agent
