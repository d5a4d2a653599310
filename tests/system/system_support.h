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
double SecondsIntoRecording(const cli::Recording& recording, double unix_seconds);

// Wall-clock seconds now, as a double.
double UnixSecondsNow();

}  // namespace heapdrift::testing
