/* A single-threaded event loop that wakes every millisecond: epoll_wait
 * with a 1 ms timeout, for RUN_MS. Its one thread is almost always asleep
 * in epoll_wait and runs for microseconds between waits, so `heapdrift
 * attach` often finds it running and reaches it only after it has entered
 * epoll_wait again. Prints how many waits failed with EINTR, which attach
 * must have said, to the call.
 * Usage: epoll_ticker RUN_MS */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  long run_ms = atol(argv[1]);
  int poller = epoll_create1(0);
  int never_ready[2];
  if (poller < 0 || pipe(never_ready) != 0) return 2;
  struct epoll_event event = {EPOLLIN, {0}}, ready;
  epoll_ctl(poller, EPOLL_CTL_ADD, never_ready[0], &event);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long interrupted = 0;
  do {
    if (epoll_wait(poller, &ready, 1, 1) < 0) {
      if (errno != EINTR) return 3;
      ++interrupted;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < run_ms);
  printf("epoll_wait failed with EINTR %ld times\n", interrupted);
  return 0;
}
