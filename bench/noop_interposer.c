/* The floor: an interposer that only forwards malloc, free, calloc and
 * realloc to glibc. What it costs is the price of any LD_PRELOAD profiler
 * (an extra call and return per allocation and free); overhead.py reports
 * heapdrift next to it. */
#include <stddef.h>

extern void* __libc_malloc(size_t size);
extern void __libc_free(void* pointer);
extern void* __libc_calloc(size_t count, size_t size);
extern void* __libc_realloc(void* pointer, size_t size);

void* malloc(size_t size) { return __libc_malloc(size); }
void free(void* pointer) { __libc_free(pointer); }
void* calloc(size_t count, size_t size) { return __libc_calloc(count, size); }
void* realloc(void* pointer, size_t size) { return __libc_realloc(pointer, size); }
