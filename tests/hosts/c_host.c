/* A C program (no libstdc++ of its own) that dlopens a C++ plugin which throws
 * and catches exceptions: the case where an unwinder linked into a preloaded
 * library could take over the exception runtime. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  void* plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (plugin == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 2;
  }
  int (*run)(int) = (int (*)(int))dlsym(plugin, "plugin_throw_and_catch");
  if (run == NULL) return 2;
  int caught = run(1000);
  printf("plugin caught %d exceptions\n", caught);
  return caught == 1000 ? 0 : 1;
}
