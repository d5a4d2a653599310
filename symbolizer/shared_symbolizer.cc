#include "shared_symbolizer.h"

namespace heapdrift::symbolizer {

std::vector<Frame> SharedSymbolizer::Symbolize(const ModuleSpec& module, uint64_t return_address) {
  std::lock_guard lock(mutex_);
  std::unique_ptr<Symbolizer>& symbolizer = modules_[{module.path, module.build_id}];
  if (!symbolizer) {
    ModuleSpec at_own_addresses = module;
    at_own_addresses.start -= module.load_bias;
    at_own_addresses.limit -= module.load_bias;
    at_own_addresses.load_bias = 0;
    symbolizer = std::make_unique<Symbolizer>(std::vector<ModuleSpec>{at_own_addresses},
                                              debug_paths_);
  }
  return symbolizer->Symbolize(return_address - module.load_bias);
}

std::vector<std::string> SharedSymbolizer::warnings() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> all;
  for (const auto& [key, symbolizer] : modules_) {
    all.insert(all.end(), symbolizer->warnings().begin(), symbolizer->warnings().end());
  }
  return all;
}

}  // namespace heapdrift::symbolizer
