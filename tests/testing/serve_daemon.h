// `heapdrift serve` in the background for a test: its socket and directory
// in the test's temp dir, HTTP on a free loopback port (read from its first
// line), and GET for its endpoints.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "spawned_process.h"
#include "temp_dir.h"

namespace heapdrift::testing {

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
  std::string content_type;
};

HttpAnswer HttpGet(int port, const std::string& path);

class ServeDaemon {
 public:
  ServeDaemon(const TempDir& dir, const std::vector<std::string>& extra = {});
  // Starts it (again, after Kill or Stop): true once it answers /healthz.
  bool Start();
  void Kill(int signal);
  int Stop();  // SIGTERM, then its exit code
  std::string socket() const { return socket_; }
  std::string directory() const { return directory_; }
  int port() const { return port_; }
  HttpAnswer Get(const std::string& path) const { return HttpGet(port_, path); }
  std::string Log() const { return process_ ? process_->Log() : ""; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  // The process directories under --dir.
  std::vector<std::string> ProcessDirectories() const;

 private:
  std::string socket_, directory_, log_;
  std::vector<std::string> extra_;
  std::unique_ptr<SpawnedProcess> process_;
  int port_ = 0;
};

}  // namespace heapdrift::testing
