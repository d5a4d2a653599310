// The receiving end of `HEAPDRIFT_OUTPUT=unix:/path.sock`: a listening Unix
// socket (owner-only) that accepts agents and writes each one's stream to a
// recording file, whole records only, so a recording stopped at any moment
// (Ctrl-C, the agent killed) is complete up to its last record. Files are
// named as the agent names them (see OpenOutput): the first process of the
// recorded tree writes to the given path, every other process to PATH.<pid>.
//
// A peer is an agent once its first record is a recording header; a peer
// that closes before that, or sends anything else, is dropped and counted,
// and changes nothing. The receiver removes only the socket it created, and
// only while that path still is that socket (same device and inode): never
// a file it found there, nor another receiver's socket.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "recording.h"
#include "unix_listener.h"

namespace heapdrift {

class StreamReceiver {
 public:
  // Creates the socket. False with `error` set on failure (path in use by a
  // live listener, unwritable directory, ...).
  bool Listen(const std::string& socket_path, const std::string& output_path, std::string* error);
  // Receives one stream on `socket`, an agent already connected (a woken
  // dormant agent's connection), instead of listening. Takes ownership.
  void Adopt(int socket, const std::string& output_path);
  StreamReceiver();
  ~StreamReceiver();
  StreamReceiver(const StreamReceiver&) = delete;
  StreamReceiver& operator=(const StreamReceiver&) = delete;

  // Serves connections until every agent that connected has gone (after at
  // least one), `should_stop` returns true, or a file cannot be written. An
  // agent whose stream ends before its exit snapshot while its process runs
  // on may have exec'd: the session waits for that process (at most a few
  // seconds) so that its next program image can connect.
  // `on_progress` runs about every `progress_ms` with the first agent's
  // recording so far.
  bool Run(const std::function<bool()>& should_stop,
           const std::function<void(const Recording&)>& on_progress, int progress_ms,
           std::string* error);

  // Recordings written, first agent first.
  const std::vector<std::string>& outputs() const { return outputs_; }
  // Peers dropped for sending no recording, or something else.
  size_t dropped_peers() const { return dropped_peers_; }

 private:
  struct Connection;
  struct Departed;
  bool Accept(std::string* error);
  void AddConnection(int socket);
  bool OpenOutput(Connection& connection, std::string* error);
  void AwaitNextImage(pid_t pid);
  static uint64_t ResidentBytes(const Connection& connection);
  bool Consume(Connection& connection, std::string* error);

  std::unique_ptr<UnixListener> listener_;  // none for an adopted connection
  std::string output_path_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Departed> departed_;
  std::vector<std::string> outputs_;
  bool an_agent_came_ = false;
  size_t dropped_peers_ = 0;
};

}  // namespace heapdrift
