// A recording's heap at one moment as folded stacks ("main;f;g 1234" per
// line, root first): the text flame-graph tools read.
#pragma once

#include <string>
#include <vector>

#include "call_site_resolver.h"
#include "recording.h"

namespace heapdrift {

enum class FoldedValue { kInuseSpace, kInuseObjects, kAllocSpace, kAllocObjects };

// The state of the resolver's recording at the last snapshot at or before
// `at_seconds`.
std::string BuildFoldedStacks(CallSiteResolver& resolver, FoldedValue value,
                              double at_seconds = 1e300);

}  // namespace heapdrift
