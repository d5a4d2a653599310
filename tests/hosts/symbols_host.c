/* Allocates from a known line of its own and of a shared library, and
 * prints both lines, for the symbolizer tests. Built with DWARF, then copied
 * without it, without any symbols, and with a separate debug file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LibraryLine(void);
void* LibraryAllocate(size_t size);

static const int kAllocateLine = __LINE__ + 3;
__attribute__((noinline)) void* AllocateRecord(size_t size) {
  __asm__ volatile("");
  void* record = malloc(size);
  memset(record, 1, size);
  return record;
}

int main(void) {
  void* volatile kept[2];
  kept[0] = AllocateRecord(4321);
  kept[1] = LibraryAllocate(5432);
  printf("host_line=%d library_line=%d\n", kAllocateLine, LibraryLine());
  return kept[0] == NULL || kept[1] == NULL;
}
