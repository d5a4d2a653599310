#include "control_channel.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "agent.h"
#include "collector.h"
#include "got_redirect.h"
#include "control_protocol.h"
#include "option_table.h"
#include "raw_log.h"
#include "thread_state.h"

namespace heapdrift::agent {
namespace {

int g_listener = -1;
dev_t g_listener_device = 0;  // the socket itself (sockfs), to know the descriptor
ino_t g_listener_inode = 0;
dev_t g_socket_device = 0;    // the file it is bound to
ino_t g_socket_inode = 0;
sockaddr_un g_address{};
// The connection being served (-1 between connections) and its identity.
std::atomic<int> g_connection{-1};
ino_t g_connection_inode = 0;

// How long a peer may take to send its wake request.
constexpr int kRequestTimeoutMs = 2000;
constexpr size_t kThreadStackBytes = 256 * 1024;

// A wake request, split into lines in place: the settings it carries.
struct WakeRequest {
  char text[control::kMaxWakeRequestBytes + 1] = {};
  const char* names[std::size(kWakeSettings)] = {};
  const char* values[std::size(kWakeSettings)] = {};

  static const char* Lookup(const char* name, const void* self) {
    const WakeRequest& request = *static_cast<const WakeRequest*>(self);
    for (size_t i = 0; i < std::size(request.names); ++i) {
      if (request.names[i] != nullptr && strcmp(request.names[i], name) == 0) {
        return request.values[i];
      }
    }
    return nullptr;
  }
};

void Reply(int connection, const char* text) {
  char line[512];
  int length = snprintf(line, sizeof(line), "%s\n", text);
  if (length > 0) send(connection, line, static_cast<size_t>(length), MSG_NOSIGNAL);
}

void ReplyError(int connection, const char* reason) {
  char line[400];
  snprintf(line, sizeof(line), "%s%s", control::kErrorReplyPrefix, reason);
  Reply(connection, line);
}

// Reads up to the empty line that ends a request; false (said why) if the
// peer is too slow, too long-winded or gone.
bool ReadRequest(int connection, WakeRequest* request, char* error, size_t error_size) {
  size_t used = 0;
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  const size_t greeting = sizeof(control::kWakeGreeting) - 1;
  for (;;) {
    request->text[used] = '\0';
    // Anything else is told so at once, whatever it does next.
    if (strncmp(request->text, control::kWakeGreeting, used < greeting ? used : greeting) != 0 ||
        (used > greeting && request->text[greeting] != '\n')) {
      snprintf(error, error_size, "not a wake request (expected \"%s\")", control::kWakeGreeting);
      return false;
    }
    if (used >= 2 && strstr(request->text, "\n\n") != nullptr) return true;
    if (used == control::kMaxWakeRequestBytes) {
      snprintf(error, error_size, "request too long");
      return false;
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    long waited_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    pollfd readable{connection, POLLIN, 0};
    int ready = waited_ms < kRequestTimeoutMs
                    ? poll(&readable, 1, static_cast<int>(kRequestTimeoutMs - waited_ms))
                    : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      snprintf(error, error_size, "no wake request within %d ms", kRequestTimeoutMs);
      return false;
    }
    ssize_t got = recv(connection, request->text + used, control::kMaxWakeRequestBytes - used,
                       MSG_DONTWAIT);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) {
      snprintf(error, error_size, "the peer left before its request ended");
      return false;
    }
    used += static_cast<size_t>(got);
  }
}

// Splits the request into the greeting and NAME=value lines; only the
// settings a wake may carry are accepted.
bool ParseRequest(WakeRequest* request, char* error, size_t error_size) {
  char* end = strstr(request->text, "\n\n");
  *end = '\0';
  char* line = request->text;
  char* next = strchr(line, '\n');
  if (next != nullptr) *next++ = '\0';
  if (strcmp(line, control::kWakeGreeting) != 0) {
    snprintf(error, error_size, "not a wake request (expected \"%s\")", control::kWakeGreeting);
    return false;
  }
  for (line = next; line != nullptr && *line != '\0'; line = next) {
    next = strchr(line, '\n');
    if (next != nullptr) *next++ = '\0';
    char* equals = strchr(line, '=');
    if (equals != nullptr) *equals = '\0';
    size_t index = 0;
    while (index < std::size(kWakeSettings) &&
           strcmp(kWakeSettings[index], line) != 0) {
      ++index;
    }
    if (equals == nullptr || index == std::size(kWakeSettings)) {
      snprintf(error, error_size, "unknown setting '%.64s'", line);
      return false;
    }
    request->names[index] = line;
    request->values[index] = equals + 1;
  }
  return true;
}

// Who may wake the agent: its own effective user, or root.
bool PeerMayWake(int connection) {
  ucred peer{};
  socklen_t size = sizeof(peer);
  return getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &peer, &size) == 0 &&
         (peer.uid == 0 || peer.uid == geteuid());
}

