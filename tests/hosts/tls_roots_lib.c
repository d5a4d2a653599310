/* tls_roots' library: its __thread variable lives in dynamic TLS, which the
 * loader allocates with malloc at the variable's first use; the block kept
 * there comes from a function of its own, so that check (which groups
 * blocks by the program's innermost frame) does not merge the two. */
#include <stdlib.h>

__thread void* t_dynamic;

__attribute__((noinline)) static void* Allocate(size_t size) { return malloc(size); }

void KeepInDynamicTls(size_t size) { t_dynamic = Allocate(size); }
