#include "demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace heapdrift::symbolizer {

std::string Demangle(const char* name) {
  if (name == nullptr) return "";
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && demangled ? std::string(demangled.get()) : std::string(name);
}

}  // namespace heapdrift::symbolizer
