// Stack capture for sampled allocations, with the agent's own unwinder
// (frame_unwinder.h): DWARF call-frame rules found through _dl_find_object
// and cached lock-free. It never calls dl_iterate_phdr and takes no lock, so
// a sampled allocation made while the host holds the loader's lock (inside a
// dl_iterate_phdr callback, a constructor run by dlopen) or any lock of its
// own cannot deadlock, and it loads no library into the host.
//
// Takes no lock and calls nothing that does: safe whatever the thread holds,
// including its own descriptor's lock (pthread_getattr_np allocates under it).
#pragma once

#include <cstdint>

#include "frame_unwinder.h"

namespace heapdrift::agent {

// Frames belonging to [begin, end) at the top of a captured stack are the
// agent's own and are cut off (by address, not by count: inlining changes counts).
void SetAgentTextRange(uintptr_t begin, uintptr_t end);

// Executable address range of the loaded object that contains `address`.
bool AgentTextRangeOf(const void* address, uintptr_t* begin, uintptr_t* end);

// Captures up to `max_depth` return addresses of the calling thread, innermost
// first, starting at the first frame outside the agent.
uint32_t CaptureStack(uintptr_t* frames, uint32_t max_depth);
// The same from `caller` (HD_CALLER_FRAME of a function the host called):
// the walk skips the frames above it, and any of the agent's below it.
uint32_t CaptureStackFrom(const CallerFrame& caller, uintptr_t* frames, uint32_t max_depth);

}  // namespace heapdrift::agent
