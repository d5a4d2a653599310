/* A thread that keeps known values in general and vector registers and
 * checks them, in a tight loop of its own code, for SECONDS; the main thread
 * waits in pthread_join (where attach never borrows it), so a thread that
 * `heapdrift attach` borrows is this one, stopped anywhere in the loop.
 * Prints whether every register kept its value throughout.
 * Usage: register_keeper SECONDS */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* One pass of `iterations` checks; nonzero if a register changed. */
static long CheckRegisters(long iterations) {
  long changed;
  __asm__ volatile(
      "movq $0x1111111111111111, %%r12\n\t"
      "movq $0x2222222222222222, %%r13\n\t"
      "movq $0x3333333333333333, %%r14\n\t"
      "movq $0x4444444444444444, %%r15\n\t"
      "movq $0x5555555555555555, %%rbx\n\t"
      "movq $0x6666666666666666, %%rax\n\t"
      "movq %%rax, %%xmm8\n\t"
      "movq $0x7777777777777777, %%rax\n\t"
      "movq %%rax, %%xmm15\n\t"
      "xorq %0, %0\n"
      "1:\n\t"
      "movq $0x1111111111111111, %%rax\n\t cmpq %%rax, %%r12\n\t jne 2f\n\t"
      "movq $0x2222222222222222, %%rax\n\t cmpq %%rax, %%r13\n\t jne 2f\n\t"
      "movq $0x3333333333333333, %%rax\n\t cmpq %%rax, %%r14\n\t jne 2f\n\t"
      "movq $0x4444444444444444, %%rax\n\t cmpq %%rax, %%r15\n\t jne 2f\n\t"
      "movq $0x5555555555555555, %%rax\n\t cmpq %%rax, %%rbx\n\t jne 2f\n\t"
      "movq %%xmm8, %%rax\n\t movq $0x6666666666666666, %%rdx\n\t cmpq %%rdx, %%rax\n\t jne 2f\n\t"
      "movq %%xmm15, %%rax\n\t movq $0x7777777777777777, %%rdx\n\t cmpq %%rdx, %%rax\n\t jne 2f\n\t"
      "decq %1\n\t"
      "jnz 1b\n\t"
      "jmp 3f\n"
      "2:\n\t"
      "movq $1, %0\n"
      "3:\n"
      : "=&r"(changed), "+r"(iterations)
      :
      : "rax", "rdx", "rbx", "r12", "r13", "r14", "r15", "xmm8", "xmm15", "cc");
  return changed;
}

static time_t g_end;

static void* Keep(void* unused) {
  (void)unused;
  long changed = 0;
  while (time(NULL) < g_end) changed += CheckRegisters(1000000);
  return (void*)changed;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  g_end = time(NULL) + atoi(argv[1]);
  pthread_t keeper;
  void* changed = NULL;
  pthread_create(&keeper, NULL, Keep, NULL);
  pthread_join(keeper, &changed);
  printf("registers kept: %s\n", changed == NULL ? "yes" : "NO");
  return 0;
}
