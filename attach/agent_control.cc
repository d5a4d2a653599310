#include "agent_control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "agent/option_table.h"
#include "control_protocol.h"

namespace heapdrift {
namespace {

// How long the agent may take to answer a wake (it starts a recording).
constexpr int kAnswerTimeoutMs = 5000;

// Connects to `path`; a path longer than sun_path is reached through its
// directory (/proc/self/fd/N/name), as /proc/PID/root/... paths can be.
int Connect(const std::string& path) {
  int directory = -1;
  std::string reachable = path;
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) {
    std::filesystem::path full(path);
    directory = open(full.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (directory < 0) return -1;
    reachable = "/proc/self/fd/" + std::to_string(directory) + "/" + full.filename().string();
    if (reachable.size() >= sizeof(address.sun_path)) {
      close(directory);
      errno = ENAMETOOLONG;
      return -1;
    }
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, reachable.c_str(), reachable.size() + 1);
  int socket_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int saved = 0;
  if (socket_fd >= 0 &&
      connect(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    saved = errno;
    close(socket_fd);
    socket_fd = -1;
  }
  if (directory >= 0) close(directory);
  if (saved != 0) errno = saved;
  return socket_fd;
}

bool SendAll(int fd, const std::string& text) {
  size_t sent = 0;
  while (sent < text.size()) {
    ssize_t written = send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    sent += static_cast<size_t>(written);
  }
  return true;
}

// The agent's one-line answer, read a byte at a time: what follows it is the
// recording, which belongs to the stream receiver.
bool ReadAnswer(int fd, std::string* answer) {
  answer->clear();
  while (answer->size() < 512) {
    pollfd readable{fd, POLLIN, 0};
    int ready = poll(&readable, 1, kAnswerTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char byte;
    ssize_t got = recv(fd, &byte, 1, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    if (byte == '\n') return true;
    answer->push_back(byte);
  }
  return false;
}

}  // namespace

WakeStatus WakeAgent(const std::string& socket_path, const WakeSettings& settings,
                     int* connection, std::string* error) {
  int fd = Connect(socket_path);
  if (fd < 0) {
    int cause = errno;
    *error = std::string("cannot reach its agent at ") + socket_path + ": " + std::strerror(cause);
    return cause == EACCES || cause == EPERM ? WakeStatus::kNotPermitted : WakeStatus::kNoAgent;
  }
  std::string request = std::string(control::kWakeGreeting) + "\n";
  if (settings.sample_bytes != 0) {
    request += std::string(agent::option::sample_bytes.variable) + "=" + std::to_string(settings.sample_bytes) + "\n";
  }
  if (settings.interval_ms != 0) {
    request += std::string(agent::option::interval_ms.variable) + "=" + std::to_string(settings.interval_ms) + "\n";
  }
  if (!settings.receiver.empty()) request += std::string(agent::option::output.variable) + "=" + settings.receiver + "\n";
  request += "\n";
  std::string answer;
  if (!SendAll(fd, request) || !ReadAnswer(fd, &answer)) {
    close(fd);
    *error = "its agent did not answer (is it busy with another attach?)";
    return WakeStatus::kRefused;
  }
  if (answer != control::kOkReply) {
    close(fd);
    std::string prefix = control::kErrorReplyPrefix;
    std::string reason = answer.rfind(prefix, 0) == 0 ? answer.substr(prefix.size()) : answer;
    *error = "its agent refused: " + reason;
    return reason.rfind("not permitted", 0) == 0 ? WakeStatus::kNotPermitted
                                                 : WakeStatus::kRefused;
  }
  *connection = fd;
  return WakeStatus::kRecording;
}

}  // namespace heapdrift
