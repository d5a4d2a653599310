// A recording loaded into memory (proto/heapdrift.proto), validated.
//
// Snapshots are kept as the agent wrote them, incremental: each holds the call
// sites that changed. Readers that need a site's full time series walk the
// snapshots in order (see SiteSeries in the analysis code).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "heapdrift.pb.h"
#include "recording_format.h"

namespace heapdrift {

inline constexpr uint32_t kSupportedFormatVersion = format::kFormatVersion;
using format::kMaxCohorts;

struct Recording {
  proto::Header header;
  std::vector<proto::Snapshot> snapshots;  // stacks/mappings moved out, see below
  std::map<uint32_t, std::vector<uint64_t>> stacks;  // id -> return addresses
  std::vector<proto::Mapping> mappings;              // in order of appearance
  bool truncated = false;  // the file ended inside a record; the rest was read

  // Mapping holding `address`, the latest one loaded there; nullptr if none.
  const proto::Mapping* MappingFor(uint64_t address) const;
  double DurationSeconds() const;
  // Where the recording started, when not at the program's start: "attached
  // to the running process ..." or "forked from pid N ..."; "" otherwise.
  std::string StartNote() const;
};

enum class ReadStatus {
  kOk,
  kCannotOpen,     // missing or unreadable file
  kNotRecording,   // empty, wrong magic, or garbage where the header should be
  kNewerVersion,   // written by a newer heapdrift
  kCorrupt,        // a record that does not parse, after a valid header
};

// A recording read, but not whole: what a reader should know.
enum class ReadWarningKind {
  kTruncated,        // the file ends inside a record (killed, disk full)
  kCorruptTail,      // a record after valid ones does not parse
  kNoFinalSnapshot,  // the process did not exit normally, or still runs
};

struct ReadWarning {
  ReadWarningKind kind;
  std::string text;  // one line, for the user
};

struct ReadResult {
  ReadStatus status = ReadStatus::kOk;
  std::string message;  // one line, for the user, when status != kOk
  std::vector<ReadWarning> warnings;
};

// Reads `path` (a file, or the directory of a segmented recording, see
// segments.h). A recording cut short (process killed, disk full) is not an
// error: everything up to the last complete snapshot is returned with a
// warning. A corrupt record after valid ones also keeps what came before.
ReadResult ReadRecording(const std::string& path, Recording* recording);

// The same, from bytes in memory; `name` is used in messages.
// With `written_sequences`: a segment's snapshots start wherever the process was (see
// segments.h); they are numbered 0, 1, ... as read, and their numbers as
// written go to *written_sequences. Otherwise a number out of sequence is
// corruption.
ReadResult ParseRecording(const std::string& data, const std::string& name, Recording* recording,
                          std::vector<uint64_t>* written_sequences = nullptr);

// Whether stack ids and depths lie within the format's limits (what a
// reader may allocate for).
bool WithinFormatLimits(const proto::Snapshot& snapshot);

// Folds one snapshot into `recording`: stacks and mappings move to the
// recording's maps. False if it does not follow the previous one in sequence.
bool AppendSnapshot(Recording* recording, proto::Snapshot snapshot);

// Framing of the recording stream: the length of the record that starts at
// `data` (a varint byte count, then that many bytes). Returns the bytes the
// prefix took and sets *length, or 0 if `size` bytes do not hold the whole
// prefix yet; -1 if the prefix is malformed or absurd.
int ParseRecordPrefix(const char* data, size_t size, uint64_t* length);

}  // namespace heapdrift