// Only the control thread serves. Globals, not function statics: a static's
// guard would pull libstdc++'s exception support, and its 71 KiB emergency
// pool, into the agent (and the host's heap).
constinit WakeRequest g_request;
constinit Options g_wake;

void Serve(int connection) {
  WakeRequest& request = g_request;
  request = WakeRequest{};
  char error[256];
  if (!PeerMayWake(connection)) {
    ReplyError(connection, "not permitted (only the process's own user or root may wake it)");
    return;
  }
  if (!ReadRequest(connection, &request, error, sizeof(error)) ||
      !ParseRequest(&request, error, sizeof(error))) {
    ReplyError(connection, error);
    return;
  }
  if (g_agent.state.load(std::memory_order_acquire) != AgentState::kDormant) {
    ReplyError(connection, "the agent is not dormant (recording already, or off)");
    return;
  }
  Options& wake = g_wake;
  wake = g_agent.options;
  if (!ParseWakeSettings(&wake, WakeRequest::Lookup, &request, error, sizeof(error))) {
    ReplyError(connection, error);
    return;
  }
  wake.leak_scan = false;  // blocks from before the wake are unknown
  wake.attached = true;
  bool to_receiver = wake.streams_to_socket();
  // Close-on-exec, as the connection is: an image the process executes must
  // not hold the recording open.
  int stream = to_receiver ? -1 : fcntl(connection, F_DUPFD_CLOEXEC, 0);
  if (!to_receiver) {
    if (stream < 0) {
      ReplyError(connection, "out of file descriptors");
      return;
    }
    Reply(connection, control::kOkReply);  // the stream follows on this connection
  }
  if (!g_collector.BeginSession(wake, stream)) {
    snprintf(error, sizeof(error), "cannot start a recording to %s: %s",
             to_receiver ? wake.output : "the connection", strerror(errno));
    if (to_receiver) ReplyError(connection, error);
    return;
  }
  if (to_receiver) Reply(connection, control::kOkReply);
  g_agent.state.store(AgentState::kActive, std::memory_order_release);
  if (wake.redirects_calls) RedirectAllocationCalls();
  g_collector.RunSession(connection);
  // Asleep again (RunSession): the hooks pass everything through while the
  // slots are given back.
  if (wake.redirects_calls) RestoreAllocationCalls();
}

// Whether g_listener is still the socket bound here, and bound where it was: a daemon may close
// every descriptor it did not open, and get the number back for one of its
// own, which must never be accepted on.
bool StillOurListener() {
  struct stat now {};
  if (fstat(g_listener, &now) != 0 || now.st_ino != g_listener_inode ||
      now.st_dev != g_listener_device) {
    return false;
  }
  struct stat bound {};
  return lstat(g_address.sun_path, &bound) == 0 && bound.st_ino == g_socket_inode &&
         bound.st_dev == g_socket_device;
}

void* ControlThreadMain(void*) {
  g_agent.control_tid.store(static_cast<int>(syscall(SYS_gettid)), std::memory_order_relaxed);
  tls_state.in_agent = 1;
  tls_state.bytes_until_sample = INT64_MAX;
  pthread_setname_np(pthread_self(), "heapdrift-ctl");
  while (StillOurListener()) {
    int connection = accept4(g_listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE ||
          errno == ENOBUFS || errno == ENOMEM) {
        timespec pause{0, 100'000'000};  // descriptors or memory short: wait, not spin
        if (errno != EINTR && errno != ECONNABORTED) nanosleep(&pause, nullptr);
        continue;
      }
      break;
    }
    struct stat accepted {};
    fstat(connection, &accepted);
    g_connection_inode = accepted.st_ino;
    g_connection.store(connection, std::memory_order_release);
    Serve(connection);
    g_connection.store(-1, std::memory_order_release);
    close(connection);
  }
  return nullptr;
}

// mkdir, then insist on what it must be: a directory of this user's, open to
// no one else (a directory someone else made first in /tmp is not ours).
bool MakeOwnDirectory(const char* path) {
  if (mkdir(path, 0700) != 0 && errno != EEXIST) {
    LogLine("cannot create the control directory %s: %s; profiling disabled", path,
            strerror(errno));
    return false;
  }
  struct stat directory {};
  if (lstat(path, &directory) != 0 || !S_ISDIR(directory.st_mode) ||
      directory.st_uid != geteuid() || (directory.st_mode & 077) != 0) {
    LogLine("the control directory %s is not a directory of this user's closed to others "
            "(mode 0700); profiling disabled", path);
    return false;
  }
  return true;
}

