// Stack id -> its symbolized frames and allocating call site. One resolver
// per recording, made by the caller and passed to every analysis of it
// (report, diff, check, the exporters), so that each address is symbolized
// once however many analyses run: the Symbolizer caches per address, the
// resolver per stack.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "frame.h"
#include "recording.h"
#include "shared_symbolizer.h"
#include "symbolizer.h"

namespace heapdrift {

struct ResolvedStack {
  std::string site_key;                   // stacks with equal keys share a call site
  std::vector<symbolizer::Frame> frames;  // innermost first, inlined frames included
  size_t site_index = 0;                  // frames[site_index] is the allocating call site
  const symbolizer::Frame& site() const { return frames[site_index]; }
};

class CallSiteResolver {
 public:
  // `wrappers`: the user's allocation wrappers (xmalloc), skipped like the
  // allocator; `debug_paths`: where separate debug files are, libdwfl syntax.
  CallSiteResolver(const Recording& recording, std::vector<std::string> wrappers = {},
                   std::string debug_paths = "");
  // Symbols from `shared` (many processes' recordings, one set of modules;
  // it outlives the resolver) instead of a symbolizer of its own.
  CallSiteResolver(const Recording& recording, symbolizer::SharedSymbolizer& shared,
                   std::vector<std::string> wrappers = {});

  // Call at the start of an analysis: a recording still being received
  // (record --live) may have loaded modules since; then the symbolizer is
  // made anew, once per change of modules, not per analysis. References
  // returned earlier are invalid after a change.
  void FollowModules();

  const ResolvedStack& Resolve(uint32_t stack_id);
  // Frames for one return address, innermost (inlined) first.
  const std::vector<symbolizer::Frame>& Symbolize(uint64_t return_address);
  // One line per module that could not be used, and why (I/O's words, not
  // the analysis's: the symbolizer reads binaries).
  const std::vector<std::string>& warnings() const {
    return shared_ != nullptr ? shared_warnings_ : symbolizer_->warnings();
  }
  const Recording& recording() const { return recording_; }

 private:
  const Recording& recording_;
  std::vector<std::string> wrappers_;
  std::string debug_paths_;
  size_t mappings_seen_ = 0;
  std::unique_ptr<symbolizer::Symbolizer> symbolizer_;  // own, or for addresses in no module
  symbolizer::SharedSymbolizer* shared_ = nullptr;
  std::vector<symbolizer::ModuleSpec> modules_;  // with shared_: where each module lies
  std::unordered_map<uint64_t, std::vector<symbolizer::Frame>> shared_frames_;
  std::vector<std::string> shared_warnings_;
  std::unordered_map<uint32_t, ResolvedStack> resolved_;
};

// The modules a recording's mappings describe, one per loaded object.
std::vector<symbolizer::ModuleSpec> SymbolizerModules(const Recording& recording);

}  // namespace heapdrift
