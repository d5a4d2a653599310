#include "frame_json.h"

namespace heapdrift {

nlohmann::json FrameJson(const symbolizer::Frame& frame) {
  return {{"function", frame.function.empty() ? frame.ModuleOffset() : frame.function},
          {"file", frame.file},
          {"line", frame.line},
          {"module", frame.module},
          {"module_offset", frame.module_offset},
          {"inlined", frame.inlined}};
}

nlohmann::json StackJson(const std::vector<symbolizer::Frame>& stack) {
  nlohmann::json frames = nlohmann::json::array();
  for (const symbolizer::Frame& frame : stack) frames.push_back(FrameJson(frame));
  return frames;
}

}  // namespace heapdrift
