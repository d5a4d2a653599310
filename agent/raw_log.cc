#include "raw_log.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>

namespace heapdrift::agent {

void LogLine(const char* format, ...) {
  char line[512];
  constexpr char kPrefix[] = "heapdrift: ";
  size_t used = sizeof(kPrefix) - 1;
  __builtin_memcpy(line, kPrefix, used);
  va_list args;
  va_start(args, format);
  // glibc's vsnprintf does not allocate for the plain conversions we use.
  int written = vsnprintf(line + used, sizeof(line) - used - 1, format, args);
  va_end(args);
  if (written < 0) return;
  used += static_cast<size_t>(written) < sizeof(line) - used - 1
              ? static_cast<size_t>(written)
              : sizeof(line) - used - 2;
  line[used++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, used);
  (void)ignored;
}

}  // namespace heapdrift::agent
