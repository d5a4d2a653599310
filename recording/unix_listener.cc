#include "unix_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace heapdrift {

pid_t PeerPid(int socket) {
  ucred peer{};
  socklen_t size = sizeof(peer);
  return getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &peer, &size) == 0 ? peer.pid : 0;
}

UnixListener::~UnixListener() {
  if (fd_ >= 0) close(fd_);
  struct stat now {};
  if (inode_ != 0 && lstat(path_.c_str(), &now) == 0 && S_ISSOCK(now.st_mode) &&
      now.st_dev == device_ && now.st_ino == inode_) {
    unlink(path_.c_str());
  }
}

bool UnixListener::Listen(const std::string& path, gid_t group, std::string* error) {
  path_ = path;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    *error = "socket path too long: " + path;
    return false;
  }
  std::strcpy(address.sun_path, path.c_str());
  // The liveness probe connects and closes at once, sending nothing: a
  // listener drops such a peer and goes on.
  struct stat existing {};
  if (lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      *error = path + " exists and is not a socket (remove it, or listen elsewhere)";
      return false;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool alive = connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(probe);
    if (alive) {
      *error = path + " is in use by another receiver";
      return false;
    }
    unlink(path.c_str());
  }
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  mode_t previous = umask(077);  // created owner-only; opened to the group below
  bool bound = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  umask(previous);
  struct stat ours {};
  if (bound && lstat(path.c_str(), &ours) == 0) {
    device_ = ours.st_dev;
    inode_ = ours.st_ino;
  }
  if (!bound || listen(fd_, 128) != 0) {
    *error = "cannot listen on " + path + ": " + std::strerror(errno);
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    return false;
  }
  if (group != static_cast<gid_t>(-1)) {
    if (chown(path.c_str(), static_cast<uid_t>(-1), group) != 0 || chmod(path.c_str(), 0660) != 0) {
      *error = "cannot give " + path + " to group " + std::to_string(group) + ": " +
               std::strerror(errno);
      return false;
    }
  } else {
    chmod(path.c_str(), 0600);
  }
  return true;
}

int UnixListener::Accept() const { return accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC); }

}  // namespace heapdrift
