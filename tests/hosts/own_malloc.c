/* A program with its own malloc (a bump allocator), as some statically
 * bundled allocators do: preloading cannot intercept it. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static char heap[1 << 20];
static size_t used;

void* malloc(size_t size) {
  size = (size + 15) & ~(size_t)15;
  if (used + size > sizeof(heap)) return NULL;
  used += size;
  return heap + used - size;
}
void free(void* pointer) { (void)pointer; }
void* calloc(size_t count, size_t size) {
  void* block = malloc(count * size);
  if (block != NULL) memset(block, 0, count * size);
  return block;
}
void* realloc(void* pointer, size_t size) {
  void* block = malloc(size);
  if (block != NULL && pointer != NULL) memcpy(block, pointer, size);
  return block;
}

int main(void) {
  char* text = malloc(32);
  strcpy(text, "own allocator");
  puts(text);
  return 0;
}
