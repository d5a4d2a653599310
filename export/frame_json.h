// The one JSON schema of a frame and a stack, for every command's JSON
// (report, diff, check): README "JSON output" documents it.
//   frame: {"function", "file", "line", "module", "module_offset", "inlined"}
//   "function" is the symbol, or "module+0xoffset" when none is known.
//   stack: [frame, ...], from the allocating call site outwards.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "frame.h"

namespace heapdrift {

nlohmann::json FrameJson(const symbolizer::Frame& frame);
nlohmann::json StackJson(const std::vector<symbolizer::Frame>& stack);

}  // namespace heapdrift
