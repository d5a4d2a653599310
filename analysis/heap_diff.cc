#include "heap_diff.h"

#include <algorithm>
#include <cmath>
#include "call_site_resolver.h"
#include "site_groups.h"
#include "site_series.h"

namespace heapdrift {

HeapDiff BuildHeapDiff(CallSiteResolver& resolver, double from_seconds, double to_seconds) {
  resolver.FollowModules();
  const Recording& recording = resolver.recording();
  HeapDiff diff;
  SitesAt from = StateAt(recording, from_seconds);
  SitesAt to = StateAt(recording, to_seconds);
  diff.from_seconds = from.seconds;
  diff.to_seconds = to.seconds;
  SiteGrouping<SiteChange> grouping;
  for (const auto& [id, after] : to.sites) {
    auto found = from.sites.find(id);
    proto::CallSite before = found != from.sites.end() ? found->second : proto::CallSite();
    if (after.allocated_objects() == before.allocated_objects() &&
        after.live_bytes() == before.live_bytes()) {
      continue;  // untouched in the interval
    }
    const ResolvedStack& resolved = resolver.Resolve(id);
    SiteChange& change = grouping.Add(resolved.site_key, resolved, resolved.site_index,
                                      static_cast<double>(after.live_bytes()));
    change.live_bytes_from += static_cast<double>(before.live_bytes());
    change.live_bytes_to += static_cast<double>(after.live_bytes());
    change.live_objects_from += static_cast<double>(before.live_objects());
    change.live_objects_to += static_cast<double>(after.live_objects());
    change.allocated_bytes_between +=
        static_cast<double>(after.allocated_bytes()) - static_cast<double>(before.allocated_bytes());
  }
  for (const auto& [id, site] : from.sites) diff.live_from += static_cast<double>(site.live_bytes());
  for (const auto& [id, site] : to.sites) diff.live_to += static_cast<double>(site.live_bytes());
  for (SiteGroup<SiteChange>& group : grouping.Take()) {
    group.totals.site = std::move(group.site);
    diff.sites.push_back(std::move(group.totals));
  }
  std::sort(diff.sites.begin(), diff.sites.end(), [](const SiteChange& a, const SiteChange& b) {
    return std::fabs(a.change()) > std::fabs(b.change());
  });
  return diff;
}

}  // namespace heapdrift
