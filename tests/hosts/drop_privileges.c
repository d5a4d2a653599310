/* A daemon's start: as root, bind a port on loopback, start a worker thread,
 * then drop to nobody (setgroups, setgid, setuid: glibc applies each to every
 * thread, the agent's collector included) and go on allocating. Prints who
 * it is and whether root can be regained (it must not). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void* Work(void* unused) {
  (void)unused;
  long sum = 0;
  for (int i = 0; i < 20000; ++i) {
    char* block = malloc(100 + (size_t)(i % 3000));
    block[0] = (char)i;
    sum += block[0];
    free(block);
  }
  return (void*)sum;
}

int main(void) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address;
  memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listener < 0 || bind(listener, (struct sockaddr*)&address, sizeof(address)) != 0) {
    perror("bind");
    return 2;
  }
  pthread_t worker;
  pthread_create(&worker, NULL, Work, NULL);
  if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
    perror("drop");
    return 3;
  }
  pthread_join(worker, NULL);
  Work(NULL);
  printf("uid %d gid %d groups %d regained root: %s\n", (int)getuid(), (int)getgid(),
         getgroups(0, NULL), setuid(0) == 0 ? "yes" : "no");
  close(listener);
  return 0;
}
