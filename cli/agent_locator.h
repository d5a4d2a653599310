// Finds libheapdrift.so for `heapdrift run`: $HEAPDRIFT_AGENT, else beside the
// CLI in the build tree (../agent/) or an install (../lib/, ../lib/heapdrift/).
#pragma once

#include <optional>
#include <string>

namespace heapdrift::cli {

// Absolute path of the agent library, or nullopt with `error` set.
std::optional<std::string> LocateAgent(std::string* error);

}  // namespace heapdrift::cli
