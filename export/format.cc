#include "format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string_view>

namespace heapdrift {

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

std::string HtmlEscape(const std::string& text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '&': escaped += "&amp;"; break;
      case '"': escaped += "&quot;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

std::string SignedBytes(double bytes) {
  return (bytes >= 0 ? "+" : "-") + HumanBytes(std::fabs(bytes));
}

std::string ShortFunction(const std::string& function) {
  constexpr std::string_view kAnonymous = "(anonymous namespace)";
  size_t name_start = function.compare(0, kAnonymous.size(), kAnonymous) == 0 ? kAnonymous.size() : 0;
  size_t open = function.find('(', name_start);
  if (open == std::string::npos || function.find("operator", name_start) == name_start) {
    return function;
  }
  return function.substr(0, open) + (function.compare(open, 2, "()") == 0 ? "()" : "(...)");
}

std::string FrameTitle(const symbolizer::Frame& frame) {
  std::string location = frame.Location();
  if (frame.function.empty()) return frame.ModuleOffset();
  std::string function = ShortFunction(frame.function);
  // File names are long: keep the last two path components.
  size_t slash = location.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    size_t previous = location.rfind('/', slash - 1);
    if (previous != std::string::npos) location = location.substr(previous + 1);
  }
  return location.empty() ? function : function + " (" + location + ")";
}

std::string Sparkline(const std::vector<double>& values, size_t width) {
  static constexpr const char* kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (values.empty() || width == 0) return "";
  std::vector<double> columns;
  for (size_t column = 0; column < width; ++column) {
    // Each column shows the last value of its share of the series.
    size_t index = std::min(values.size() - 1, (column + 1) * values.size() / width);
    columns.push_back(values[index]);
  }
  double low = *std::min_element(columns.begin(), columns.end());
  double high = *std::max_element(columns.begin(), columns.end());
  std::string line;
  for (double value : columns) {
    int level = high > low ? static_cast<int>((value - low) / (high - low) * 7.999) : 0;
    line += kBlocks[std::clamp(level, 0, 7)];
  }
  return line;
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

}  // namespace heapdrift
