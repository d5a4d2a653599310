/* Large allocations (served by mmap, not the heap): one of 33,554,433
 * bytes kept by a global (reachable) and one of 33,554,435 dropped
 * (leaked), as LSan's large_allocation_leak expects. */
#include <stdlib.h>
#include <string.h>

void* g_kept;

__attribute__((noinline)) static void Allocate(void) {
  g_kept = malloc(33554433);
  char* volatile dropped = malloc(33554435);
  memset(dropped, 1, 64);
}

int main(void) {
  Allocate();
  return 0;
}
