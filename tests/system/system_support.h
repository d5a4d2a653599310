// Shared by the system tests: real Debian programs run with and without the
// agent, and what every recording of them must satisfy.
#pragma once

#include <string>
#include <vector>

#include "recording.h"
#include "subprocess.h"

namespace heapdrift::testing {

// Fails the test unless `program` is installed (scripts/install-deps.sh
// installs every one the system tests use).
bool Installed(const std::string& program);

// The recording decodes, has a final snapshot and call sites, the program's
// executable has a build-id, and every frame the symbolizer names in it is
// a symbol it defines (stripped Debian binaries: names from .dynsym or
// module+offset, never a wrong name). Returns how many frames of the
// executable got a name.
size_t ExpectSoundRecording(const std::string& path);

// Seconds since the agent in `recording` started, for a wall-clock time.
double SecondsIntoRecording(const heapdrift::Recording& recording, double unix_seconds);

// Wall-clock seconds now, as a double.
double UnixSecondsNow();

// A TCP port on 127.0.0.1 that nothing holds now, below the kernel's
// ephemeral range so that no client's connection is given it while the
// server starts. Each call starts its search elsewhere: one process's
// servers, and concurrent test processes, do not meet on a port (a port
// computed from the pid did: two servers of one run could share it, and a
// server that had not yet let go of it made the next one fail to bind).
std::string FreeLoopbackPort();

}  // namespace heapdrift::testing
