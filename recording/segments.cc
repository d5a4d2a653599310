#include "segments.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace heapdrift {
namespace {

bool SameMapping(const proto::Mapping& a, const proto::Mapping& b) {
  return a.start() == b.start() && a.limit() == b.limit() && a.path() == b.path() &&
         a.file_offset() == b.file_offset();
}

bool SameProcess(const proto::Header& a, const proto::Header& b) {
  return a.pid() == b.pid() && a.process_start_ticks() == b.process_start_ticks() &&
         a.executable() == b.executable();
}

}  // namespace

std::string SegmentName(uint64_t index) {
  char name[64];
  std::snprintf(name, sizeof(name), "%s%06" PRIu64 "%s", kSegmentPrefix, index, kSegmentSuffix);
  return name;
}

bool ParseSegmentName(const std::string& name, uint64_t* index) {
  const size_t prefix = sizeof(kSegmentPrefix) - 1, suffix = sizeof(kSegmentSuffix) - 1;
  if (name.size() <= prefix + suffix || name.compare(0, prefix, kSegmentPrefix) != 0 ||
      name.compare(name.size() - suffix, suffix, kSegmentSuffix) != 0) {
    return false;
  }
  std::string digits = name.substr(prefix, name.size() - prefix - suffix);
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  *index = std::stoull(digits);
  return true;
}

std::vector<SegmentFile> ListSegments(const std::filesystem::path& directory) {
  std::vector<SegmentFile> segments;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    uint64_t index = 0;
    if (entry.is_regular_file(error) && ParseSegmentName(entry.path().filename(), &index)) {
      segments.push_back({index, entry.path()});
    }
  }
  std::sort(segments.begin(), segments.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.index < b.index; });
  return segments;
}

ReadResult ReadSegmentedRecording(const std::filesystem::path& directory, Recording* recording) {
  ReadResult result;
  std::vector<SegmentFile> segments = ListSegments(directory);
  if (segments.empty()) {
    result.status = ReadStatus::kNotRecording;
    result.message = directory.string() + " is a directory without recording segments";
    return result;
  }
  std::vector<uint64_t> written;  // each snapshot's sequence as the agent numbered it
  bool first = true;
  for (const SegmentFile& segment : segments) {
    std::ifstream file(segment.path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    Recording part;
    std::vector<uint64_t> part_sequences;
    ReadResult read = ParseRecording(data, segment.path.string(), &part, &part_sequences);
    if (read.status != ReadStatus::kOk) {
      if (first) return read;
      result.warnings.push_back({ReadWarningKind::kCorruptTail,
                                 read.message + "; using the segments before it"});
      break;
    }
    if (!first && !SameProcess(part.header, recording->header)) {
      result.warnings.push_back({ReadWarningKind::kCorruptTail,
                                 segment.path.string() +
                                     " is another process's segment; using the segments before it"});
      break;
    }
    for (ReadWarning& warning : read.warnings) {
      // Only the last segment may lack its exit snapshot: the others ended
      // with a rotation or a reconnection.
      if (warning.kind == ReadWarningKind::kNoFinalSnapshot && &segment != &segments.back()) {
        continue;
      }
      if (warning.kind == ReadWarningKind::kTruncated && &segment != &segments.back()) {
        warning.text = segment.path.string() +
                       " ends inside a record (the daemon stopped while writing it); the next "
                       "segment starts from a whole state again";
      }
      result.warnings.push_back(std::move(warning));
    }
    if (first) {
      recording->header = part.header;
      first = false;
    }
    recording->truncated = part.truncated;
    for (auto& [id, frames] : part.stacks) recording->stacks[id] = std::move(frames);
    for (proto::Mapping& mapping : part.mappings) {
      bool known = std::any_of(recording->mappings.begin(), recording->mappings.end(),
                               [&](const proto::Mapping& m) { return SameMapping(m, mapping); });
      if (!known) recording->mappings.push_back(std::move(mapping));
    }
    for (proto::Snapshot& snapshot : part.snapshots) {
      snapshot.set_sequence(recording->snapshots.size());
      recording->snapshots.push_back(std::move(snapshot));
    }
    written.insert(written.end(), part_sequences.begin(), part_sequences.end());
  }
  bool from_zero_without_gaps = true;
  for (size_t i = 0; i < written.size(); ++i) from_zero_without_gaps &= written[i] == i;
  if (!from_zero_without_gaps) {
    recording->header.set_cohorts(0);
    for (proto::Snapshot& snapshot : recording->snapshots) {
      for (proto::CallSite& site : *snapshot.mutable_sites()) site.clear_cohorts();
    }
  }
  return result;
}

}  // namespace heapdrift
