#include "recording_probe.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "snapshot_encoder.h"

namespace heapdrift::agent {
namespace {

// Base-128 varint at data[*at], at most `end`; false if cut or too long.
bool ReadVarint(const uint8_t* data, size_t end, size_t* at, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64 && *at < end; shift += 7) {
    uint8_t byte = data[(*at)++];
    *value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

bool IsUnfinishedRecordingOf(int fd, const ProcessIdentity& process) {
  if (process.start_ticks == 0) return false;  // cannot tell this process from another
  // The agent writes magic, version, pid, root pid and start ticks first (see
  // EncodeHeader), so they fit here whatever the command line's length.
  uint8_t data[512];
  ssize_t got = pread(fd, data, sizeof(data), 0);
  if (got <= 0) return false;
  size_t size = static_cast<size_t>(got), at = 0;
  uint64_t header_length = 0;
  if (!ReadVarint(data, size, &at, &header_length)) return false;
  size_t header_start = at;
  size_t end = header_length < size - at ? at + header_length : size;
  bool magic = false;
  uint64_t pid = 0, start_ticks = 0;
  while (at < end) {
    uint64_t tag = 0, value = 0;
    if (!ReadVarint(data, end, &at, &tag)) break;
    if ((tag & 7) == 0) {
      if (!ReadVarint(data, end, &at, &value)) break;
      if (tag >> 3 == kHeaderPid) pid = value;
      if (tag >> 3 == kHeaderProcessStartTicks) start_ticks = value;
    } else if ((tag & 7) == 2) {
      if (!ReadVarint(data, end, &at, &value) || value > end - at) break;
      if (tag >> 3 == kHeaderMagic) {
        magic = value == sizeof(kRecordingMagic) - 1 &&
                memcmp(data + at, kRecordingMagic, value) == 0;
      }
      at += value;
    } else {
      break;
    }
  }
  if (!magic || pid != process.pid || start_ticks != process.start_ticks) return false;
  // A snapshot is complete when its whole record is in the file.
  struct stat file {};
  if (fstat(fd, &file) != 0) return false;
  uint64_t snapshot_at = header_start + header_length;
  uint8_t prefix[10];
  ssize_t prefix_size = pread(fd, prefix, sizeof(prefix), static_cast<off_t>(snapshot_at));
  size_t prefix_at = 0;
  uint64_t snapshot_length = 0;
  if (prefix_size <= 0 ||
      !ReadVarint(prefix, static_cast<size_t>(prefix_size), &prefix_at, &snapshot_length)) {
    return true;  // the header alone, or a snapshot cut inside its length
  }
  return snapshot_at + prefix_at + snapshot_length > static_cast<uint64_t>(file.st_size);
}

}  // namespace heapdrift::agent
