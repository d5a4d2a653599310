// Which process this is, in a form that outlives exec: the pid and the
// process's start time. Every program image a process runs (exec keeps the
// pid and the start time) has the same identity; another process that later
// gets the same pid does not. Lets a new image recognise the recording its
// own process's previous image began.
#pragma once

#include <cstdint>

namespace heapdrift::agent {

struct ProcessIdentity {
  uint32_t pid = 0;
  uint64_t start_ticks = 0;  // /proc/self/stat field 22 (clock ticks since boot); 0 if unknown
};

// Reads /proc/self/stat; never allocates.
ProcessIdentity CurrentProcessIdentity();

}  // namespace heapdrift::agent
