// A listening Unix stream socket for agents to connect to, reachable only by
// its owner (or a group given), which removes only itself: a socket file a
// dead listener left is replaced, one that someone still listens on is
// refused, and at the end the path is unlinked only while it still is the
// socket bound here (same device and inode): never a file found there, nor
// another listener's socket.
#pragma once

#include <sys/types.h>

#include <string>

namespace heapdrift {

// The pid of the process at the other end of a connected Unix socket, as
// the kernel says (SO_PEERCRED), not as the peer claims; 0 if unknown.
pid_t PeerPid(int socket);

class UnixListener {
 public:
  UnixListener() = default;
  ~UnixListener();
  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;

  // `group`: if not -1, the socket is made mode 0660 and owned by it, so
  // that its members' processes can connect; else 0600. False with `error`
  // set when it cannot listen.
  bool Listen(const std::string& path, gid_t group, std::string* error);
  // An accepted connection (close-on-exec), or -1 (EAGAIN, EINTR: try again).
  int Accept() const;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

}  // namespace heapdrift
