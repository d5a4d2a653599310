/* One block of each kind at exit, each of a size nothing else allocates:
 * 1111 bytes leaked (its last pointer dropped), 2224 bytes held by a global,
 * 3333 bytes reachable only through the 2224-byte block, 4444 bytes held by
 * a thread-local variable, and 5555 bytes freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct Holder {
  void* next;
  char padding[2224 - sizeof(void*)];
};

/* Not static, and read at the end: the compiler must keep the allocations. */
struct Holder* g_holder;
__thread void* t_kept;

__attribute__((noinline)) static void Leak(void) {
  char* volatile block = malloc(1111);
  memset(block, 1, 1111);
}

/* The exit path runs in the stack area where earlier calls left their
 * frames, and the scan (conservatively, like LeakSanitizer's) reads stale
 * words there; the leak happens 16 KiB deeper so no stale copy of its
 * pointer is in reach. */
__attribute__((noinline)) static void LeakDeep(void) {
  volatile char padding[16384];
  padding[0] = 1;
  Leak();
  padding[1] = padding[0];
}

__attribute__((noinline)) static void Keep(void) {
  g_holder = malloc(sizeof(struct Holder));
  g_holder->next = malloc(3333);
  t_kept = malloc(4444);
}

__attribute__((noinline)) static void Churn(void) {
  char* volatile block = malloc(5555);
  free(block);
}

int main(void) {
  LeakDeep();
  Keep();
  Churn();
  printf("done %d\n", g_holder != NULL && g_holder->next != NULL && t_kept != NULL);
  return 0;
}
