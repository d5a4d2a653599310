// The receiving end of `HEAPDRIFT_OUTPUT=unix:/path.sock`: a listening Unix
// socket (owner-only) that accepts agents and writes each one's stream to a
// recording file, whole records only, so a recording stopped at any moment
// (Ctrl-C, the agent killed) is complete up to its last record. The first
// agent writes to the given path; agents that connect later (followed
// children) write to PATH.<pid>.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "recording.h"

namespace heapdrift::cli {

class StreamReceiver {
 public:
  // Creates the socket. False with `error` set on failure (path in use by a
  // live listener, unwritable directory, ...).
  bool Listen(const std::string& socket_path, const std::string& output_path, std::string* error);
  StreamReceiver();
  ~StreamReceiver();
  StreamReceiver(const StreamReceiver&) = delete;
  StreamReceiver& operator=(const StreamReceiver&) = delete;

  // Serves connections until every agent that connected has gone (after at
  // least one), `should_stop` returns true, or a file cannot be written.
  // `on_progress` runs about every `progress_ms` with the first agent's
  // recording so far.
  bool Run(const std::function<bool()>& should_stop,
           const std::function<void(const Recording&)>& on_progress, int progress_ms,
           std::string* error);

  // Recordings written, first agent first.
  const std::vector<std::string>& outputs() const { return outputs_; }

 private:
  struct Connection;
  bool Accept(std::string* error);
  bool Consume(Connection& connection, std::string* error);

  int listener_ = -1;
  std::string socket_path_;
  std::string output_path_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::string> outputs_;
  bool anyone_connected_ = false;
};

}  // namespace heapdrift::cli
