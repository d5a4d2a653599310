// A recording's heap at one moment as a pprof profile (profile.proto) with
// the sample types alloc_objects, alloc_space, inuse_objects and
// inuse_space, already unsampled, symbolized, with inlined frames.
#pragma once

#include <string>

#include "pprof.pb.h"
#include "recording.h"

namespace heapdrift {

struct PprofOptions {
  double at_seconds = 1e300;  // the state at the last snapshot at or before this
  std::string debug_paths;
};

pprof::Profile BuildPprofProfile(const Recording& recording, const PprofOptions& options,
                                 std::vector<std::string>* warnings);

}  // namespace heapdrift
