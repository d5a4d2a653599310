// What `heapdrift diff` tells: the change in the heap between two moments,
// by allocating call site, as text or JSON (frames as frame_json.h says).
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "heap_diff.h"

namespace heapdrift {

// `top` call sites at most; `path` names the recording.
void PrintDiffText(std::FILE* out, const std::string& path, const HeapDiff& diff, size_t top);
nlohmann::json DiffJson(const HeapDiff& diff, size_t top);

}  // namespace heapdrift
