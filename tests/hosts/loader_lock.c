#define _GNU_SOURCE
/* Allocates while holding the loader's lock, as a program may: one thread
 * mallocs and frees inside a dl_iterate_phdr callback (glibc holds its
 * loader lock around the callback), while others allocate and throw away
 * their stacks, and the main thread creates threads and returns from main
 * while some are still running.
 * With "dlopen PLUGIN", one more thread loads and unloads PLUGIN in a loop.
 * Any lock that the agent's sample path waits for while another thread holds
 * it across dl_iterate_phdr deadlocks this program. */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kCallbacks = 50, kAllocationsPerCallback = 1000, kWorkers = 4 };

static const char* g_plugin = NULL;

static int AllocateInCallback(struct dl_phdr_info* info, size_t size, void* data) {
  (void)info;
  (void)size;
  long* sum = data;
  for (int i = 0; i < kAllocationsPerCallback; ++i) {
    unsigned char* block = malloc(64 + (size_t)(i % 512));
    if (block == NULL) return 1;
    block[0] = (unsigned char)i;
    *sum += block[0];
    free(block);
  }
  return 1; /* the first object is enough: the lock is held all the same */
}

static void* UnderLoaderLock(void* unused) {
  (void)unused;
  long sum = 0;
  for (int i = 0; i < kCallbacks; ++i) dl_iterate_phdr(AllocateInCallback, &sum);
  return (void*)sum;
}

/* Distinct call paths, so that samples keep finding stacks nobody unwound yet. */
static __attribute__((noinline)) void* Nest(int depth, size_t size) {
  if (depth == 0) return malloc(size);
  void* block = Nest(depth - 1, size + 16);
  __asm__ volatile("" ::: "memory");
  return block;
}

static atomic_int g_allocators_done;

/* Stays alive, holding nothing, until the process exits: a block in flight
 * in a running thread's registers at exit would look leaked to `check`. */
static void* Allocator(void* seed) {
  long s = (long)seed;
  for (int i = 0; i < 20000; ++i) {
    void* block = Nest((int)((s + i) % 24), 32 + (size_t)(i % 4096));
    free(block);
  }
  atomic_fetch_add(&g_allocators_done, 1);
  for (;;) pause();
  return NULL;
}

static void* LoadUnload(void* unused) {
  (void)unused;
  for (int i = 0; i < 200; ++i) {
    void* library = dlopen(g_plugin, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
      fprintf(stderr, "dlopen: %s\n", dlerror());
      exit(2);
    }
    void* (*make)(int) = (void* (*)(int))dlsym(library, "plugin_make_buffer");
    free(make(i));
    dlclose(library);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "dlopen") == 0) g_plugin = argv[2];
  pthread_t threads[kWorkers + 2];
  int count = 0;
  pthread_create(&threads[count++], NULL, UnderLoaderLock, NULL);
  if (g_plugin != NULL) pthread_create(&threads[count++], NULL, LoadUnload, NULL);
  for (long i = 0; i < kWorkers; ++i) pthread_create(&threads[count++], NULL, Allocator, (void*)i);
  /* The allocators are still running (idle) when main returns. */
  for (int i = 0; i < count - kWorkers; ++i) pthread_join(threads[i], NULL);
  while (atomic_load(&g_allocators_done) < kWorkers) usleep(1000);
  printf("loader_lock done\n");
  return 0;
}
