#include "call_site_resolver.h"

#include <algorithm>
#include <map>

#include "call_site.h"

namespace heapdrift {

std::vector<symbolizer::ModuleSpec> SymbolizerModules(const Recording& recording) {
  std::map<std::pair<std::string, uint64_t>, symbolizer::ModuleSpec> modules;
  for (const proto::Mapping& mapping : recording.mappings) {
    auto [it, inserted] = modules.try_emplace({mapping.path(), mapping.load_bias()});
    symbolizer::ModuleSpec& spec = it->second;
    if (inserted) {
      spec = {mapping.path(), mapping.start(), mapping.limit(), mapping.load_bias(),
              mapping.build_id()};
    }
    spec.start = std::min(spec.start, mapping.start());
    spec.limit = std::max(spec.limit, mapping.limit());
  }
  std::vector<symbolizer::ModuleSpec> specs;
  for (auto& [key, spec] : modules) specs.push_back(std::move(spec));
  return specs;
}

CallSiteResolver::CallSiteResolver(const Recording& recording, std::vector<std::string> wrappers,
                                   std::string debug_paths)
    : recording_(recording), wrappers_(std::move(wrappers)), debug_paths_(std::move(debug_paths)) {
  FollowModules();
}

CallSiteResolver::CallSiteResolver(const Recording& recording,
                                   symbolizer::SharedSymbolizer& shared,
                                   std::vector<std::string> wrappers)
    : recording_(recording), wrappers_(std::move(wrappers)), shared_(&shared) {
  FollowModules();
}

void CallSiteResolver::FollowModules() {
  if (symbolizer_ != nullptr && recording_.mappings.size() == mappings_seen_) return;
  mappings_seen_ = recording_.mappings.size();
  if (shared_ != nullptr) {
    modules_ = SymbolizerModules(recording_);
    symbolizer_ = std::make_unique<symbolizer::Symbolizer>(std::vector<symbolizer::ModuleSpec>{});
    shared_frames_.clear();
  } else {
    symbolizer_ =
        std::make_unique<symbolizer::Symbolizer>(SymbolizerModules(recording_), debug_paths_);
  }
  resolved_.clear();
}

const std::vector<symbolizer::Frame>& CallSiteResolver::Symbolize(uint64_t return_address) {
  if (shared_ == nullptr) return symbolizer_->Symbolize(return_address);
  auto [it, inserted] = shared_frames_.try_emplace(return_address);
  if (!inserted) return it->second;
  const uint64_t call = return_address - 1;  // as the symbolizer looks it up
  for (const symbolizer::ModuleSpec& module : modules_) {
    if (call >= module.start && call < module.limit) {
      it->second = shared_->Symbolize(module, return_address);
      shared_warnings_ = shared_->warnings();
      return it->second;
    }
  }
  it->second = symbolizer_->Symbolize(return_address);
  return it->second;
}

const ResolvedStack& CallSiteResolver::Resolve(uint32_t stack_id) {
  auto [it, inserted] = resolved_.try_emplace(stack_id);
  ResolvedStack& resolved = it->second;
  if (!inserted) return resolved;
  auto stack = recording_.stacks.find(stack_id);
  if (stack != recording_.stacks.end()) {
    for (uint64_t address : stack->second) {
      const auto& frames = Symbolize(address);
      resolved.frames.insert(resolved.frames.end(), frames.begin(), frames.end());
    }
  }
  if (resolved.frames.empty()) resolved.frames.push_back(symbolizer::Frame{"[unknown stack]"});
  resolved.site_index = AllocatingFrame(resolved.frames, wrappers_);
  resolved.site_key = CallSiteKey(resolved.site());
  return resolved;
}

}  // namespace heapdrift
