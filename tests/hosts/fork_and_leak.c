/* A child forked without exec leaks (LSan's fork_and_leak), and changes
 * what it inherited. Each size is allocated by its own function:
 *   1,211 kept by a global in both;
 *   1,222 dropped by the parent before the fork: leaked in both;
 *   1,233 kept by a global, which the child clears: leaked in the child;
 *   1,244 kept by a global, freed by the child;
 *   1,255 allocated and dropped by the child;
 *   1,266 allocated by the child and kept by a global.
 * Usage: fork_and_leak [exit|return]: how the child ends (exit() in a
 * function, or returning from main). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void* g_kept;
void* g_dropped_in_child;
void* g_freed_in_child;
void* g_child_kept;

#define ALLOCATOR(name, size) \
  __attribute__((noinline)) void* name(void) { return malloc(size); }

ALLOCATOR(AllocateKept, 1211)
ALLOCATOR(AllocateLeakedBeforeFork, 1222)
ALLOCATOR(AllocateDroppedInChild, 1233)
ALLOCATOR(AllocateFreedInChild, 1244)
ALLOCATOR(AllocateLeakedInChild, 1255)
ALLOCATOR(AllocateKeptInChild, 1266)

__attribute__((noinline)) static void Prepare(void) {
  g_kept = AllocateKept();
  /* volatile: a block only ever written to may be optimised away whole. */
  *(char volatile*)AllocateLeakedBeforeFork() = 1;
  g_dropped_in_child = AllocateDroppedInChild();
  g_freed_in_child = AllocateFreedInChild();
}

__attribute__((noinline)) static void InChild(void) {
  g_dropped_in_child = NULL;
  free(g_freed_in_child);
  g_freed_in_child = NULL;
  *(char volatile*)AllocateLeakedInChild() = 1;
  g_child_kept = AllocateKeptInChild();
}

int main(int argc, char** argv) {
  int by_exit = argc > 1 && strcmp(argv[1], "exit") == 0;
  Prepare();
  pid_t child = fork();
  if (child < 0) return 3;
  if (child == 0) {
    InChild();
    if (by_exit) exit(0);
    return 0;
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) return 4;
  return WEXITSTATUS(status);
}
