#include "agent_environment.h"

#include <stdlib.h>

namespace heapdrift::cli {

Environment AgentEnvironment(const std::string& agent_path, const AgentSettings& settings) {
  namespace option = agent::option;
  Environment env;
  const char* preload = getenv("LD_PRELOAD");
  env.emplace_back("LD_PRELOAD", agent_path + (preload && *preload ? ":" + std::string(preload) : ""));
  if (settings.dormant) env.emplace_back(option::dormant.variable, "1");
  if (!settings.output.empty()) env.emplace_back(option::output.variable, settings.output);
  if (settings.sample_bytes != 0) {
    env.emplace_back(option::sample_bytes.variable, std::to_string(settings.sample_bytes));
  }
  if (settings.set_leak_scan) {
    env.emplace_back(option::leak_scan.variable, settings.leak_scan ? "1" : "0");
  }
  env.emplace_back(option::follow.variable, settings.follow);
  if (settings.interval_ms != 0) {
    env.emplace_back(option::interval_ms.variable, std::to_string(settings.interval_ms));
  }
  if (settings.reconnect) env.emplace_back(option::reconnect.variable, "1");
  if (!settings.service.empty()) env.emplace_back(option::service.variable, settings.service);
  unsetenv(agent::kRootPidVariable);
  return env;
}

std::string FollowModeName(agent::FollowMode mode) {
  return agent::kFollowModeNames[static_cast<size_t>(mode)];
}

}  // namespace heapdrift::cli
