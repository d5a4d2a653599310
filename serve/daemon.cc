#include "daemon.h"

#include <malloc.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <set>
#include <thread>

#include <httplib.h>

#include "http_api.h"
#include "recording.h"
#include "segment_writer.h"
#include "unix_listener.h"

namespace heapdrift::serve {
namespace {

// A snapshot is a few KiB to a few MiB; a length beyond this is a flood or
// garbage, not an agent, and the daemon will not buffer it.
constexpr uint64_t kMaxRecordBytes = 64u << 20;
constexpr size_t kReadChunk = 1 << 16;
constexpr double kSweepSeconds = 5;

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The process's name and start time as the kernel has them, not as its
// stream claims.
bool ReadProcessStat(pid_t pid, std::string* comm, uint64_t* start_ticks) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t open = stat.find('('), close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  *comm = stat.substr(open + 1, close - open - 1);
  // Fields after the name: state is field 3, starttime field 22.
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  for (int index = 3; index <= 22 && rest >> field; ++index) {
    if (index == 22) {
      *start_ticks = std::strtoull(field.c_str(), nullptr, 10);
      return true;
    }
  }
  return false;
}

std::string SafeName(const std::string& name) {
  std::string safe;
  for (char c : name) safe += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ? c : '_';
  return safe.empty() || safe[0] == '.' ? "_" + safe : safe;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

struct Daemon::Connection {
  int socket = -1;
  pid_t peer = 0;
  std::string pending;
  bool header_seen = false;
  proto::Header header;
  std::string key;  // the process's directory name
  std::shared_ptr<MonitoredProcess> process;
  std::unique_ptr<SegmentWriter> writer;
  bool reported_write_error = false;
};

Daemon::Daemon(ServeSettings settings) : settings_(std::move(settings)) {}

Daemon::~Daemon() {
  for (auto& connection : connections_) close(connection->socket);
}

std::vector<std::shared_ptr<MonitoredProcess>> Daemon::Processes() {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<MonitoredProcess>> processes;
  for (const auto& [key, process] : processes_) processes.push_back(process);
  return processes;
}

std::shared_ptr<MonitoredProcess> Daemon::Find(pid_t pid, std::string* error) {
  std::vector<std::shared_ptr<MonitoredProcess>> processes = Processes();
  if (pid == 0 && processes.size() == 1) return processes.front();
  std::string monitored;
  for (const auto& process : processes) {
    if (process->identity().pid == pid) return process;
    monitored += fmt::format("{}{} ({})", monitored.empty() ? "" : ", ", process->identity().pid,
                             process->identity().comm);
  }
  *error = pid == 0 ? "give ?pid=N; monitored now: " + (monitored.empty() ? "none" : monitored)
                    : "no monitored process has pid " + std::to_string(pid) +
                          "; monitored now: " + (monitored.empty() ? "none" : monitored);
  return nullptr;
}

std::string Daemon::MetricsText() {
  double now = UnixNow();
  std::vector<ProcessMetrics> metrics;
  for (const auto& process : Processes()) metrics.push_back(process->Metrics(now));
  std::sort(metrics.begin(), metrics.end(),
            [](const ProcessMetrics& a, const ProcessMetrics& b) { return a.pid < b.pid; });
  DaemonMetrics daemon;
  // The series cap: processes beyond it keep their process-level series and
  // the `other` bucket, which then holds all their sites.
  size_t series = 0;
  for (ProcessMetrics& process : metrics) {
    if (series + process.sites.size() <= settings_.max_series) {
      series += process.sites.size();
      continue;
    }
    SiteMetrics& other = process.sites.back();
    for (size_t i = 0; i + 1 < process.sites.size(); ++i) {
      other.live_bytes += process.sites[i].live_bytes;
      other.live_objects += process.sites[i].live_objects;
      other.growth_bytes_per_second += process.sites[i].growth_bytes_per_second;
    }
    daemon.capped_site_series += process.sites.size() - 1;
    process.sites.erase(process.sites.begin(), process.sites.end() - 1);
    series += 1;
  }
  {
    std::lock_guard lock(mutex_);
    daemon.agents = processes_.size();
    daemon.connections_total = connections_total_;
    daemon.rejected_connections_total = rejected_total_;
    daemon.stored_bytes = stored_bytes_;
    daemon.deleted_segments_total = deleted_segments_total_;
  }
  return PrometheusText(metrics, daemon, settings_.monitor.window_seconds);
}

void Daemon::Accept(int listener) {
  int socket = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (socket < 0) return;
  auto connection = std::make_unique<Connection>();
  connection->socket = socket;
  connection->peer = PeerPid(socket);
  connections_.push_back(std::move(connection));
  std::lock_guard lock(mutex_);
  ++connections_total_;
}

bool Daemon::OnHeader(Connection& connection, const char* payload, size_t size) {
  proto::Header& header = connection.header;
  if (!header.ParseFromArray(payload, static_cast<int>(size)) ||
      header.magic() != format::kRecordingMagic ||
      header.format_version() > kSupportedFormatVersion || header.cohorts() > kMaxCohorts) {
    return false;
  }
  ProcessIdentity identity;
  identity.pid = connection.peer;
  if (!ReadProcessStat(connection.peer, &identity.comm, &identity.start_ticks)) {
    identity.comm = BaseName(header.executable()).substr(0, 15);
  }
  identity.service_name =
      header.service_name().empty() ? BaseName(header.executable()) : header.service_name();
  // One directory per process and recording session: a restarted daemon,
  // or an agent that reconnects, continues the same one.
  connection.key = fmt::format("{}-{}-{}-{}", SafeName(identity.comm), identity.pid,
                               identity.start_ticks, header.start_time_unix_ns() / 1000000);
  std::lock_guard lock(mutex_);
  if (processes_.count(connection.key) != 0) return false;  // a second stream of one session
  connection.process =
      std::make_shared<MonitoredProcess>(std::move(identity), header, settings_.monitor, symbols_);
  processes_[connection.key] = connection.process;
  // Segments rotate at a sixteenth of the disk limit, so retention deletes
  // in small steps, and at an eighth of the retention time.
  uint64_t segment_bytes = std::clamp<uint64_t>(settings_.retention.max_bytes / 16, 16 << 10, 64 << 20);
  double segment_seconds = std::max(60.0, settings_.retention.max_age_seconds / 8);
  connection.writer = std::make_unique<SegmentWriter>(settings_.directory / connection.key,
                                                      segment_bytes, segment_seconds);
  connection.header_seen = true;
  return true;
}

void Daemon::OnSnapshot(Connection& connection, const char* record, size_t record_size,
                        const char* payload, size_t size) {
  proto::Snapshot snapshot;
  double now = UnixNow();
  if (!snapshot.ParseFromArray(payload, static_cast<int>(size)) ||
      !connection.process->Add(std::move(snapshot), now)) {
    Drop(connection, true);
    return;
  }
  std::string error;
  bool written = connection.writer->NeedsNewSegment(now)
                     ? connection.writer->Begin(connection.header,
                                                connection.process->WholeState(), now, &error)
                     : connection.writer->Append(std::string(record, record_size), &error);
  if (!written && !connection.reported_write_error) {
    std::fprintf(stderr, "heapdrift serve: %s; monitoring of pid %d goes on\n", error.c_str(),
                 connection.peer);
    connection.reported_write_error = true;
  }
}

void Daemon::Drop(Connection& connection, bool rejected) {
  if (connection.socket >= 0) close(connection.socket);
  connection.socket = -1;
  if (connection.writer) connection.writer->Close();
  std::lock_guard lock(mutex_);
  if (rejected || !connection.header_seen) ++rejected_total_;
  auto found = processes_.find(connection.key);
  if (connection.process && found != processes_.end() && found->second == connection.process) {
    processes_.erase(found);
  }
}

void Daemon::Read(Connection& connection) {
  char buffer[kReadChunk];
  ssize_t got = read(connection.socket, buffer, sizeof(buffer));
  if (got < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (got <= 0) {
    Drop(connection, false);
    return;
  }
  connection.pending.append(buffer, static_cast<size_t>(got));
  size_t offset = 0;
  while (connection.socket >= 0) {
    uint64_t length = 0;
    const char* start = connection.pending.data() + offset;
    size_t available = connection.pending.size() - offset;
    int prefix = ParseRecordPrefix(start, available, &length);
    if (prefix < 0 || length > kMaxRecordBytes) {
      Drop(connection, true);
      return;
    }
    if (prefix == 0 || length > available - static_cast<size_t>(prefix)) break;
    const char* payload = start + prefix;
    size_t record_size = static_cast<size_t>(prefix) + length;
    if (!connection.header_seen) {
      if (!OnHeader(connection, payload, length)) {
        Drop(connection, true);
        return;
      }
    } else {
      OnSnapshot(connection, start, record_size, payload, length);
    }
    offset += record_size;
  }
  if (connection.socket >= 0) connection.pending.erase(0, offset);
}

void Daemon::Sweep(double now) {
  std::set<std::filesystem::path> being_written;
  for (const auto& connection : connections_) {
    if (connection->writer && !connection->writer->current().empty()) {
      being_written.insert(connection->writer->current());
    }
  }
  RetentionResult result = EnforceRetention(settings_.directory, settings_.retention,
                                            being_written, now);
  malloc_trim(0);  // what departed processes' windows and symbols held goes back
  std::lock_guard lock(mutex_);
  stored_bytes_ = result.kept_bytes;
  deleted_segments_total_ += result.deleted_segments;
}

bool Daemon::Run(const std::atomic<bool>& stop, std::string* error) {
  // Analyses run on HTTP threads, each of which would get a malloc arena of
  // its own and keep what a departed process's analysis freed: measured, 80
  // short-lived processes left 144 MiB resident with glibc's default arenas,
  // 37 MiB with one. Two keep the agent loop and HTTP apart.
  mallopt(M_ARENA_MAX, 2);
  // The socket and the port first, the directory last: a failure removes
  // the socket again, so a daemon that cannot start leaves nothing behind.
  UnixListener listener;
  if (!listener.Listen(settings_.socket_path, settings_.socket_group, error)) return false;
  httplib::Server http;
  RegisterEndpoints(http, *this);
  // Port 0: any free one (tests); the line below tells which.
  int port = settings_.http_port == 0 ? http.bind_to_any_port(settings_.http_host)
             : http.bind_to_port(settings_.http_host, settings_.http_port) ? settings_.http_port
                                                                           : -1;
  if (port < 0) {
    *error = fmt::format("cannot listen on http://{}:{}", settings_.http_host,
                         settings_.http_port);
    return false;
  }
  std::error_code created;
  std::filesystem::create_directories(settings_.directory, created);
  if (created) {
    *error = "cannot create " + settings_.directory.string() + ": " + created.message();
    return false;
  }
  std::fprintf(stderr, "heapdrift serve: agents on unix:%s, http://%s:%d, recordings in %s\n",
               settings_.socket_path.c_str(), settings_.http_host.c_str(), port,
               settings_.directory.c_str());
  std::thread http_thread([&http] { http.listen_after_bind(); });
  double next_sweep = 0;
  while (!stop.load()) {
    std::vector<pollfd> fds = {{listener.fd(), POLLIN, 0}};
    for (const auto& connection : connections_) fds.push_back({connection->socket, POLLIN, 0});
    int ready = poll(fds.data(), fds.size(), 200);
    for (size_t i = 1; ready > 0 && i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) Read(*connections_[i - 1]);
    }
    std::erase_if(connections_, [](const auto& connection) { return connection->socket < 0; });
    if (ready > 0 && (fds[0].revents & POLLIN) != 0) Accept(listener.fd());
    double now = UnixNow();
    if (now >= next_sweep) {
      Sweep(now);
      next_sweep = now + kSweepSeconds;
    }
  }
  http.stop();
  http_thread.join();
  for (auto& connection : connections_) Drop(*connection, false);
  connections_.clear();
  return true;
}

}  // namespace heapdrift::serve
