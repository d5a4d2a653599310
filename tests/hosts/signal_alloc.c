/* Signal handlers that allocate, firing thousands of times a second while
 * the program allocates on several threads and frees blocks the handler
 * made. malloc is not async-signal-safe, so, like real programs that get
 * away with it, the handler only allocates when the interrupted thread is
 * not inside an allocation call itself; the agent's own work on that thread
 * (its sampling path runs after the real allocator returned) is fair game. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static __thread volatile int in_allocation = 0;
static __thread void* volatile from_handler = NULL;
static atomic_long handled = 0;

static void OnAlarm(int signal_number) {
  (void)signal_number;
  if (in_allocation) return;
  char* block = malloc(200 + (size_t)(handled % 5000));
  memset(block, 1, 200);
  char* bigger = realloc(block, 9000);
  if (from_handler == NULL) {
    from_handler = bigger;  /* freed later by the interrupted thread */
  } else {
    free(bigger);
  }
  ++handled;
}

static void* Work(void* unused) {
  (void)unused;
  long checksum = 0;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int i = 0;; ++i) {
    if (i % 1024 == 0) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec - start.tv_sec >= 2) break;
    }
    in_allocation = 1;
    char* block = malloc(16 + (size_t)(i % 3000));
    in_allocation = 0;
    block[0] = (char)i;
    for (int spin = 0; spin < 2000; ++spin) checksum += block[0] * spin;
    in_allocation = 1;
    free(block);
    if (from_handler != NULL) {
      free(from_handler);
      from_handler = NULL;
    }
    in_allocation = 0;
  }
  /* From here on the handler leaves this thread alone: at thread exit glibc
   * frees the thread's tcache holding its arena's lock, and a handler that
   * allocated then would wait on that lock forever, agent or not (seen: 1 run
   * in ~12 hung there). */
  in_allocation = 1;
  if (from_handler != NULL) {
    free(from_handler);
    from_handler = NULL;
  }
  return (void*)checksum;
}

int main(void) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = OnAlarm;
  action.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &action, NULL);
  struct itimerval timer = {{0, 200}, {0, 200}};
  setitimer(ITIMER_REAL, &timer, NULL);
  pthread_t threads[3];
  /* pthread_create allocates the new thread's TLS with glibc's own calls,
   * holding an arena lock: a handler allocating then hangs the program,
   * agent or not (seen: the plain run hung once under load). The joins are
   * covered by Work's last lines. */
  in_allocation = 1;
  for (int t = 0; t < 3; ++t) pthread_create(&threads[t], NULL, Work, NULL);
  in_allocation = 0;
  Work(NULL);
  for (int t = 0; t < 3; ++t) pthread_join(threads[t], NULL);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("done %s\n", handled >= 100 ? "with handlers" : "without handlers");
  return 0;
}
