#include "diff_output.h"

#include <fmt/format.h>

#include <algorithm>

#include "format.h"
#include "frame_json.h"

namespace heapdrift {

void PrintDiffText(std::FILE* out, const std::string& path, const HeapDiff& diff, size_t top) {
  fmt::print(out, "heapdrift diff: {}, {:.1f} s -> {:.1f} s\n", path, diff.from_seconds,
             diff.to_seconds);
  fmt::print(out, "estimated live heap {} -> {} ({})\n\n", HumanBytes(diff.live_from),
             HumanBytes(diff.live_to), SignedBytes(diff.live_to - diff.live_from));
  fmt::print(out, "{:>12}  {:>10}  {:>10}  {:>12}  {}\n", "change", "from", "to", "allocated",
             "allocating call site");
  for (size_t i = 0; i < std::min(top, diff.sites.size()); ++i) {
    const SiteChange& site = diff.sites[i];
    fmt::print(out, "{:>12}  {:>10}  {:>10}  {:>12}  {}\n", SignedBytes(site.change()),
               HumanBytes(site.live_bytes_from), HumanBytes(site.live_bytes_to),
               HumanBytes(site.allocated_bytes_between), FrameTitle(site.site));
  }
}

nlohmann::json DiffJson(const HeapDiff& diff, size_t top) {
  nlohmann::json sites = nlohmann::json::array();
  for (size_t i = 0; i < std::min(top, diff.sites.size()); ++i) {
    const SiteChange& site = diff.sites[i];
    nlohmann::json entry = FrameJson(site.site);
    entry["live_bytes_from"] = static_cast<int64_t>(site.live_bytes_from);
    entry["live_bytes_to"] = static_cast<int64_t>(site.live_bytes_to);
    entry["change_bytes"] = static_cast<int64_t>(site.change());
    entry["live_objects_from"] = static_cast<int64_t>(site.live_objects_from);
    entry["live_objects_to"] = static_cast<int64_t>(site.live_objects_to);
    entry["allocated_bytes_between"] = static_cast<int64_t>(site.allocated_bytes_between);
    sites.push_back(std::move(entry));
  }
  return {{"from_seconds", diff.from_seconds},
          {"to_seconds", diff.to_seconds},
          {"live_bytes_from", static_cast<int64_t>(diff.live_from)},
          {"live_bytes_to", static_cast<int64_t>(diff.live_to)},
          {"sites", sites}};
}

}  // namespace heapdrift
