// Symbols shared by many processes' recordings (heapdrift serve): one
// Symbolizer per distinct module (path and build-id), loaded at its own
// addresses, however many processes map it and wherever. Fifty processes of
// one program cost one set of libdwfl modules and one address cache, not
// fifty (measured: 910 MiB resident for 50 session-leak processes with a
// Symbolizer each). Thread-safe: one lock around each lookup.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "frame.h"
#include "symbolizer.h"

namespace heapdrift::symbolizer {

class SharedSymbolizer {
 public:
  explicit SharedSymbolizer(std::string debug_paths = "") : debug_paths_(std::move(debug_paths)) {}

  // Frames for `return_address` of a process that mapped `module` as given
  // (its load bias is taken off), as Symbolizer::Symbolize gives them.
  std::vector<Frame> Symbolize(const ModuleSpec& module, uint64_t return_address);
  // Warnings of every module loaded so far.
  std::vector<std::string> warnings() const;

 private:
  std::string debug_paths_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Symbolizer>> modules_;
};

}  // namespace heapdrift::symbolizer
