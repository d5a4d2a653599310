// What changed in the heap between two moments of a recording, by
// allocating call site. Pure; symbolizes through CallSiteResolver.
#pragma once

#include <string>
#include <vector>

#include "call_site_resolver.h"
#include "frame.h"
#include "recording.h"

namespace heapdrift {

struct SiteChange {
  symbolizer::Frame site;
  double live_bytes_from = 0, live_bytes_to = 0;
  double live_objects_from = 0, live_objects_to = 0;
  double allocated_bytes_between = 0;  // allocated in the interval (freed or not)
  double change() const { return live_bytes_to - live_bytes_from; }
};

struct HeapDiff {
  double from_seconds = 0, to_seconds = 0;  // the snapshots actually compared
  double live_from = 0, live_to = 0;
  std::vector<SiteChange> sites;  // largest change (either sign) first
};

// Compares the last snapshots at or before each moment (seconds since the
// start) of the resolver's recording.
HeapDiff BuildHeapDiff(CallSiteResolver& resolver, double from_seconds, double to_seconds);

}  // namespace heapdrift
