#include "format.h"

#include <fmt/format.h>

#include <cmath>

namespace heapdrift::cli {

std::string HumanBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double magnitude = std::fabs(bytes);
  int unit = 0;
  while (magnitude >= 1024 && unit < 4) {
    magnitude /= 1024;
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

std::string ModuleOffset(const Recording& recording, uint64_t return_address) {
  // A return address points after the call; the call itself is one byte back.
  uint64_t address = return_address - 1;
  const proto::Mapping* mapping = recording.MappingFor(address);
  if (mapping == nullptr) return fmt::format("0x{:x}", address);
  std::string_view path = mapping->path();
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return fmt::format("{}+0x{:x}", name, address - mapping->load_bias());
}

}  // namespace heapdrift::cli
