// The waking side of a dormant agent's control channel
// (proto/control_protocol.h): connect, ask for a recording, read the answer.
#pragma once

#include <cstdint>
#include <string>

namespace heapdrift {

struct WakeSettings {
  uint64_t sample_bytes = 0;  // 0: the agent's own setting
  uint64_t interval_ms = 0;   // 0: the agent's own setting
  std::string receiver;       // unix:/path, or "" for this connection
};

enum class WakeStatus {
  kRecording,     // *connection carries the answer "ok" and then the stream
  kNoAgent,       // nothing listens there
  kNotPermitted,  // the socket or the agent refused us (another user)
  kRefused,       // the agent answered with an error
};

// On kRecording, *connection is the connected socket (the caller closes it).
// Otherwise *error says why, in one line.
WakeStatus WakeAgent(const std::string& socket_path, const WakeSettings& settings,
                     int* connection, std::string* error);

}  // namespace heapdrift
