// A recording's heap at one moment as folded stacks ("main;f;g 1234" per
// line, root first): the text flame-graph tools read.
#pragma once

#include <string>
#include <vector>

#include "recording.h"

namespace heapdrift {

enum class FoldedValue { kInuseSpace, kInuseObjects, kAllocSpace, kAllocObjects };

std::string BuildFoldedStacks(const Recording& recording, FoldedValue value, double at_seconds,
                              const std::string& debug_paths, std::vector<std::string>* warnings);

}  // namespace heapdrift
