// The environment a program gets to run under the agent, built in one place
// for `run` and `check`: LD_PRELOAD with the agent first (the user's own
// preloads kept after it), the agent's settings by their names in
// agent/option_table.inc, and a new process tree.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/option_table.h"

namespace heapdrift::cli {

struct AgentSettings {
  std::string output;         // HEAPDRIFT_OUTPUT; unset if empty
  bool dormant = false;       // record nothing until `attach` wakes it
  uint64_t sample_bytes = 0;  // 0 = the agent's default
  uint64_t interval_ms = 0;   // 0 = the agent's default
  std::string follow;         // one of agent::kFollowModeNames
  bool leak_scan = false;     // set either way when `set_leak_scan`
  bool set_leak_scan = false;
  bool reconnect = false;     // HEAPDRIFT_RECONNECT (a stream to `heapdrift serve`)
  std::string service;        // HEAPDRIFT_SERVICE; unset if empty
};

using Environment = std::vector<std::pair<std::string, std::string>>;

// Also unsets HEAPDRIFT_ROOT_PID in this process, whose children inherit
// it: the program starts a tree of its own, even inside a recorded one.
Environment AgentEnvironment(const std::string& agent_path, const AgentSettings& settings);

std::string FollowModeName(agent::FollowMode mode);

}  // namespace heapdrift::cli
