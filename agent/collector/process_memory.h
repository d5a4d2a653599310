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

ProcessMemory ReadProcessMemory(bool allocator_is_glibc);

}  // namespace heapdrift::agent
