// A recording's heap at one moment as a pprof profile (profile.proto) with
// the sample types alloc_objects, alloc_space, inuse_objects and
// inuse_space, already unsampled, symbolized, with inlined frames.
#pragma once

#include <string>

#include "call_site_resolver.h"
#include "pprof.pb.h"
#include "recording.h"

namespace heapdrift {

// The state of the resolver's recording at the last snapshot at or before
// `at_seconds`.
pprof::Profile BuildPprofProfile(CallSiteResolver& resolver, double at_seconds = 1e300);

}  // namespace heapdrift
