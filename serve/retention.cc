#include "retention.h"

#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "segments.h"

namespace heapdrift::serve {
namespace {

struct StoredSegment {
  std::filesystem::path path;
  uint64_t bytes = 0;
  double modified = 0;  // Unix seconds
  uint64_t index = 0;
  bool being_written = false;
};

}  // namespace

RetentionResult EnforceRetention(const std::filesystem::path& root, const RetentionLimits& limits,
                                 const std::set<std::filesystem::path>& being_written,
                                 double now_unix_seconds) {
  RetentionResult result;
  std::vector<StoredSegment> segments;
  std::vector<std::filesystem::path> directories;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
    if (!entry.is_directory(error) || entry.is_symlink(error)) continue;
    directories.push_back(entry.path());
    for (const SegmentFile& segment : ListSegments(entry.path())) {
      struct stat status {};
      if (lstat(segment.path.c_str(), &status) != 0 || !S_ISREG(status.st_mode)) continue;
      segments.push_back({segment.path, static_cast<uint64_t>(status.st_size),
                          static_cast<double>(status.st_mtim.tv_sec) +
                              static_cast<double>(status.st_mtim.tv_nsec) / 1e9,
                          segment.index, being_written.count(segment.path) != 0});
    }
  }
  // Oldest first: by last write, then by index within a process.
  std::sort(segments.begin(), segments.end(), [](const StoredSegment& a, const StoredSegment& b) {
    return a.modified != b.modified ? a.modified < b.modified : a.index < b.index;
  });
  uint64_t total = 0;
  for (const StoredSegment& segment : segments) total += segment.bytes;
  for (const StoredSegment& segment : segments) {
    if (segment.being_written) continue;
    bool too_old = now_unix_seconds - segment.modified > limits.max_age_seconds;
    if (!too_old && total <= limits.max_bytes) continue;
    if (std::filesystem::remove(segment.path, error)) {
      total -= segment.bytes;
      ++result.deleted_segments;
    }
  }
  for (const std::filesystem::path& directory : directories) {
    if (ListSegments(directory).empty()) {
      bool has_writer = std::any_of(being_written.begin(), being_written.end(),
                                    [&](const auto& path) { return path.parent_path() == directory; });
      // remove() deletes only an empty directory: a user's files stay.
      if (!has_writer) std::filesystem::remove(directory, error);
    }
  }
  result.kept_bytes = total;
  return result;
}

}  // namespace heapdrift::serve
