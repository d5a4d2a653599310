// C++ symbol names made readable.
#pragma once

#include <string>

namespace heapdrift::symbolizer {

// The demangled form of `name`, or `name` itself when it is not mangled.
std::string Demangle(const char* name);

}  // namespace heapdrift::symbolizer
