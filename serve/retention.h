// Keeps the daemon's directory within --retain and --max-disk: deletes the
// segments whose last write is older than the retention time, then the
// oldest segments until the total fits, never a segment being written, and
// removes a process directory left empty. Only files named as segments
// (recording/segments.h) in the directories under the root are touched:
// nothing else a user keeps there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>

namespace heapdrift::serve {

struct RetentionLimits {
  double max_age_seconds = 7 * 86400.0;
  uint64_t max_bytes = uint64_t{1} << 30;
};

struct RetentionResult {
  uint64_t kept_bytes = 0;
  uint64_t deleted_segments = 0;
};

RetentionResult EnforceRetention(const std::filesystem::path& root, const RetentionLimits& limits,
                                 const std::set<std::filesystem::path>& being_written,
                                 double now_unix_seconds);

}  // namespace heapdrift::serve
