/* A non-PIE program that takes malloc's address, as Debian's python3 does:
 * its dynamic symbol table then holds an *undefined* malloc whose value is
 * the program's PLT stub. The stub still calls the preloaded malloc, so the
 * agent must not mistake it for the program's own allocator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void* (*volatile allocate)(size_t) = malloc;

__attribute__((noinline)) static char* KeepName(const char* text) {
  char* copy = allocate(strlen(text) + 1);
  strcpy(copy, text);
  return copy;
}

int main(void) {
  char* name = KeepName("non-pie");
  puts(name);
  free(name);
  return 0;
}
