// The process's memory mappings, read from /proc/self/maps without touching
// the heap (the leak scan runs inside the host's exit, under the hooks).
#pragma once

#include <cstddef>
#include <cstdint>

namespace heapdrift::agent {

struct MemoryMapping {
  uintptr_t begin, end;
  bool readable, writable, shared;
  const char* path;  // "" for anonymous memory; "[heap]", "[stack]", or a file
  size_t path_length;

  bool PathIs(const char* name) const;
};

// Calls visit(mapping, context) for every mapping, lowest address first. The
// file is read whole before the first call, so `visit` may map or unmap
// memory. False if it cannot be read.
bool ForEachMapping(void (*visit)(const MemoryMapping&, void*), void* context);

}  // namespace heapdrift::agent
