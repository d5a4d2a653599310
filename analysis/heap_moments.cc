#include "heap_moments.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include "site_series.h"

namespace heapdrift {
namespace {

// Frames merge when a reader could not tell them apart: the same function at
// the same line (or, unsymbolized, the same module offset).
std::string FrameKey(const symbolizer::Frame& frame) {
  if (frame.function.empty()) return frame.ModuleOffset();
  return fmt::format("{}\t{}:{}\t{}", frame.function, frame.file, frame.line, frame.inlined);
}

double Peak(const std::vector<double>& live) {
  double peak = 0;
  for (double value : live) peak = std::max(peak, value);
  return peak;
}

}  // namespace

HeapMoments BuildHeapMoments(CallSiteResolver& resolver, const HeapMomentsOptions& options) {
  resolver.FollowModules();
  SiteSeries series = SampleSiteSeries(resolver.recording(), std::max<size_t>(options.max_moments, 2),
                                       options.from_seconds, options.to_seconds);
  HeapMoments moments;
  moments.seconds = series.seconds;
  moments.rest_live.assign(series.seconds.size(), 0.0);
  std::unordered_map<std::string, uint32_t> frame_index;
  std::map<std::vector<uint32_t>, size_t> path_index;  // identical symbolized paths merge
  std::vector<HeapPath> paths;
  for (size_t entry = 0; entry < series.stack_ids.size(); ++entry) {
    const ResolvedStack& stack = resolver.Resolve(series.stack_ids[entry]);
    std::vector<uint32_t> frames;
    for (size_t i = stack.frames.size(); i-- > stack.site_index;) {
      auto [it, inserted] = frame_index.try_emplace(FrameKey(stack.frames[i]),
                                                    static_cast<uint32_t>(moments.frames.size()));
      if (inserted) moments.frames.push_back(stack.frames[i]);
      frames.push_back(it->second);
    }
    auto [it, inserted] = path_index.try_emplace(frames, paths.size());
    if (inserted) {
      paths.push_back(HeapPath{std::move(frames), std::vector<double>(series.seconds.size(), 0.0)});
    }
    std::vector<double>& live = paths[it->second].live;
    for (size_t i = 0; i < live.size(); ++i) live[i] += series.live[entry][i];
  }
  std::stable_sort(paths.begin(), paths.end(), [](const HeapPath& a, const HeapPath& b) {
    return Peak(a.live) > Peak(b.live);
  });
  if (paths.size() > options.max_paths) {
    for (size_t p = options.max_paths; p < paths.size(); ++p) {
      for (size_t i = 0; i < moments.rest_live.size(); ++i) moments.rest_live[i] += paths[p].live[i];
    }
    moments.paths_left_out = paths.size() - options.max_paths;
    paths.resize(options.max_paths);
  }
  // Only the frames the kept paths use, renumbered.
  std::vector<int64_t> renumbered(moments.frames.size(), -1);
  std::vector<symbolizer::Frame> used;
  for (HeapPath& path : paths) {
    for (uint32_t& frame : path.frames) {
      if (renumbered[frame] < 0) {
        renumbered[frame] = static_cast<int64_t>(used.size());
        used.push_back(moments.frames[frame]);
      }
      frame = static_cast<uint32_t>(renumbered[frame]);
    }
  }
  moments.frames = std::move(used);
  moments.paths = std::move(paths);
  return moments;
}

}  // namespace heapdrift
