#include "stream_receiver.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace heapdrift {
namespace {

uint64_t NowMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

// How long a process whose stream ended early may take to connect again with
// its next program image (loading a program takes milliseconds).
constexpr uint64_t kNextImageWaitMs = 5000;

int OpenPidfd(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

}  // namespace

struct StreamReceiver::Connection {
  int socket = -1;
  pid_t peer = 0;  // from the kernel (SO_PEERCRED), not from what the peer says
  int file = -1;   // opened at the first snapshot
  std::string path;
  std::string header;   // the header record, written when the file is opened
  std::string pending;  // bytes of a record not yet complete
  Recording recording;  // parsed as it arrives (for --live)
  bool header_seen = false;
  bool first_process = false;  // of the recorded tree: gets the output path itself
  bool final_seen = false;     // the agent's exit snapshot came
  bool broken = false;  // sent something that is not a recording: ignored from then on
};

// An agent's process whose stream ended before its exit snapshot: it may have
// exec'd, and its next program image is about to connect.
struct StreamReceiver::Departed {
  int pidfd = -1;  // readable once the process has exited
  uint64_t deadline_ms = 0;
};

StreamReceiver::StreamReceiver() = default;

StreamReceiver::~StreamReceiver() {
  for (const Departed& departed : departed_) close(departed.pidfd);
  for (auto& connection : connections_) {
    if (connection->socket >= 0) close(connection->socket);
    if (connection->file >= 0) close(connection->file);
  }
}

bool StreamReceiver::Listen(const std::string& socket_path, const std::string& output_path,
                            std::string* error) {
  output_path_ = output_path;
  listener_ = std::make_unique<UnixListener>();
  if (listener_->Listen(socket_path, static_cast<gid_t>(-1), error)) return true;
  listener_.reset();
  return false;
}

void StreamReceiver::Adopt(int socket, const std::string& output_path) {
  output_path_ = output_path;
  AddConnection(socket);
}

bool StreamReceiver::Accept(std::string* error) {
  int socket = listener_->Accept();
  if (socket < 0) {
    if (errno == EINTR || errno == EAGAIN) return true;
    *error = std::string("accept: ") + std::strerror(errno);
    return false;
  }
  AddConnection(socket);
  return true;
}

void StreamReceiver::AddConnection(int socket) {
  auto connection = std::make_unique<Connection>();
  connection->socket = socket;
  connection->peer = PeerPid(socket);
  connections_.push_back(std::move(connection));
}

// The file is named when the first snapshot comes, as the agent names files
// (agent/collector/sink.h): the tree's first process gets the output path, unless an
// earlier image of it already wrote a snapshot there; every other process
// PATH.<pid>, then PATH.<pid>.1, ... An agent that sends no snapshot (a
// wrapper that exec'd at once) leaves no file.
bool StreamReceiver::OpenOutput(Connection& connection, std::string* error) {
  auto taken = [this](const std::string& path) {
    return std::find(outputs_.begin(), outputs_.end(), path) != outputs_.end();
  };
  std::string path = output_path_;
  if (!connection.first_process || taken(path)) {
    std::string base = output_path_ + "." + std::to_string(connection.recording.header.pid());
    path = base;
    for (int suffix = 1; taken(path); ++suffix) path = base + "." + std::to_string(suffix);
  }
  connection.path = path;
  connection.file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (connection.file < 0 || !WriteAll(connection.file, connection.header.data(),
                                       connection.header.size())) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  outputs_.push_back(path);
  return true;
}

// Moves every complete record of `connection.pending` to its file.
bool StreamReceiver::Consume(Connection& connection, std::string* error) {
  size_t offset = 0;
  while (!connection.broken) {
    uint64_t length = 0;
    const char* start = connection.pending.data() + offset;
    size_t available = connection.pending.size() - offset;
    int prefix = ParseRecordPrefix(start, available, &length);
    if (prefix == 0 || (prefix > 0 && length > available - static_cast<size_t>(prefix))) break;
    const char* payload = start + (prefix > 0 ? prefix : 0);
    if (!connection.header_seen) {
      if (prefix < 0 ||
          !connection.recording.header.ParseFromArray(payload, static_cast<int>(length)) ||
          connection.recording.header.magic() != format::kRecordingMagic) {
        connection.broken = true;  // not an agent: drop it
        break;
      }
      connection.header_seen = true;
      // Recordings from before root_pid existed: the first agent is the first process.
      const proto::Header& header = connection.recording.header;
      // An adopted connection is the one recording asked for (a woken agent's,
      // forked child or not): it gets the output path itself.
      connection.first_process = listener_ == nullptr ||
                                 (header.root_pid() != 0 ? header.pid() == header.root_pid()
                                                         : !an_agent_came_);
      an_agent_came_ = true;
      connection.header.assign(start, static_cast<size_t>(prefix) + length);
      offset += connection.header.size();
      continue;
    } else if (prefix < 0) {
      connection.broken = true;
      break;
    } else {
      proto::Snapshot snapshot;
      if (snapshot.ParseFromArray(payload, static_cast<int>(length))) {
        connection.final_seen = connection.final_seen || snapshot.final();
        AppendSnapshot(&connection.recording, std::move(snapshot));
      }
      if (connection.file < 0 && !OpenOutput(connection, error)) return false;
    }
    size_t record = static_cast<size_t>(prefix) + length;
    if (!WriteAll(connection.file, start, record)) {
      *error = "cannot write " + connection.path + ": " + std::strerror(errno);
      return false;
    }
    offset += record;
  }
  connection.pending.erase(0, offset);
  return true;
}

uint64_t StreamReceiver::ResidentBytes(const Connection& connection) {
  return connection.recording.snapshots.empty()
             ? 0
             : connection.recording.snapshots.back().memory().rss_bytes();
}

void StreamReceiver::AwaitNextImage(pid_t pid) {
  int pidfd = pid > 0 ? OpenPidfd(pid) : -1;  // fails if it is gone already
  if (pidfd >= 0) departed_.push_back({pidfd, NowMs() + kNextImageWaitMs});
}

bool StreamReceiver::Run(const std::function<bool()>& should_stop,
                         const std::function<void(const Recording&)>& on_progress,
                         int progress_ms, std::string* error) {
  uint64_t next_progress = NowMs() + static_cast<uint64_t>(progress_ms);
  while (!should_stop()) {
    std::vector<pollfd> fds = {{listener_ ? listener_->fd() : -1, POLLIN, 0}};
    for (auto& connection : connections_) fds.push_back({connection->socket, POLLIN, 0});
    int ready = poll(fds.data(), fds.size(), 200);
    std::erase_if(departed_, [now = NowMs()](const Departed& departed) {
      pollfd exited{departed.pidfd, POLLIN, 0};
      if (now < departed.deadline_ms && poll(&exited, 1, 0) == 0) return false;
      close(departed.pidfd);
      return true;
    });
    if (ready < 0 && errno != EINTR) {
      *error = std::string("poll: ") + std::strerror(errno);
      return false;
    }
    for (size_t i = 1; ready > 0 && i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Connection& connection = *connections_[i - 1];
      char buffer[1 << 16];
      ssize_t got = read(connection.socket, buffer, sizeof(buffer));
      if (got > 0) {
        connection.pending.append(buffer, static_cast<size_t>(got));
        if (!Consume(connection, error)) return false;
      }
      bool gone = got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN);
      if (gone || connection.broken) {
        if (!connection.header_seen || connection.broken) ++dropped_peers_;
        // (An adopted connection's agent is woken, not started: its next
        // image will not connect.)
        if (connection.header_seen && !connection.broken && !connection.final_seen &&
            listener_ != nullptr) {
          AwaitNextImage(connection.peer);
        }
        close(connection.socket);
        connection.socket = -1;
      }
    }
    std::erase_if(connections_, [](const auto& connection) {
      if (connection->socket >= 0) return false;
      if (connection->file >= 0) close(connection->file);
      return true;
    });
    if (ready > 0 && (fds[0].revents & POLLIN) != 0 && !Accept(error)) return false;
    if (on_progress && NowMs() >= next_progress) {
      next_progress = NowMs() + static_cast<uint64_t>(progress_ms);
      // The process that holds the most memory: the program, not its wrapper.
      const Connection* shown = nullptr;
      for (const auto& connection : connections_) {
        if (connection->recording.snapshots.empty()) continue;
        if (shown == nullptr || ResidentBytes(*connection) > ResidentBytes(*shown)) {
          shown = connection.get();
        }
      }
      if (shown != nullptr) on_progress(shown->recording);
    }
    bool agents_left = std::any_of(connections_.begin(), connections_.end(),
                                   [](const auto& connection) { return connection->header_seen; });
    if (an_agent_came_ && !agents_left && departed_.empty()) break;
    if (listener_ == nullptr && connections_.empty() && departed_.empty()) break;  // adopted, and gone
  }
  return true;
}

}  // namespace heapdrift
