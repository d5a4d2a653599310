/* A block leaked by a coroutine run with swapcontext on a stack of its own
 * in a 1 MiB heap block, freed before exit (LSan's swapcontext test). Nothing
 * live points to it: Valgrind and heapdrift call it leaked. LSan does not
 * report it: it cannot unwind the allocation's stack there and skips such
 * blocks on purpose. 2,664 bytes. */
#include <stdlib.h>
#include <ucontext.h>

enum { kStackSize = 1 << 20 };

static ucontext_t g_main_context, g_child_context;

__attribute__((noinline)) static void Child(void) {
  /* volatile: a block only ever written to may be optimised away whole. */
  *(char volatile*)malloc(2664) = 1;
}

int main(void) {
  char* stack = malloc(kStackSize);
  getcontext(&g_child_context);
  g_child_context.uc_stack.ss_sp = stack;
  g_child_context.uc_stack.ss_size = kStackSize / 2;
  g_child_context.uc_link = &g_main_context;
  makecontext(&g_child_context, Child, 0);
  if (swapcontext(&g_main_context, &g_child_context) != 0) return 3;
  free(stack);
  return 0;
}
