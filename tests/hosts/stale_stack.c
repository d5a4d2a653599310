/* A block whose only pointer lies in a dead stack frame: a local of a
 * function that returned before the program ended, DEPTH bytes below main's
 * stack pointer. Nothing can reach it any more: LeakSanitizer calls it
 * leaked (its stale_stack_leak and exit_atexit_stale_stack tests), and so
 * must the exit scan, whether main then calls exit() or returns. A
 * destructor checks that the pointer was still there at exit (the test
 * would prove nothing if the exit path had overwritten it).
 * Usage: stale_stack DEPTH exit|return */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kWords = 16384 };  /* 128 KiB of locals: DEPTH may be up to that */

static void* volatile* g_slot;
static void* g_block;

__attribute__((noinline)) static void PutPointerOnStaleStack(size_t depth) {
  void* volatile locals[kWords];
  size_t index = kWords - 1 - depth / sizeof(void*);
  g_block = malloc(1337);
  locals[index] = g_block;
  g_slot = &locals[index];
  /* Hidden from the scan of the globals (complemented, it points nowhere
   * near the heap): only the stale slot holds the block's address. */
  g_block = (void*)~(unsigned long)g_block;
}

__attribute__((destructor)) static void ConfirmThePointerSurvived(void) {
  if (*g_slot != (void*)~(unsigned long)g_block) {
    fprintf(stderr, "the stale pointer was overwritten before exit\n");
  }
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  size_t depth = strtoul(argv[1], NULL, 10);
  if (depth >= kWords * sizeof(void*)) return 2;
  PutPointerOnStaleStack(depth);
  if (strcmp(argv[2], "exit") == 0) exit(0);
  return 0;
}
