#include <stdlib.h>

static int Compare(const void* a, const void* b) { return *(const int*)a - *(const int*)b; }

int main(void) {
  int* values = malloc(100 * sizeof(int));
  for (int i = 0; i < 100; ++i) values[i] = 100 - i;
  qsort(values, 100, sizeof(int), Compare);
  int ok = values[0] == 1;
  free(values);
  return ok ? 0 : 1;
}
