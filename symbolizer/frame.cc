#include "frame.h"

#include <fmt/format.h>

namespace heapdrift::symbolizer {

std::string Frame::ModuleOffset() const {
  size_t slash = module.rfind('/');
  std::string name = slash == std::string::npos ? module : module.substr(slash + 1);
  return fmt::format("{}+0x{:x}", name.empty() ? "?" : name, module_offset);
}

std::string Frame::Location() const {
  if (file.empty()) return "";
  return line > 0 ? fmt::format("{}:{}", file, line) : file;
}

std::string Frame::Describe() const {
  if (function.empty()) return ModuleOffset();
  std::string location = Location();
  return location.empty() ? function : fmt::format("{} ({})", function, location);
}

}  // namespace heapdrift::symbolizer
