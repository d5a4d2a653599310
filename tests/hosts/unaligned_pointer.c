/* Pointers kept in globals at offsets that are not multiples of 8: the scan
 * reads aligned words only, as LSan does by default (use_unaligned=0), so a
 * block held only that way is leaked (LSan's use_unaligned_not_found);
 * aligned, it is reachable (use_unaligned_found's control). 2,222 bytes
 * held unaligned, 2,223 aligned. */
#include <stdlib.h>
#include <string.h>

char g_bytes[64] __attribute__((aligned(8)));
void* g_aligned;

__attribute__((noinline)) static void Keep(void) {
  void* unaligned = malloc(2222);
  memcpy(g_bytes + 3, &unaligned, sizeof(unaligned));
  g_aligned = malloc(2223);
}

int main(void) {
  Keep();
  return g_bytes[0];
}
