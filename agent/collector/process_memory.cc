#include "process_memory.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

namespace heapdrift::agent {
namespace {

uint64_t ParseNumber(const char*& cursor, const char* end) {
  while (cursor < end && (*cursor < '0' || *cursor > '9')) ++cursor;
  uint64_t value = 0;
  while (cursor < end && *cursor >= '0' && *cursor <= '9') value = value * 10 + (*cursor++ - '0');
  return value;
}

}  // namespace

ProcessMemory ReadProcessMemory(bool allocator_is_glibc) {
  ProcessMemory memory;
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char text[256];
    ssize_t length = read(fd, text, sizeof(text));
    close(fd);
    if (length > 0) {
      const char* cursor = text;
      uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
      memory.virtual_bytes = ParseNumber(cursor, text + length) * page;
      memory.rss_bytes = ParseNumber(cursor, text + length) * page;
    }
  }
  if (allocator_is_glibc) {
    struct mallinfo2 info = mallinfo2();
    memory.has_allocator_stats = true;
    memory.allocator_in_use_bytes = info.uordblks + info.hblkhd;
    memory.allocator_free_bytes = info.fordblks;
    memory.allocator_mapped_bytes = info.arena + info.hblkhd;
    memory.allocator_releasable_bytes = info.keepcost;
  }
  return memory;
}

}  // namespace heapdrift::agent
