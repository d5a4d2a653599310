/* A program behind a wrapper: leaks 4 KiB every 10 ms in RememberSession for
 * MILLISECONDS, prints one line that does not depend on timing, and exits
 * with EXIT_CODE. Usage: steady_leak MILLISECONDS EXIT_CODE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct Session {
  struct Session* next;
  char data[4096 - sizeof(struct Session*)];
};

struct Session* g_sessions; /* never expired: the leak */

__attribute__((noinline)) static void RememberSession(int id) {
  struct Session* session = malloc(sizeof(struct Session));
  memset(session->data, id & 0xff, sizeof(session->data));
  session->next = g_sessions;
  g_sessions = session;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  long milliseconds = atol(argv[1]);
  int requests = 0;
  struct timespec start, now, pause = {0, 10 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  do {
    RememberSession(requests++);
    char* scratch = malloc(1000); /* freed at once: not a leak */
    free(scratch);
    nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 <
           milliseconds);
  printf("steady_leak: served requests for %ld ms\n", milliseconds);
  return atoi(argv[2]);
}
