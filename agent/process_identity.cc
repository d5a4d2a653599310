#include "process_identity.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace heapdrift::agent {

ProcessIdentity CurrentProcessIdentity() {
  ProcessIdentity identity;
  identity.pid = static_cast<uint32_t>(getpid());
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return identity;
  char text[1024];
  ssize_t length = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (length <= 0) return identity;
  text[length] = '\0';
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // fields are counted from the last ')'. starttime is field 22, the 20th
  // after it.
  const char* field = strrchr(text, ')');
  for (int skipped = 0; field != nullptr && skipped < 20; ++skipped) {
    field = strchr(field + 1, ' ');
  }
  if (field == nullptr) return identity;
  uint64_t ticks = 0;
  for (++field; *field >= '0' && *field <= '9'; ++field) ticks = ticks * 10 + (*field - '0');
  identity.start_ticks = ticks;
  return identity;
}

}  // namespace heapdrift::agent
