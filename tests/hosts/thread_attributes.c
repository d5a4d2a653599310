/* Threads that ask glibc for their own attributes: pthread_getattr_np holds
 * the thread's descriptor lock while it allocates (a realloc of the CPU set),
 * so a sample of that allocation must not need the same lock. An early
 * version of the agent's unwinder asked pthread_getattr_np for the stack
 * bounds, and such a thread deadlocked on its first sample. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void* AskOwnAttributes(void* unused) {
  (void)unused;
  size_t total = 0;
  for (int i = 0; i < 200; ++i) {
    pthread_attr_t attributes;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0) return (void*)1;
    size_t size = 0;
    pthread_attr_getstacksize(&attributes, &size);
    total += size != 0;
    pthread_attr_destroy(&attributes);
  }
  return total == 200 ? NULL : (void*)1;
}

int main(void) {
  enum { kThreads = 8 };
  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i) pthread_create(&threads[i], NULL, AskOwnAttributes, NULL);
  int failed = 0;
  for (int i = 0; i < kThreads; ++i) {
    void* result = NULL;
    pthread_join(threads[i], &result);
    failed += result != NULL;
  }
  failed += AskOwnAttributes(NULL) != NULL;
  printf("thread_attributes: %d failed\n", failed);
  return failed;
}
