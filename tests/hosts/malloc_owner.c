/* Watches where its own GOT sends malloc and free while `heapdrift attach`
 * enters and leaves it: every 20 ms it asks the loader which object
 * &malloc and &free point into (the address comes from this program's GOT
 * slot, the one the agent redirects), and prints each change. After
 * PLUGIN_AFTER_MS it loads PLUGIN and keeps one block of it every 10 ms: a
 * module loaded while attached. Exits after MILLISECONDS.
 * Usage: malloc_owner MILLISECONDS PLUGIN PLUGIN_AFTER_MS */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long ElapsedMs(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static const char* Owner(void* address) {
  Dl_info info;
  if (dladdr(address, &info) == 0 || info.dli_fname == NULL) return "?";
  const char* slash = strrchr(info.dli_fname, '/');
  return slash != NULL ? slash + 1 : info.dli_fname;
}

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  long milliseconds = atol(argv[1]), plugin_after = atol(argv[3]);
  char last[256] = "";
  void* (*make)(int) = NULL;
  void* kept[1000];
  int count = 0;
  struct timespec start, pause = {0, 10 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (long tick = 0; ElapsedMs(&start) < milliseconds; ++tick) {
    /* Volatile: the address is read from the GOT slot at every tick. */
    void* (*volatile malloc_now)(size_t) = &malloc;
    void (*volatile free_now)(void*) = &free;
    char owners[256];
    snprintf(owners, sizeof(owners), "malloc:%s free:%s", Owner((void*)malloc_now),
             Owner((void*)free_now));
    if (tick % 2 == 0 && strcmp(owners, last) != 0) {
      printf("%s\n", owners);
      strcpy(last, owners);
    }
    if (make == NULL && ElapsedMs(&start) >= plugin_after) {
      void* library = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
      if (library == NULL) return 3;
      make = (void* (*)(int))dlsym(library, "plugin_make_buffer");
    }
    if (make != NULL && count < 1000) {
      kept[count] = make(count);
      ++count;
    }
    nanosleep(&pause, NULL);
  }
  for (int i = 0; i < count; ++i) free(kept[i]);
  printf("the plugin's blocks freed\n");
  return 0;
}
