// Where the recording goes: a file, or a Unix stream socket with a receiver
// (`heapdrift record`) on the other end. Used only by the collector thread and
// by the exit path. After the first failure (disk full, receiver gone) the
// sink says so once on stderr and turns into a no-op, so the host runs on.
#pragma once

#include <cstddef>
#include <cstdint>

#include "options.h"

namespace heapdrift::agent {

class Sink {
 public:
  // Opens `output` (a path, or "unix:/path.sock"), expanding "%p" to the pid.
  // Returns false, having logged why, when it cannot. The file's name follows
  // `role` (a receiver names streams the same way):
  //  - the first process of the tree writes OUTPUT, replacing what is there;
  //  - every other process writes OUTPUT.<pid> (or OUTPUT's own "%p"
  //    expansion), never over an existing file: ".1", ".2", ... instead;
  //  - a later program image of a process takes over the file its previous
  //    image began if that one exec'd before its first snapshot (a wrapper:
  //    env, nice, a start script), else writes as any other process.
  // kQuiet: failures are not logged (a woken agent's peer reports them; the
  // host's stderr is not for it).
  enum Voice { kLoud, kQuiet };
  bool Open(const char* output, ImageRole role, const ProcessIdentity& process,
            Voice voice = kLoud);

  // Writes to `socket`, a connected stream socket it now owns; quiet.
  bool Adopt(int socket);

  // Writes all bytes or fails; a socket write waits at most `timeout_ms` for
  // a stalled receiver before giving up.
  bool Write(const uint8_t* data, size_t size, int timeout_ms = 1000);

  // Closes without a word; a forked child drops the parent's stream this way,
  // so a receiver still sees the parent's end when the parent exits.
  void Close();

  // Whether the descriptor is still the one opened here. A program may close
  // every descriptor it did not open (daemons do) and get the number back for
  // a file of its own: the sink must never write to or close that one.
  bool StillOurs() const;

  bool healthy() const { return fd_ >= 0 && !failed_; }
  const char* description() const { return description_; }

 private:
  // Claims `path`: a new file, or one an earlier image of `process` left
  // without a snapshot. False (errno set) otherwise.
  bool Claim(const char* path, const ProcessIdentity& process);
  bool OpenFile(const char* output, ImageRole role, const ProcessIdentity& process);
  bool Name(const char* output, bool other_process, uint32_t pid);
  bool OpenSocket(const char* path);
  void Fail(const char* what, int error);

  void RememberIdentity();

  int fd_ = -1;
  uint64_t device_ = 0, inode_ = 0;
  bool is_socket_ = false;
  bool failed_ = false;
  Voice voice_ = kLoud;
  char description_[4200] = "";
};

// Expands "%p" in `pattern` to `pid` into `out`; false if it does not fit.
bool ExpandPid(const char* pattern, int pid, char* out, size_t out_size);

}  // namespace heapdrift::agent
