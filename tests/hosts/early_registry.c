/* Adds a 9999-byte entry to a registry that a library created before the
 * agent started (see early_registry_lib.c): the entry is reachable. */
#include <stdio.h>
#include <stdlib.h>

void RegisterEntry(size_t size);

int main(void) {
  RegisterEntry(9999);
  puts("registered");
  return 0;
}
