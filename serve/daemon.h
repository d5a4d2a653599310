// `heapdrift serve`: agents of any number of processes stream to one Unix
// socket; each process's stream is kept as segments under the directory
// (segment_writer.h) within the retention limits (retention.h), and its
// recent window is analysed for the HTTP endpoints (http_api.h). The agent
// loop runs on the calling thread, HTTP on threads of its own.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "monitored_process.h"
#include "prometheus_text.h"
#include "retention.h"

namespace heapdrift::serve {

struct ServeSettings {
  std::string socket_path;
  gid_t socket_group = static_cast<gid_t>(-1);  // -1: owner-only
  std::string http_host = "127.0.0.1";
  int http_port = 9464;
  std::filesystem::path directory;
  RetentionLimits retention;
  MonitorSettings monitor;
  size_t max_series = 2000;  // call-site series per scrape, all processes
};

class Daemon {
 public:
  explicit Daemon(ServeSettings settings);
  ~Daemon();

  // Listens (socket and HTTP) and serves until `stop` is set. False with
  // `error` set if it cannot start.
  bool Run(const std::atomic<bool>& stop, std::string* error);

  // What the HTTP endpoints serve.
  std::string MetricsText();
  // The process with this pid (0: the only one), or nullptr with `error` set.
  std::shared_ptr<MonitoredProcess> Find(pid_t pid, std::string* error);
  std::vector<std::shared_ptr<MonitoredProcess>> Processes();

 private:
  struct Connection;
  void Accept(int listener);
  void Read(Connection& connection);
  bool OnHeader(Connection& connection, const char* payload, size_t size);
  void OnSnapshot(Connection& connection, const char* record, size_t record_size,
                  const char* payload, size_t size);
  void Drop(Connection& connection, bool rejected);
  void Sweep(double now);

  ServeSettings settings_;
  symbolizer::SharedSymbolizer symbols_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::mutex mutex_;  // guards processes_ and the counters below
  std::map<std::string, std::shared_ptr<MonitoredProcess>> processes_;  // connected, by directory
  uint64_t connections_total_ = 0;
  uint64_t rejected_total_ = 0;
  uint64_t deleted_segments_total_ = 0;
  uint64_t stored_bytes_ = 0;
};

}  // namespace heapdrift::serve
