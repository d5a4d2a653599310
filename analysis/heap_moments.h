// The live heap by stack at a few moments of a recording: what the flame
// graphs of the live heap at one moment, and of its growth between two, are
// drawn from. Stacks are symbolized and cut at the allocating call site (the
// allocator's own frames say nothing), and stacks that symbolize alike merge.
// Bounded whatever the recording: the paths holding the most at any moment
// are kept, the rest summed as one remainder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "call_site_resolver.h"
#include "frame.h"

namespace heapdrift {

struct HeapMomentsOptions {
  double from_seconds = -1e300;  // the window, as the growth report's
  double to_seconds = 1e300;
  size_t max_moments = 24;       // evenly spaced, the first and last kept
  size_t max_paths = 2000;
};

struct HeapPath {
  std::vector<uint32_t> frames;  // indices into HeapMoments::frames, outermost first
  std::vector<double> live;      // live bytes at each moment
};

struct HeapMoments {
  std::vector<double> seconds;              // of each moment, since the start
  std::vector<symbolizer::Frame> frames;    // each distinct frame once
  std::vector<HeapPath> paths;              // largest (at its own peak) first
  std::vector<double> rest_live;            // the paths left out, summed, at each moment
  size_t paths_left_out = 0;
};

// The exit snapshot is left out as the growth report leaves it out.
HeapMoments BuildHeapMoments(CallSiteResolver& resolver, const HeapMomentsOptions& options = {});

}  // namespace heapdrift
