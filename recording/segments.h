// A recording kept as a directory of segments, as `heapdrift serve` keeps
// each monitored process: segment-000001.rec, segment-000002.rec, ... Each
// segment is a recording of its own (the process's header, then snapshots)
// whose first snapshot holds the whole state (every call site, stack and
// mapping), so the oldest segments can be deleted and what is left still
// reads as one recording. Segments are numbered in the order they were
// written; a reader concatenates them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "recording.h"

namespace heapdrift {

inline constexpr char kSegmentPrefix[] = "segment-";
inline constexpr char kSegmentSuffix[] = ".rec";

// "segment-000042.rec" for 42.
std::string SegmentName(uint64_t index);
// The index a segment file's name carries; false if it is not a segment's name.
bool ParseSegmentName(const std::string& name, uint64_t* index);

struct SegmentFile {
  uint64_t index = 0;
  std::filesystem::path path;
};
// The segments in `directory`, oldest first; empty if there are none (or it
// is not a directory).
std::vector<SegmentFile> ListSegments(const std::filesystem::path& directory);

// Reads the segments of `directory` as one recording. A segment that is not
// the same process's (another pid or start time) ends the reading with a
// warning. When the snapshots do not run on from sequence 0 without a gap
// (the oldest segments were deleted, a segment was cut short), they are
// numbered anew and their cohorts dropped: cohorts count from the first
// snapshot, which is gone.
ReadResult ReadSegmentedRecording(const std::filesystem::path& directory, Recording* recording);

}  // namespace heapdrift
