/* Allocates a little and reports whether the agent was preloaded into it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  char* text = strdup(argc > 1 ? argv[1] : "child");
  const char* preload = getenv("LD_PRELOAD");
  int preloaded = preload != NULL && strstr(preload, "libheapdrift.so") != NULL;
  if (argc > 1 && strcmp(argv[1], "from-fork") == 0) {
    free(text);
    return 0;
  }
  printf("child %s: agent %s\n", text, preloaded ? "preloaded" : "absent");
  free(text);
  return 0;
}
