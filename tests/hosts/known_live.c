/* A known workload for the estimator: one call site keeps exactly KEEP_MIB
 * MiB live in blocks of mixed sizes while another allocates and frees twice
 * as much, paced to about 100 MB/s like a busy server (so the default
 * interval holds and the stated error bound applies). Prints the true live
 * bytes of the kept site. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((noinline)) static void* KeepBlock(size_t size) {
  void* block = malloc(size);
  memset(block, 1, 16);
  return block;
}

__attribute__((noinline)) static void Churn(size_t size) {
  char* volatile block = malloc(size);
  block[0] = 1;
  free(block);
}

int main(int argc, char** argv) {
  size_t keep = (size_t)(argc > 1 ? atoi(argv[1]) : 64) << 20;
  size_t kept = 0, churned = 0, since_pause = 0;
  unsigned seed = 11;
  void** blocks = malloc(sizeof(void*) * (keep / 64 + 1));
  size_t count = 0;
  while (kept < keep) {
    size_t size = 64 + (size_t)(rand_r(&seed) % 8000);
    if (kept + size > keep) size = keep - kept;
    blocks[count++] = KeepBlock(size);
    kept += size;
    for (int i = 0; i < 2; ++i) {
      size_t churn = 64 + (size_t)(rand_r(&seed) % 8000);
      Churn(churn);
      churned += churn;
    }
    since_pause += 3 * 4000;
    if (since_pause > 100000) { /* 100 KB per ms */
      struct timespec pause = {0, 1000000};
      nanosleep(&pause, NULL);
      since_pause = 0;
    }
  }
  printf("kept %zu bytes in %zu blocks; churned %zu bytes\n", kept, count, churned);
  fflush(stdout);
  /* Leave the kept blocks live to the end: the final snapshot measures them. */
  return blocks[0] == NULL;
}
