/* A daemon's start-up: closes every descriptor it did not open (the agent's
 * output among them), opens its own log, which gets the lowest free number
 * (the agent's old one), then forks a worker that logs too. The log must
 * hold exactly what the program wrote. Usage: closes_fds LOG */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void Log(int fd, const char* line) {
  char* copy = strdup(line); /* allocations, so the agent keeps sampling */
  if (write(fd, copy, strlen(copy)) < 0) exit(3);
  free(copy);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  for (int fd = 3; fd < 1024; ++fd) close(fd);
  int log = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (log < 0) return 4;
  Log(log, "parent started\n");
  for (int i = 0; i < 200; ++i) {
    free(malloc(4096 * (size_t)(i % 16 + 1)));
    usleep(1000);
  }
  pid_t child = fork();
  if (child == 0) {
    Log(log, "worker started\n");
    for (int i = 0; i < 100; ++i) free(malloc(65536));
    exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  Log(log, "parent done\n");
  printf("log fd %d\n", log);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
