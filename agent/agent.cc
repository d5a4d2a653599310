#include "agent.h"

namespace heapdrift::agent {

// constinit: the object must be usable by the first malloc of the process,
// which can come before any constructor.
constinit Agent g_agent;

}  // namespace heapdrift::agent
