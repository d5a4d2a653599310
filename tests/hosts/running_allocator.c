/* Threads still allocating while the process exits (LSan stops the world
 * before its scan): each keeps a list of 7,777-byte blocks, its head in a
 * local (most likely a register), building it up and freeing it whole, over
 * and over. main calls exit() while they run. Nothing is leaked: every live
 * block is held by its thread. Usage: running_allocator THREADS MS [blocked]:
 * with "blocked", the threads block every signal. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct Node {
  struct Node* next;
  char payload[7777 - sizeof(struct Node*)];
};

__attribute__((noinline)) struct Node* AllocateNode(struct Node* next) {
  struct Node* node = malloc(sizeof *node);
  node->next = next;
  return node;
}

static void* Churn(void* blocked) {
  if (blocked != NULL) {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
  }
  for (;;) {
    struct Node* head = NULL;
    for (int i = 0; i < 64; ++i) head = AllocateNode(head);
    while (head != NULL) {
      struct Node* next = head->next;
      free(head);
      head = next;
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  int milliseconds = argc > 2 ? atoi(argv[2]) : 100;
  void* blocked = argc > 3 && strcmp(argv[3], "blocked") == 0 ? (void*)1 : NULL;
  for (int i = 0; i < threads; ++i) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, Churn, blocked) != 0) return 3;
  }
  nanosleep(&(struct timespec){milliseconds / 1000, (milliseconds % 1000) * 1000000L}, NULL);
  exit(0);
}
