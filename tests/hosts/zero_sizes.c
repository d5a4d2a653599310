/* malloc(0) returns a block of its own, and dropping it leaks it (LSan's
 * malloc_zero: reported as 1 byte); realloc(p, 0) frees p (glibc), so it
 * leaves nothing behind (LSan's realloc_zero). */
#include <stdlib.h>

__attribute__((noinline)) static void Allocate(void) {
  void* volatile empty = malloc(0);
  (void)empty;
  void* resized = realloc(malloc(3333), 0);
  (void)resized;
}

int main(void) {
  Allocate();
  return 0;
}
