#include "segment_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "segments.h"

namespace heapdrift::serve {

std::string FrameRecord(const google::protobuf::MessageLite& message) {
  std::string payload = message.SerializeAsString();
  std::string record;
  uint64_t length = payload.size();
  do {
    uint8_t byte = length & 0x7f;
    length >>= 7;
    record.push_back(static_cast<char>(byte | (length != 0 ? 0x80 : 0)));
  } while (length != 0);
  return record + payload;
}

SegmentWriter::SegmentWriter(std::filesystem::path directory, uint64_t max_bytes,
                             double max_seconds)
    : directory_(std::move(directory)), max_bytes_(max_bytes), max_seconds_(max_seconds) {}

SegmentWriter::~SegmentWriter() { Close(); }

void SegmentWriter::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  current_.clear();
}

bool SegmentWriter::NeedsNewSegment(double now_seconds) const {
  return fd_ < 0 || written_ >= max_bytes_ || now_seconds - started_ >= max_seconds_;
}

bool SegmentWriter::Begin(const proto::Header& header, const proto::Snapshot& whole_state,
                          double now_seconds, std::string* error) {
  Close();
  std::error_code ignored;
  std::filesystem::create_directories(directory_, ignored);
  std::vector<SegmentFile> existing = ListSegments(directory_);
  uint64_t index = existing.empty() ? 1 : existing.back().index + 1;
  current_ = directory_ / SegmentName(index);
  // O_EXCL: never over a file that is there (another daemon's, or a user's).
  fd_ = open(current_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    *error = "cannot create " + current_.string() + ": " + std::strerror(errno);
    current_.clear();
    return false;
  }
  written_ = 0;
  started_ = now_seconds;
  return WriteRecord(FrameRecord(header), error) && WriteRecord(FrameRecord(whole_state), error);
}

bool SegmentWriter::Append(const std::string& record, std::string* error) {
  return WriteRecord(record, error);
}

bool SegmentWriter::WriteRecord(const std::string& bytes, std::string* error) {
  const char* data = bytes.data();
  size_t size = bytes.size();
  while (size > 0) {
    ssize_t written = write(fd_, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      *error = "cannot write " + current_.string() + ": " + std::strerror(errno);
      Close();
      return false;
    }
    data += written;
    size -= static_cast<size_t>(written);
    written_ += static_cast<uint64_t>(written);
  }
  return true;
}

}  // namespace heapdrift::serve
