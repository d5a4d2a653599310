/* The main thread blocks in one system call while `heapdrift attach` enters
 * the process; a second thread ends the wait after WAIT_MS. Prints what the
 * call returned, which must not depend on the attach: no EINTR, no lost
 * data, a sleep as long as asked.
 * Usage: blocked_call accept|read|epoll_wait|nanosleep WAIT_MS */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long g_wait_ms;
static int g_pipe[2];
static struct sockaddr_in g_address;

static void SleepMs(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
  }
}

/* Ends the main thread's wait: a byte on the pipe, and a connection. */
static void* Waker(void* unused) {
  (void)unused;
  SleepMs(g_wait_ms);
  if (write(g_pipe[1], "x", 1) != 1) abort();
  int client = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(client, (struct sockaddr*)&g_address, sizeof(g_address)) != 0) abort();
  SleepMs(200);
  close(client);
  return NULL;
}

static long ElapsedMs(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const char* call = argv[1];
  g_wait_ms = atol(argv[2]);
  if (pipe(g_pipe) != 0) return 2;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  g_address.sin_family = AF_INET;
  g_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(g_address);
  if (bind(listener, (struct sockaddr*)&g_address, sizeof(g_address)) != 0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, (struct sockaddr*)&g_address, &size) != 0) {
    return 2;
  }
  pthread_t waker;
  pthread_create(&waker, NULL, Waker, NULL);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long result = 0;
  if (strcmp(call, "accept") == 0) {
    result = accept(listener, NULL, NULL) >= 0;
  } else if (strcmp(call, "read") == 0) {
    char byte = 0;
    result = read(g_pipe[0], &byte, 1) == 1 && byte == 'x';
  } else if (strcmp(call, "epoll_wait") == 0) {
    int poller = epoll_create1(0);
    struct epoll_event event = {EPOLLIN, {0}}, ready;
    epoll_ctl(poller, EPOLL_CTL_ADD, g_pipe[0], &event);
    result = epoll_wait(poller, &ready, 1, -1);
  } else if (strcmp(call, "nanosleep") == 0) {
    struct timespec pause = {g_wait_ms / 1000, (g_wait_ms % 1000) * 1000000}, left = {0, 0};
    result = nanosleep(&pause, &left) == 0 && ElapsedMs(&start) >= g_wait_ms;
  } else {
    return 2;
  }
  int error = errno;
  pthread_join(waker, NULL);
  printf("%s returned %ld%s%s\n", call, result, result < 0 ? ": " : "",
         result < 0 ? strerror(error) : "");
  return 0;
}
