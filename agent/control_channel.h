// A dormant agent's control socket and the thread that serves it: it waits
// for `heapdrift attach`, checks who is asking, starts a recording with the
// settings asked for (within the agent's bounds), collects it on this same
// thread until the peer says stop or goes away, and sleeps again. The
// protocol is proto/control_protocol.h. Cold path only.
#pragma once

#include "options.h"

namespace heapdrift::agent {

// Creates the directory (owner-only) and the socket, and starts the thread
// with every signal blocked. False, having said why once, if it cannot.
bool StartControlChannel(const Options& options);

// At exit: removes the socket file, if it still is the one bound here.
void StopControlChannel();

// In the child of a fork: closes the copies of the control descriptors.
void ForgetControlChannelInChild();

}  // namespace heapdrift::agent
