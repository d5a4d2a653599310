/* A block whose only pointer is inside itself: nothing outside can reach
 * it, so it is leaked (LSan's pointer_to_self). 1,111 bytes. */
#include <stdlib.h>

__attribute__((noinline)) static void MakeSelfPointing(void) {
  /* volatile: a block only ever written to may be optimised away whole. */
  void* volatile* block = malloc(1111);
  block[7] = (void*)block;
}

int main(void) {
  MakeSelfPointing();
  return 0;
}
