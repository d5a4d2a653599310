/* One block of each kind at exit, each of a size nothing else allocates:
 * 1111 bytes leaked (its last pointer dropped), 2224 bytes held by a global,
 * 3333 bytes reachable only through the 2224-byte block, 4444 bytes held by
 * a thread-local variable, 5555 bytes freed; and, as language runtimes and
 * servers do, 6666 bytes held only from memory taken straight from mmap (a
 * pool's arena), 7777 bytes only on the stack of a thread still running at
 * exit and 8888 bytes in that thread's thread-local storage. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_ready = PTHREAD_COND_INITIALIZER;
static int g_worker_ready;

static void* Worker(void* unused) {
  (void)unused;
  void* volatile on_stack = malloc(7777);
  t_kept = malloc(8888);
  pthread_mutex_lock(&g_lock);
  g_worker_ready = 1;
  pthread_cond_signal(&g_ready);
  pthread_mutex_unlock(&g_lock);
  for (;;) pause();  /* still running when main exits */
  return on_stack;
}

__attribute__((noinline)) static void KeepInArenaAndThread(void) {
  void** arena = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  arena[4096] = malloc(6666);
  pthread_t worker;
  pthread_create(&worker, NULL, Worker, NULL);
  pthread_mutex_lock(&g_lock);
  while (!g_worker_ready) pthread_cond_wait(&g_ready, &g_lock);
  pthread_mutex_unlock(&g_lock);
}

__attribute__((noinline)) static void Churn(void) {
  char* volatile block = malloc(5555);
  free(block);
}

int main(void) {
  LeakDeep();
  Keep();
  KeepInArenaAndThread();
  Churn();
  printf("done %d\n", g_holder != NULL && g_holder->next != NULL && t_kept != NULL);
  return 0;
}
