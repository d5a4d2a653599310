// One symbolized frame: what a report prints for one level of a stack.
#pragma once

#include <cstdint>
#include <string>

namespace heapdrift::symbolizer {

struct Frame {
  std::string function;  // demangled; empty when unknown
  std::string file;      // source file; empty when unknown
  int line = 0;
  std::string module;    // path of the ELF object
  uint64_t module_offset = 0;  // address in the object's own virtual addresses
  bool inlined = false;        // inlined into the frame that follows it

  // "function (file:line)", "function", or "module+0xoffset" when unknown.
  std::string Describe() const;
  // "file:line" or "".
  std::string Location() const;
  // "libfoo.so+0x1234".
  std::string ModuleOffset() const;
};

}  // namespace heapdrift::symbolizer
