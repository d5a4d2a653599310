#include "sink.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "raw_log.h"
#include "recording_probe.h"

namespace heapdrift::agent {

bool ExpandPid(const char* pattern, int pid, char* out, size_t out_size) {
  size_t used = 0;
  for (const char* p = pattern; *p != '\0'; ++p) {
    if (p[0] == '%' && p[1] == 'p') {
      int written = snprintf(out + used, out_size - used, "%d", pid);
      if (written < 0 || static_cast<size_t>(written) >= out_size - used) return false;
      used += written;
      ++p;
      continue;
    }
    if (used + 1 >= out_size) return false;
    out[used++] = *p;
  }
  out[used] = '\0';
  return true;
}

bool Sink::Open(const char* output, ImageRole role, const ProcessIdentity& process,
                Voice voice) {
  fd_ = -1;
  failed_ = false;
  is_socket_ = false;
  voice_ = voice;
  if (strncmp(output, "unix:", 5) == 0) return OpenSocket(output + 5);
  return OpenFile(output, role, process);
}

bool Sink::Adopt(int socket) {
  failed_ = false;
  voice_ = kQuiet;
  is_socket_ = true;
  fd_ = socket;
  snprintf(description_, sizeof(description_), "the attach connection");
  int flags = fcntl(socket, F_GETFL);
  if (flags < 0 || fcntl(socket, F_SETFL, flags | O_NONBLOCK) != 0) {
    close(socket);
    fd_ = -1;
    return false;
  }
  RememberIdentity();
  return true;
}

bool Sink::Claim(const char* path, const ProcessIdentity& process) {
  fd_ = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ >= 0 || errno != EEXIST) return fd_ >= 0;
  int existing = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (existing >= 0 && IsUnfinishedRecordingOf(existing, process) && ftruncate(existing, 0) == 0) {
    fd_ = existing;
    return true;
  }
  if (existing >= 0) close(existing);
  errno = EEXIST;
  return false;
}

// Sets description_ to the name `output` gives this process: as given (with
// "%p" expanded), or, for a process other than the tree's first, with
// ".<pid>" appended unless "%p" already tells processes apart.
bool Sink::Name(const char* output, bool other_process, uint32_t pid) {
  if (!ExpandPid(output, static_cast<int>(pid), description_, sizeof(description_))) return false;
  if (!other_process || strstr(output, "%p") != nullptr) return true;
  size_t used = strlen(description_);
  int added = snprintf(description_ + used, sizeof(description_) - used, ".%u", pid);
  return added > 0 && static_cast<size_t>(added) < sizeof(description_) - used;
}

bool Sink::OpenFile(const char* output, ImageRole role, const ProcessIdentity& process) {
  // Names are built in description_ itself: no path-sized buffers on the
  // stack of a thread that may be small (a forked child starts here).
  bool named = false;
  if (role == ImageRole::kFirst) {
    named = Name(output, false, process.pid);
    if (named) fd_ = open(description_, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  } else if (role == ImageRole::kFirstProcessExecd && Name(output, false, process.pid) &&
             Claim(description_, process)) {
    named = true;  // the wrapper's file, now this image's
  } else if ((named = Name(output, true, process.pid))) {
    size_t base = strlen(description_);
    bool claimed = Claim(description_, process);
    for (int suffix = 1; !claimed && errno == EEXIST && suffix < 100; ++suffix) {
      if (snprintf(description_ + base, sizeof(description_) - base, ".%d", suffix) >=
          static_cast<int>(sizeof(description_) - base)) {
        break;
      }
      claimed = Claim(description_, process);
    }
  }
  if (!named) {
    LogLine("output path too long; profiling disabled");
    return false;
  }
  if (fd_ < 0) {
    LogLine("cannot write %s: %s; profiling disabled", description_, strerror(errno));
    return false;
  }
  RememberIdentity();
  return true;
}

bool Sink::OpenSocket(const char* path) {
  snprintf(description_, sizeof(description_), "unix:%s", path);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(address.sun_path)) {
    if (voice_ == kLoud) LogLine("socket path too long: %s; profiling disabled", path);
    errno = ENAMETOOLONG;
    return false;
  }
  strcpy(address.sun_path, path);
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    int error = errno;
    if (voice_ == kLoud) {
      LogLine("cannot connect to unix:%s: %s; profiling disabled", path, strerror(error));
    }
    if (fd_ >= 0) close(fd_);
    errno = error;
    fd_ = -1;
    return false;
  }
  is_socket_ = true;
  RememberIdentity();
  return true;
}

void Sink::Fail(const char* what, int error) {
  failed_ = true;
  if (voice_ == kQuiet) return;
  if (is_socket_) {
    LogLine("receiver at %s went away (%s); the program continues, heapdrift stops recording",
            description_, strerror(error));
  } else {
    LogLine("%s %s failed (%s); the program continues, heapdrift stops recording", what,
            description_, strerror(error));
  }
}

void Sink::RememberIdentity() {
  struct stat opened {};
  if (fstat(fd_, &opened) == 0) {
    device_ = opened.st_dev;
    inode_ = opened.st_ino;
  }
}

bool Sink::StillOurs() const {
  struct stat now {};
  return fd_ >= 0 && fstat(fd_, &now) == 0 && now.st_dev == device_ && now.st_ino == inode_;
}

void Sink::Close() {
  if (StillOurs()) close(fd_);
  fd_ = -1;
}

bool Sink::Write(const uint8_t* data, size_t size, int timeout_ms) {
  if (!healthy()) return false;
  if (!StillOurs()) {
    fd_ = -1;
    failed_ = true;
    if (voice_ == kLoud) {
      LogLine("the program closed the descriptor of %s; the program continues, heapdrift stops "
              "recording", description_);
    }
    return false;
  }
  while (size > 0) {
    ssize_t written = is_socket_ ? send(fd_, data, size, MSG_NOSIGNAL) : write(fd_, data, size);
    if (written > 0) {
      data += written;
      size -= static_cast<size_t>(written);
      continue;
    }
    if (written < 0 && errno == EINTR) continue;
    if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd waiting{fd_, POLLOUT, 0};
      if (poll(&waiting, 1, timeout_ms) > 0) continue;
      Fail("writing to", ETIMEDOUT);
      return false;
    }
    Fail("writing", written < 0 ? errno : EIO);
    return false;
  }
  return true;
}

}  // namespace heapdrift::agent
