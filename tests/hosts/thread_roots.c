/* What threads hand over at their end and start: a joined thread's return
 * value (4,441 bytes, kept in a global by main), a detached thread's block
 * kept only on its stack while it waits forever (4,442, reachable: its
 * stack is still mapped at exit), a thread argument freed by the thread
 * (4,443: gone), and a block a joined thread dropped (4,444, leaked). Like
 * LSan's thread_join / leak_check_before_thread_started cases. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void* g_returned;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_ready = PTHREAD_COND_INITIALIZER;
static int g_detached_ready;

static void* Joined(void* argument) {
  free(argument);
  char* volatile dropped = malloc(4444);
  memset(dropped, 1, 16);
  return malloc(4441);
}

static void* Detached(void* unused) {
  (void)unused;
  void* volatile on_stack = malloc(4442);
  pthread_mutex_lock(&g_lock);
  g_detached_ready = 1;
  pthread_cond_signal(&g_ready);
  pthread_mutex_unlock(&g_lock);
  for (;;) pause();
  return on_stack;
}

int main(void) {
  pthread_t joined, detached;
  pthread_create(&joined, NULL, Joined, malloc(4443));
  pthread_join(joined, &g_returned);
  pthread_create(&detached, NULL, Detached, NULL);
  pthread_detach(detached);
  pthread_mutex_lock(&g_lock);
  while (!g_detached_ready) pthread_cond_wait(&g_ready, &g_lock);
  pthread_mutex_unlock(&g_lock);
  return g_returned == NULL;
}
