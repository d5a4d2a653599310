#include <stdlib.h>
#include <string.h>

int main(void) {
  char* copy = strdup("key=value");
  int ok = strchr(copy, '=') != NULL;
  free(copy);
  return ok ? 0 : 1;
}