// Sockets of processes that are gone: a process that ends with _exit (or is
// killed) cannot remove its own, and a dormant agent is inherited by every
// program a server runs. Only "<pid>.sock" names of pids that no longer
// exist are removed: a process bound to its name exists.
void RemoveStaleSockets(const char* directory) {
  DIR* entries = opendir(directory);
  if (entries == nullptr) return;
  while (dirent* entry = readdir(entries)) {
    char* end = nullptr;
    long pid = strtol(entry->d_name, &end, 10);
    // The name after its "%d": kSocketNamePattern's suffix.
    if (pid <= 0 || end == entry->d_name || strcmp(end, control::kSocketNamePattern + 2) != 0) {
      continue;
    }
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      unlinkat(dirfd(entries), entry->d_name, 0);
    }
  }
  closedir(entries);
}

// Binds, replacing a socket file that nobody listens on any more (left by a
// process that had this pid, or by this process's previous program image).
bool Bind() {
  g_listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct stat created {};
  if (g_listener < 0 || fstat(g_listener, &created) != 0) return false;
  g_listener_device = created.st_dev;
  g_listener_inode = created.st_ino;
  if (bind(g_listener, reinterpret_cast<sockaddr*>(&g_address), sizeof(g_address)) != 0) {
    if (errno != EADDRINUSE) return false;
    struct stat existing {};
    if (lstat(g_address.sun_path, &existing) != 0 || !S_ISSOCK(existing.st_mode)) return false;
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool alive = probe >= 0 &&
                 connect(probe, reinterpret_cast<sockaddr*>(&g_address), sizeof(g_address)) == 0;
    if (probe >= 0) close(probe);
    if (alive) {
      errno = EADDRINUSE;
      return false;
    }
    unlink(g_address.sun_path);
    if (bind(g_listener, reinterpret_cast<sockaddr*>(&g_address), sizeof(g_address)) != 0) {
      return false;
    }
  }
  chmod(g_address.sun_path, 0600);
  struct stat bound {};
  if (lstat(g_address.sun_path, &bound) != 0) return false;
  g_socket_device = bound.st_dev;
  g_socket_inode = bound.st_ino;
  return listen(g_listener, 4) == 0;
}

}  // namespace

bool StartControlChannel(const Options& options) {
  char directory[sizeof(options.control_dir)];
  if (options.control_dir[0] != '\0') {
    snprintf(directory, sizeof(directory), "%s", options.control_dir);
  } else {
    snprintf(directory, sizeof(directory), control::kDefaultControlDirPattern, geteuid());
  }
  if (!MakeOwnDirectory(directory)) return false;
  RemoveStaleSockets(directory);
  char name[32];
  snprintf(name, sizeof(name), control::kSocketNamePattern, static_cast<int>(getpid()));
  g_address.sun_family = AF_UNIX;
  if (snprintf(g_address.sun_path, sizeof(g_address.sun_path), "%s/%s", directory, name) >=
      static_cast<int>(sizeof(g_address.sun_path))) {
    LogLine("control socket path too long (%s/%s); profiling disabled", directory, name);
    return false;
  }
  if (!Bind()) {
    LogLine("cannot listen on %s: %s; profiling disabled", g_address.sun_path, strerror(errno));
    if (g_listener >= 0) close(g_listener);
    g_listener = -1;
    return false;
  }
  // The thread takes no signal meant for the host, and not the host's
  // scheduling either (a real-time host must not lend it its priority).
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attributes, kThreadStackBytes);
  pthread_attr_setinheritsched(&attributes, PTHREAD_EXPLICIT_SCHED);
  pthread_attr_setschedpolicy(&attributes, SCHED_OTHER);
  sched_param priority{};
  pthread_attr_setschedparam(&attributes, &priority);
  pthread_t thread;
  int error = pthread_create(&thread, &attributes, ControlThreadMain, nullptr);
  pthread_attr_destroy(&attributes);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (error != 0) {
    LogLine("cannot start the control thread; profiling disabled");
    StopControlChannel();
    return false;
  }
  return true;
}

void ForgetControlChannelInChild() {
  // The child of a fork has no control thread: its copies of the listener
  // and of a connection being served would only keep the attacher from
  // seeing the parent's end of the recording.
  auto close_if_ours = [](int fd, ino_t inode) {
    struct stat now {};
    if (fd >= 0 && fstat(fd, &now) == 0 && now.st_ino == inode) close(fd);
  };
  close_if_ours(g_connection.exchange(-1, std::memory_order_acq_rel), g_connection_inode);
  close_if_ours(g_listener, g_listener_inode);
  g_listener = -1;
  g_socket_inode = 0;  // nor is the socket file the child's to remove
}

void StopControlChannel() {
  struct stat bound {};
  if (g_socket_inode != 0 && lstat(g_address.sun_path, &bound) == 0 &&
      bound.st_ino == g_socket_inode && bound.st_dev == g_socket_device) {
    unlink(g_address.sun_path);
  }
}

}  // namespace heapdrift::agent
