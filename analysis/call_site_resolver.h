// Stack id -> its symbolized frames and allocating call site, for every
// command that groups stacks by call site (report, diff). Caches per stack;
// symbolization itself is cached per address by the Symbolizer.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "frame.h"
#include "recording.h"
#include "symbolizer.h"

namespace heapdrift {

struct ResolvedStack {
  std::string site_key;                  // stacks with equal keys share a call site
  std::vector<symbolizer::Frame> frames;  // innermost first, inlined frames included
  size_t site_index = 0;                 // frames[site_index] is the allocating call site
  const symbolizer::Frame& site() const { return frames[site_index]; }
};

class CallSiteResolver {
 public:
  CallSiteResolver(const Recording& recording, std::vector<std::string> wrappers,
                   const std::string& debug_paths);

  const ResolvedStack& Resolve(uint32_t stack_id);
  const std::vector<std::string>& warnings() const { return symbolizer_.warnings(); }

 private:
  const Recording& recording_;
  std::vector<std::string> wrappers_;
  symbolizer::Symbolizer symbolizer_;
  std::unordered_map<uint32_t, ResolvedStack> resolved_;
};

// The modules a recording's mappings describe, one per loaded object.
std::vector<symbolizer::ModuleSpec> SymbolizerModules(const Recording& recording);

}  // namespace heapdrift
