#include "process_memory.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include "collector.h"

namespace heapdrift::agent {
namespace {

uint64_t ParseNumber(const char*& cursor, const char* end) {
  while (cursor < end && (*cursor < '0' || *cursor > '9')) ++cursor;
  uint64_t value = 0;
  while (cursor < end && *cursor >= '0' && *cursor <= '9') value = value * 10 + (*cursor++ - '0');
  return value;
}

void ReadStatm(ProcessMemory* memory) {
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char text[256];
  ssize_t length = read(fd, text, sizeof(text));
  close(fd);
  if (length <= 0) return;
  const char* cursor = text;
  uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  memory->virtual_bytes = ParseNumber(cursor, text + length) * page;
  memory->rss_bytes = ParseNumber(cursor, text + length) * page;
}

}  // namespace

void ProcessMemoryReader::Reset(bool allocator_is_glibc) {
  allocator_is_glibc_ = allocator_is_glibc;
  walked_ = false;
  next_walk_ns_ = 0;
  last_walk_ = ProcessMemory{};
}

ProcessMemory ProcessMemoryReader::Read(uint64_t now_ns, bool walk_allocator) {
  ProcessMemory memory;
  if (allocator_is_glibc_) {
    if (walk_allocator || !walked_ || now_ns >= next_walk_ns_) {
      uint64_t started = MonotonicNowNs();
      struct mallinfo2 info = mallinfo2();
      uint64_t took = MonotonicNowNs() - started;
      last_walk_.has_allocator_stats = true;
      last_walk_.allocator_in_use_bytes = info.uordblks + info.hblkhd;
      last_walk_.allocator_free_bytes = info.fordblks;
      last_walk_.allocator_mapped_bytes = info.arena + info.hblkhd;
      last_walk_.allocator_releasable_bytes = info.keepcost;
      walked_ = true;
      next_walk_ns_ = now_ns + took * kWalkGapFactor;
    }
    memory = last_walk_;
  }
  ReadStatm(&memory);
  return memory;
}

}  // namespace heapdrift::agent
