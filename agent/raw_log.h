// Messages to stderr from inside the host: formatted into a stack buffer and
// written with one write(2), so they never allocate, never take stdio's lock,
// and never interleave mid-line with the host's own output.
#pragma once

namespace heapdrift::agent {

// "heapdrift: <message>\n". printf-style; keep formats to %s %d %u %ld %lu %zu.
void LogLine(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace heapdrift::agent
