// What `attach` learns about a running process from /proc before it touches
// it: whether it exists, who it runs as, its pid inside its own namespace,
// whether something traces or stops it, and whether the agent is loaded.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace heapdrift {

struct TargetProcess {
  pid_t pid = 0;        // as seen from here
  pid_t own_pid = 0;    // as the process sees itself (NSpid's last field)
  uid_t effective_uid = 0;
  char state = '?';     // R, S, D, T, t, Z, X
  pid_t tracer = 0;     // TracerPid: 0 when untraced
  std::string name;
  // Its memory map and environment could be read: another user's process
  // (without root) cannot be, and cannot be attached to either.
  bool inspectable = false;
  // Its memory map is empty: a kernel thread, or a process that is exiting.
  bool no_memory = false;
  bool agent_loaded = false;  // libheapdrift.so is mapped
  // A dormant agent's control socket the process holds (bound, among its
  // descriptors), as reachable from here; "" when none is found.
  std::string control_socket;
  // What the process's environment at start said (/proc/PID/environ; a
  // program may overwrite it for its title, as redis does):
  bool dormant_environment = false;  // HEAPDRIFT_DORMANT=1
  std::string control_dir;           // HEAPDRIFT_CONTROL_DIR, "" when unset

  bool dormant() const { return agent_loaded && (!control_socket.empty() || dormant_environment); }
};

// Reads /proc/PID. nullopt when no such process exists; fields that could not
// be read (another user's process) keep their defaults.
std::optional<TargetProcess> ReadTargetProcess(pid_t pid);

// The scheduler state letter of one of its threads (R, S, D, T, t, Z, X),
// 'X' when the thread is gone.
char ThreadState(pid_t pid, pid_t tid);

// Where the process's dormant agent listens (proto/control_protocol.h), as
// reachable from here: the socket it holds, else where its environment says;
// through /proc/PID/root, so a process in another mount namespace (a
// container) is reached in its own /tmp.
std::string ControlSocketPath(const TargetProcess& target);

}  // namespace heapdrift
