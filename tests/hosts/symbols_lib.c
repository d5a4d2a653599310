/* The shared-library half of symbols_host. */
#include <stdlib.h>

static const int kLine = __LINE__ + 3;
__attribute__((noinline)) void* LibraryAllocate(size_t size) {
  __asm__ volatile("");
  void* block = calloc(1, size);
  return block;
}

int LibraryLine(void) { return kLine; }
