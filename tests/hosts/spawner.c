/* A C program that starts another one and waits for it, as supervisors and
 * launchers do: allocates a little, fork()s, the child execs ARGS, the
 * parent reports the child's status as its own. Usage: spawner PROGRAM ARGS... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  char* name = strdup(argv[1]);
  pid_t child = fork();
  if (child == 0) {
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return 1;
  free(name);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
