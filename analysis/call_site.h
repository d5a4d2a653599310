// Which frame of a symbolized stack is "the allocating call site": the first
// frame, from the allocation outwards, that is not the allocator, the C or
// C++ runtime, the loader or the agent, nor a wrapper the user named (such as
// xmalloc). Stacks that share it are reported together.
#pragma once

#include <string>
#include <vector>

#include "frame.h"

namespace heapdrift {

// Index into `frames` of the allocating call site (0 if every frame is
// runtime code).
size_t AllocatingFrame(const std::vector<symbolizer::Frame>& frames,
                       const std::vector<std::string>& wrappers);

// Key that groups stacks by their allocating call site.
std::string CallSiteKey(const symbolizer::Frame& frame);

}  // namespace heapdrift
