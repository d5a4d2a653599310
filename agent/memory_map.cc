#include "memory_map.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "page_arena.h"

namespace heapdrift::agent {
namespace {

const char* ParseHex(const char* p, const char* end, uintptr_t* value) {
  uintptr_t result = 0;
  for (; p < end; ++p) {
    char c = *p;
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) break;
    result = result * 16 + static_cast<uintptr_t>(digit);
  }
  *value = result;
  return p;
}

const char* SkipField(const char* p, const char* end) {
  while (p < end && *p != ' ') ++p;
  while (p < end && *p == ' ') ++p;
  return p;
}

// "begin-end perms offset dev inode   path"
bool ParseLine(const char* p, const char* end, MemoryMapping* mapping) {
  p = ParseHex(p, end, &mapping->begin);
  if (p == end || *p != '-') return false;
  p = ParseHex(p + 1, end, &mapping->end);
  if (end - p < 5 || *p != ' ') return false;
  ++p;
  mapping->readable = p[0] == 'r';
  mapping->writable = p[1] == 'w';
  mapping->shared = p[3] == 's';
  for (int field = 0; field < 4; ++field) p = SkipField(p, end);  // perms offset dev inode
  mapping->path = p;
  mapping->path_length = static_cast<size_t>(end - p);
  return mapping->end > mapping->begin;
}

}  // namespace

bool MemoryMapping::PathIs(const char* name) const {
  return path_length == std::strlen(name) && std::memcmp(path, name, path_length) == 0;
}

bool ForEachMapping(void (*visit)(const MemoryMapping&, void*), void* context) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t capacity = 1 << 20, used = 0;
  char* text = static_cast<char*>(MapPages(capacity));
  bool ok = text != nullptr;
  while (ok) {
    if (used == capacity) {
      char* grown = static_cast<char*>(RemapPages(text, capacity, capacity * 2));
      if (grown == nullptr) {
        ok = false;
        break;
      }
      text = grown;
      capacity *= 2;
    }
    ssize_t got = read(fd, text + used, capacity - used);
    if (got < 0) ok = false;
    if (got <= 0) break;
    used += static_cast<size_t>(got);
  }
  close(fd);
  for (size_t line = 0; ok && line < used;) {
    const char* begin = text + line;
    const char* newline = static_cast<const char*>(std::memchr(begin, '\n', used - line));
    const char* end = newline != nullptr ? newline : text + used;
    MemoryMapping mapping{};
    if (ParseLine(begin, end, &mapping)) visit(mapping, context);
    line = static_cast<size_t>(end - text) + 1;
  }
  UnmapPages(text, capacity);
  return ok;
}

}  // namespace heapdrift::agent
