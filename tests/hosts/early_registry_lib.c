/* A library whose constructor builds a registry on the heap, as protobuf's
 * descriptor database does. As a dependency of the program, it is
 * initialized before the preloaded agent, so the registry itself is a block
 * the agent never saw; entries added later are tracked, and reachable only
 * through it. */
#include <stdlib.h>

struct Registry {
  void* entries[16];
  int count;
};

static struct Registry* g_registry;

__attribute__((constructor)) static void CreateRegistry(void) {
  g_registry = calloc(1, sizeof(struct Registry));
}

void RegisterEntry(size_t size) {
  if (g_registry->count < 16) g_registry->entries[g_registry->count++] = malloc(size);
}
