// The control channel of a dormant agent (HEAPDRIFT_DORMANT=1), written once
// for the agent (agent/control_channel.cc) and `heapdrift attach`.
//
// The agent listens on DIR/<pid>.sock, where DIR is HEAPDRIFT_CONTROL_DIR or
// /tmp/heapdrift-<euid>, a directory owned by the process's user and closed
// to everyone else (0700), and <pid> the pid as the process itself sees it
// (NSpid's last field seen from outside a container). It accepts a peer only
// if the kernel says (SO_PEERCRED) the peer runs as the process's effective
// user or as root. There is no verb that loads or runs anything: a peer can
// only make the agent record, at bounded settings, and stop.
//
// One connection is one recording:
//   peer  -> agent  "heapdrift-wake 1\n", then settings, one NAME=value per
//                   line (the agent's own HEAPDRIFT_* names and bounds, only
//                   those in agent/option_table.h's kWakeSettings), then an
//                   empty line;
//   agent -> peer   "ok\n" and the recording stream (the framing of a socket
//                   stream: a header record, then snapshots), or
//                   "error: <one line>\n" and the end of the connection;
//   peer  -> agent  "stop\n", or the end of its writing side: the agent
//                   writes the final snapshot, closes, and sleeps again.
// With HEAPDRIFT_OUTPUT=unix:PATH among the settings the stream goes to that
// receiver instead and the connection carries "ok\n" and the end only.
// If the peer goes away the recording ends as if it had said stop.
#pragma once

#include <cstddef>

namespace heapdrift::control {

// printf pattern of the default directory, from the effective uid.
inline constexpr char kDefaultControlDirPattern[] = "/tmp/heapdrift-%u";
// printf pattern of the socket's name in the directory, from the pid.
inline constexpr char kSocketNamePattern[] = "%d.sock";

inline constexpr char kWakeGreeting[] = "heapdrift-wake 1";
inline constexpr char kStopCommand[] = "stop";
inline constexpr char kOkReply[] = "ok";
inline constexpr char kErrorReplyPrefix[] = "error: ";
// A wake request longer than this is refused (it is a few short lines).
inline constexpr size_t kMaxWakeRequestBytes = 4096;

}  // namespace heapdrift::control
