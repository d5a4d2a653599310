/* Calls every exported allocation function and checks its result. Prints one
 * line per check, so a run under the agent can be compared byte for byte with
 * a run without it. Exit 0 when every check passed. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;

static void check(int ok, const char* what) {
  printf("%s %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

static int aligned(const void* p, size_t alignment) {
  return ((uintptr_t)p % alignment) == 0;
}

static int usable(void* p, size_t size) { return p != NULL && malloc_usable_size(p) >= size; }

/* With "portable", skips pvalloc, which allocators other than glibc's
 * (jemalloc) do not provide: calling glibc's would mix two heaps. */
int main(int argc, char** argv) {
  int portable = argc > 1 && strcmp(argv[1], "portable") == 0;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  for (int round = 0; round < 200; ++round) {
    size_t size = 1 + (size_t)round * 997;
    char* p = malloc(size);
    memset(p, 0xab, size);
    if (!usable(p, size)) check(0, "malloc usable size");
    char* q = realloc(p, size * 3);
    if (q == NULL || (unsigned char)q[size - 1] != 0xab || !usable(q, size * 3)) check(0, "realloc grow");
    q = realloc(q, size / 2 + 1);
    if (q == NULL || (unsigned char)q[0] != 0xab) check(0, "realloc shrink");
    free(q);
  }
  check(1, "malloc/realloc/free rounds");

  unsigned char* zeroed = calloc(1000, 33);
  int all_zero = zeroed != NULL;
  for (size_t i = 0; all_zero && i < 33000; ++i) all_zero = zeroed[i] == 0;
  check(all_zero && usable(zeroed, 33000), "calloc zeroes and sizes");
  free(zeroed);
  errno = 0;
  check(calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM, "calloc overflow is ENOMEM");

  char* grown = realloc(NULL, 100);
  check(usable(grown, 100), "realloc(NULL, n) allocates");
  check(realloc(grown, 0) == NULL, "realloc(p, 0) frees");

  int* array = reallocarray(NULL, 100, sizeof(int));
  for (int i = 0; i < 100; ++i) array[i] = i;
  array = reallocarray(array, 1000, sizeof(int));
  check(array != NULL && array[99] == 99 && usable(array, 4000), "reallocarray grows and keeps data");
  errno = 0;
  check(reallocarray(array, SIZE_MAX / 2, 4) == NULL && errno == ENOMEM,
        "reallocarray overflow is ENOMEM, block kept");
  free(array);

  void* block = NULL;
  check(posix_memalign(&block, 64, 1000) == 0 && aligned(block, 64) && usable(block, 1000),
        "posix_memalign 64");
  free(block);
  check(posix_memalign(&block, 4096, 10) == 0 && aligned(block, 4096), "posix_memalign 4096");
  free(block);
  check(posix_memalign(&block, 3, 10) == EINVAL, "posix_memalign bad alignment is EINVAL");

  void* a = aligned_alloc(128, 1024);
  check(a != NULL && aligned(a, 128) && usable(a, 1024), "aligned_alloc");
  free(a);
  void* m = memalign(256, 100);
  check(m != NULL && aligned(m, 256) && usable(m, 100), "memalign");
  free(m);
  void* v = valloc(100);
  check(v != NULL && aligned(v, page) && usable(v, 100), "valloc");
  free(v);
  if (!portable) {
    void* pv = pvalloc(100);
    check(pv != NULL && aligned(pv, page) && usable(pv, page), "pvalloc rounds up to a page");
    free(pv);
  }
  check(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL)");
  free(NULL);
  check(1, "free(NULL)");

  void* zero = malloc(0);
  check(zero != NULL, "malloc(0)");
  free(zero);
  errno = 0;
  check(malloc(SIZE_MAX - 4096) == NULL && errno == ENOMEM, "huge malloc fails with ENOMEM");

  printf("%d failures\n", failures);
  return failures == 0 ? 0 : 1;
}
