#include "recording.h"

#include "segments.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace heapdrift {
namespace {

enum class Next { kRecord, kEnd, kTruncated, kTooLarge };

// Walks the length-delimited records of a recording held in memory.
class RecordCursor {
 public:
  explicit RecordCursor(const std::string& data) : data_(data) {}

  Next Read(const char** record, size_t* size) {
    if (offset_ == data_.size()) return Next::kEnd;
    uint64_t length = 0;
    int prefix = ParseRecordPrefix(data_.data() + offset_, data_.size() - offset_, &length);
    if (prefix == 0) return Next::kTruncated;
    if (prefix < 0) return Next::kTooLarge;
    offset_ += static_cast<size_t>(prefix);
    if (length > data_.size() - offset_) return Next::kTruncated;
    *record = data_.data() + offset_;
    *size = length;
    offset_ += length;
    return Next::kRecord;
  }

 private:
  const std::string& data_;
  size_t offset_ = 0;
};

bool ReadWholeFile(const std::string& path, std::string* data, std::string* error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  char chunk[1 << 16];
  for (;;) {
    ssize_t got = read(fd, chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      *error = "cannot read " + path + ": " + std::strerror(errno);
      close(fd);
      return false;
    }
    if (got == 0) break;
    data->append(chunk, static_cast<size_t>(got));
  }
  close(fd);
  return true;
}

}  // namespace

int ParseRecordPrefix(const char* data, size_t size, uint64_t* length) {
  *length = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (i == size) return 0;
    auto byte = static_cast<uint8_t>(data[i]);
    *length |= uint64_t{byte & 0x7fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      return *length > format::kMaxRecordBytes ? -1 : static_cast<int>(i + 1);
    }
  }
  return -1;
}

bool WithinFormatLimits(const proto::Snapshot& snapshot) {
  for (const auto& site : snapshot.sites()) {
    if (site.stack_id() >= format::kMaxStackIds) return false;
  }
  for (const auto& stack : snapshot.stacks()) {
    if (stack.id() >= format::kMaxStackIds ||
        static_cast<uint32_t>(stack.frames_size()) > format::kMaxStackDepth) return false;
  }
  return true;
}

bool AppendSnapshot(Recording* recording, proto::Snapshot snapshot) {
  if (snapshot.sequence() != recording->snapshots.size() || !WithinFormatLimits(snapshot)) {
    return false;
  }
  for (auto& stack : *snapshot.mutable_stacks()) {
    recording->stacks[stack.id()].assign(stack.frames().begin(), stack.frames().end());
  }
  for (auto& mapping : *snapshot.mutable_mappings()) {
    recording->mappings.push_back(std::move(mapping));
  }
  snapshot.clear_stacks();
  snapshot.clear_mappings();
  recording->snapshots.push_back(std::move(snapshot));
  return true;
}

const proto::Mapping* Recording::MappingFor(uint64_t address) const {
  for (auto it = mappings.rbegin(); it != mappings.rend(); ++it) {
    if (address >= it->start() && address < it->limit()) return &*it;
  }
  return nullptr;
}

std::string Recording::StartNote() const {
  if (header.attached()) {
    return "attached to the running process: growth is counted from the attach (blocks "
           "allocated before it are not in the recording)";
  }
  if (!header.forked()) return "";
  return "forked from pid " + std::to_string(header.parent_pid()) +
         " without exec: recorded from the fork on (inherited blocks are not in it)";
}

double Recording::DurationSeconds() const {
  if (snapshots.empty()) return 0;
  return static_cast<double>(snapshots.back().time_ns() - header.start_clock_ns()) / 1e9;
}

ReadResult ReadRecording(const std::string& path, Recording* recording) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) return ReadSegmentedRecording(path, recording);
  std::string data;
  ReadResult result;
  if (!ReadWholeFile(path, &data, &result.message)) {
    result.status = ReadStatus::kCannotOpen;
    return result;
  }
  return ParseRecording(data, path, recording);
}

ReadResult ParseRecording(const std::string& data, const std::string& path, Recording* recording,
                          std::vector<uint64_t>* written_sequences) {
  ReadResult result;
  RecordCursor cursor(data);
  const char* record = nullptr;
  size_t size = 0;
  Next next = cursor.Read(&record, &size);
  if (next != Next::kRecord || !recording->header.ParseFromArray(record, static_cast<int>(size)) ||
      recording->header.magic() != format::kRecordingMagic) {
    result.status = ReadStatus::kNotRecording;
    result.message = path + " is not a heapdrift recording" +
                     (data.empty() ? " (empty file)" : "");
    return result;
  }
  if (recording->header.format_version() > kSupportedFormatVersion) {
    result.status = ReadStatus::kNewerVersion;
    result.message = path + " uses recording format " +
                     std::to_string(recording->header.format_version()) +
                     "; this heapdrift reads up to " + std::to_string(kSupportedFormatVersion) +
                     ": upgrade heapdrift";
    return result;
  }
  if (recording->header.cohorts() > kMaxCohorts) {
    result.status = ReadStatus::kCorrupt;
    result.message = path + " is corrupt: its header claims " +
                     std::to_string(recording->header.cohorts()) + " cohorts (at most " +
                     std::to_string(kMaxCohorts) + ")";
    return result;
  }
  for (;;) {
    next = cursor.Read(&record, &size);
    if (next == Next::kEnd) break;
    if (next == Next::kTruncated) {
      recording->truncated = true;
      result.warnings.push_back({ReadWarningKind::kTruncated,
                                 path + " is truncated after snapshot " +
                                     std::to_string(recording->snapshots.size()) +
                                     " (the process was killed or the disk filled); "
                                     "using what was recorded up to there"});
      break;
    }
    proto::Snapshot snapshot;
    bool parsed = next != Next::kTooLarge && snapshot.ParseFromArray(record, static_cast<int>(size));
    if (parsed && written_sequences != nullptr) {
      written_sequences->push_back(snapshot.sequence());
      snapshot.set_sequence(recording->snapshots.size());
    }
    if (!parsed || !AppendSnapshot(recording, std::move(snapshot))) {
      if (parsed && written_sequences != nullptr) written_sequences->pop_back();
      if (recording->snapshots.empty()) {
        result.status = ReadStatus::kCorrupt;
        result.message = path + " is corrupt: its first snapshot cannot be read";
        return result;
      }
      recording->truncated = true;
      result.warnings.push_back({ReadWarningKind::kCorruptTail,
                                 path + " is corrupt after snapshot " +
                                     std::to_string(recording->snapshots.size()) +
                                     "; using what was recorded up to there"});
      break;
    }
  }
  if (!recording->truncated &&
      (recording->snapshots.empty() || !recording->snapshots.back().final())) {
    result.warnings.push_back({ReadWarningKind::kNoFinalSnapshot,
                               path + " ends without a final snapshot (the process was "
                                      "killed, left with _exit, or is still running)"});
  }
  return result;
}

}  // namespace heapdrift
