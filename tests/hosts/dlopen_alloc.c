/* Loads and unloads a library that allocates, hundreds of times; some of its
 * blocks are freed by the host after the library is gone. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  void* survivors[300];
  int rounds = 300;
  for (int i = 0; i < rounds; ++i) {
    void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
      fprintf(stderr, "dlopen: %s\n", dlerror());
      return 2;
    }
    void* (*make)(int) = (void* (*)(int))dlsym(library, "plugin_make_buffer");
    survivors[i] = make(i);
    dlclose(library);
  }
  long sum = 0;
  for (int i = 0; i < rounds; ++i) {
    sum += ((unsigned char*)survivors[i])[0];
    free(survivors[i]);
  }
  printf("rounds %d checksum %ld\n", rounds, sum);
  return 0;
}
