// Stacks grouped by a key: their allocating call site (report, diff, check)
// or a caller they share (the report's spread growth). A group is named by
// its largest member: the frame the key was taken from, and that member's
// stack from the frame outwards, which is what a reader follows.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "call_site_resolver.h"
#include "frame.h"

namespace heapdrift {

template <typename Totals>
struct SiteGroup {
  std::string key;
  symbolizer::Frame site;                 // the naming frame of the largest member
  std::vector<symbolizer::Frame> stack;   // the largest member's, from that frame outwards
  Totals totals{};                        // what the caller summed over the members
  size_t stacks = 0;
  size_t call_sites = 0;                  // distinct allocating call sites among the members
};

template <typename Totals>
class SiteGrouping {
 public:
  // Adds a stack to the group `key`, to be named by its frame `frame` if
  // its `size` is the largest so far (the first such member wins ties).
  // Returns the group's totals, for the caller to add the member to.
  Totals& Add(const std::string& key, const ResolvedStack& stack, size_t frame, double size) {
    Builder& builder = groups_[key];
    ++builder.group.stacks;
    builder.call_sites.insert(stack.site_key);
    if (size > builder.largest_size) {
      builder.largest_size = size;
      builder.largest = &stack;
      builder.frame = frame;
    }
    return builder.group.totals;
  }

  // The groups in key order. The resolver's stacks must still be valid.
  std::vector<SiteGroup<Totals>> Take() {
    std::vector<SiteGroup<Totals>> groups;
    groups.reserve(groups_.size());
    for (auto& [key, builder] : groups_) {
      SiteGroup<Totals>& group = builder.group;
      group.key = key;
      group.call_sites = builder.call_sites.size();
      const std::vector<symbolizer::Frame>& frames = builder.largest->frames;
      group.site = frames[builder.frame];
      group.stack.assign(frames.begin() + static_cast<std::ptrdiff_t>(builder.frame), frames.end());
      groups.push_back(std::move(group));
    }
    groups_.clear();
    return groups;
  }

 private:
  struct Builder {
    SiteGroup<Totals> group;
    std::set<std::string> call_sites;
    double largest_size = -1;
    const ResolvedStack* largest = nullptr;
    size_t frame = 0;
  };
  std::map<std::string, Builder> groups_;
};

}  // namespace heapdrift
