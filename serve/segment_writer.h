// Writes one monitored process's stream into its directory as segments
// (recording/segments.h): each segment starts with the header and the whole
// state, then the snapshots as they come, and a new segment begins when this
// one reaches `max_bytes` or `max_seconds`, so the oldest can be deleted and
// what is left reads as one recording. Records are written whole, with
// write(2) and no buffering of its own: a daemon killed at any moment leaves
// every complete snapshot on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "heapdrift.pb.h"

namespace heapdrift::serve {

class SegmentWriter {
 public:
  SegmentWriter(std::filesystem::path directory, uint64_t max_bytes, double max_seconds);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  bool NeedsNewSegment(double now_seconds) const;
  // Starts the next segment (after any already in the directory: a restarted
  // daemon continues) with `header` and `whole_state`.
  bool Begin(const proto::Header& header, const proto::Snapshot& whole_state, double now_seconds,
             std::string* error);
  // Appends one snapshot as received (a whole record, prefix included).
  bool Append(const std::string& record, std::string* error);
  void Close();

  // The segment being written, empty if none: retention never deletes it.
  const std::filesystem::path& current() const { return current_; }

 private:
  bool WriteRecord(const std::string& bytes, std::string* error);

  std::filesystem::path directory_;
  uint64_t max_bytes_;
  double max_seconds_;
  std::filesystem::path current_;
  int fd_ = -1;
  uint64_t written_ = 0;
  double started_ = 0;
};

// A message framed as a record of the recording stream (varint length, bytes).
std::string FrameRecord(const google::protobuf::MessageLite& message);

}  // namespace heapdrift::serve
