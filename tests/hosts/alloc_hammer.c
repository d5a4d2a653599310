/* Every way a thread can be caught holding a lock that loading a library
 * needs, all at once, for SECONDS: four threads in malloc/free at 64 B
 * (tcache), 4000 B and 100000 B (arena locks) and 1 MiB (mmap); one creating
 * and joining threads (the loader's stack cache lock); one loading and
 * unloading PLUGIN (the loader's own lock). Prints one line.
 * Usage: alloc_hammer SECONDS PLUGIN */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static time_t g_end;
static const char* g_plugin;

static void* Allocate(void* argument) {
  size_t size = (size_t)argument;
  while (time(NULL) < g_end) {
    for (int i = 0; i < 100; ++i) {
      char* block = malloc(size);
      block[0] = 1;
      free(block);
    }
  }
  return NULL;
}

static void* Nothing(void* argument) { return argument; }

static void* SpawnThreads(void* unused) {
  (void)unused;
  while (time(NULL) < g_end) {
    pthread_t thread;
    pthread_create(&thread, NULL, Nothing, NULL);
    pthread_join(thread, NULL);
  }
  return NULL;
}

static void* LoadPlugin(void* unused) {
  (void)unused;
  while (time(NULL) < g_end) {
    void* library = dlopen(g_plugin, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) abort();
    dlclose(library);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  g_end = time(NULL) + atoi(argv[1]);
  g_plugin = argv[2];
  size_t sizes[] = {64, 4000, 100000, 1 << 20};
  pthread_t threads[6];
  for (int i = 0; i < 4; ++i) pthread_create(&threads[i], NULL, Allocate, (void*)sizes[i]);
  pthread_create(&threads[4], NULL, SpawnThreads, NULL);
  pthread_create(&threads[5], NULL, LoadPlugin, NULL);
  for (int i = 0; i < 6; ++i) pthread_join(threads[i], NULL);
  puts("alloc_hammer: done");
  return 0;
}
