#include "folded_export.h"

#include <fmt/format.h>

#include <map>

#include "call_site_resolver.h"
#include "site_series.h"

namespace heapdrift {
namespace {

int64_t ValueOf(const proto::CallSite& site, FoldedValue value) {
  switch (value) {
    case FoldedValue::kInuseSpace:
      return site.live_bytes();
    case FoldedValue::kInuseObjects:
      return site.live_objects();
    case FoldedValue::kAllocSpace:
      return static_cast<int64_t>(site.allocated_bytes());
    case FoldedValue::kAllocObjects:
      return static_cast<int64_t>(site.allocated_objects());
  }
  return 0;
}

// ';' separates frames and ' ' ends the stack in the folded format.
std::string Clean(std::string name) {
  for (char& c : name) {
    if (c == ';') c = ',';
    if (c == '\n') c = ' ';
  }
  return name;
}

}  // namespace

std::string BuildFoldedStacks(CallSiteResolver& resolver, FoldedValue value, double at_seconds) {
  resolver.FollowModules();
  const Recording& recording = resolver.recording();
  SitesAt state = StateAt(recording, at_seconds);
  std::map<std::string, int64_t> folded;  // identical symbolized stacks merge
  for (const auto& [id, site] : state.sites) {
    int64_t amount = ValueOf(site, value);
    auto stack = recording.stacks.find(id);
    if (amount <= 0 || stack == recording.stacks.end()) continue;
    std::vector<std::string> names;
    for (uint64_t address : stack->second) {
      for (const symbolizer::Frame& frame : resolver.Symbolize(address)) {
        names.push_back(Clean(frame.function.empty() ? frame.ModuleOffset() : frame.function));
      }
    }
    std::string line;
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
      if (!line.empty()) line += ';';
      line += *it;
    }
    folded[line] += amount;
  }
  std::string text;
  for (const auto& [stack, amount] : folded) text += fmt::format("{} {}\n", stack, amount);
  return text;
}

}  // namespace heapdrift
