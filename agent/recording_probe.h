// Reads the start of an existing recording file, to decide whether a new
// program image may take it over: only a recording that an earlier image of
// this same process began and left without a complete snapshot (a wrapper
// such as env, nice or a start script that exec'd before its first snapshot)
// is taken over; anything else is left alone.
#pragma once

#include "process_identity.h"

namespace heapdrift::agent {

// `fd` is open for reading. Never allocates; reads at most a few hundred bytes.
bool IsUnfinishedRecordingOf(int fd, const ProcessIdentity& process);

}  // namespace heapdrift::agent
