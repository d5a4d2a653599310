/* The library dlopen_alloc loads: allocates blocks, frees some itself. */
#include <stdlib.h>
#include <string.h>

void* plugin_make_buffer(int seed) {
  char* scratch = malloc(10000 + seed);
  memset(scratch, seed & 0x7f, 10000);
  char* kept = malloc(4096 + seed);
  kept[0] = scratch[0];
  free(scratch);
  return kept;
}
