/* Leaked blocks that other leaked blocks point to (LSan's indirect leaks),
 * each size allocated by its own function, so that every call site holds
 * one size:
 *   - a chain 1,111 -> 2,222 -> 3,333: the head is a direct leak, the rest
 *     indirect, held by the head;
 *   - a cycle 4,441 <-> 4,442 that nothing else points to: indirect, both,
 *     with no direct leak holding them (as LSan reports it);
 *   - LSan's suppressions test: a 666-byte block from
 *     AllocateSuppressedHead holding a 777-byte one, and a direct 1,337;
 *   - a global holding 6,661 -> 6,662: reachable, both. */
#include <stdlib.h>

typedef void* volatile* Block;

void* g_kept;

#define ALLOCATOR(name, size) \
  __attribute__((noinline)) Block name(void) { return malloc(size); }

ALLOCATOR(AllocateChainHead, 1111)
ALLOCATOR(AllocateChainMiddle, 2222)
ALLOCATOR(AllocateChainTail, 3333)
ALLOCATOR(AllocateCycleFirst, 4441)
ALLOCATOR(AllocateCycleSecond, 4442)
ALLOCATOR(AllocateSuppressedHead, 666)
ALLOCATOR(AllocateHeldBySuppressed, 777)
ALLOCATOR(AllocateUnsuppressed, 1337)
ALLOCATOR(AllocateKeptHead, 6661)
ALLOCATOR(AllocateKeptChild, 6662)

__attribute__((noinline)) static void Leak(void) {
  Block head = AllocateChainHead();
  Block middle = AllocateChainMiddle();
  head[3] = (void*)middle;
  middle[5] = (void*)AllocateChainTail();

  Block first = AllocateCycleFirst();
  Block second = AllocateCycleSecond();
  first[0] = (void*)second;
  second[9] = (void*)first;

  Block suppressed = AllocateSuppressedHead();
  suppressed[0] = (void*)AllocateHeldBySuppressed();
  AllocateUnsuppressed()[0] = 0;

  Block kept = AllocateKeptHead();
  kept[1] = (void*)AllocateKeptChild();
  g_kept = (void*)kept;
}

int main(void) {
  Leak();
  return 0;
}
