// Addresses recorded in a process, turned into functions, source lines and
// inlined frames, offline, with elfutils' libdwfl.
//
// Each module is looked up as the recording describes it (path, load bias,
// build-id): the file at that path if its build-id still matches, else debug
// information found by build-id (/usr/lib/debug/.build-id/xx/yyyy.debug) or
// .gnu_debuglink. DWARF gives function, file:line and the chain of inlined
// calls; a binary without DWARF falls back to its ELF symbols; an address no
// symbol covers is shown as module+offset, never with a wrong name. A file
// whose build-id no longer matches the recording is not used (one warning).
//
// Results are cached per address, and libdwfl caches per module, so each
// distinct address is resolved once. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "frame.h"

namespace heapdrift::symbolizer {

struct ModuleSpec {
  std::string path;
  uint64_t start = 0;   // lowest mapped address
  uint64_t limit = 0;   // one past the highest
  uint64_t load_bias = 0;
  std::string build_id;  // raw bytes; empty if unknown
};

class Symbolizer {
 public:
  // `debug_paths`: where separate debug files are searched, in libdwfl's
  // syntax (default ":.debug:/usr/lib/debug").
  explicit Symbolizer(std::vector<ModuleSpec> modules, std::string debug_paths = "");
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // Frames for one return address, innermost (inlined) first, the function
  // that contains the call last. Never empty.
  const std::vector<Frame>& Symbolize(uint64_t return_address);

  // One line each, for the user: modules that could not be used, and why.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unordered_map<uint64_t, std::vector<Frame>> cache_;
  std::vector<std::string> warnings_;
};

}  // namespace heapdrift::symbolizer
