#include <stdlib.h>
#include <string.h>

struct Node {
  struct Node* next;
  char name[32];
};

static struct Node* MakeList(int count) {
  struct Node* head = NULL;
  for (int i = 0; i < count; ++i) {
    struct Node* node = malloc(sizeof(*node));
    strcpy(node->name, "node");
    node->next = head;
    head = node;
  }
  return head;
}

int main(void) {
  struct Node* list = MakeList(10);
  int ok = list != NULL;
  list = NULL;  /* the leak: ten nodes never freed */
  return ok ? 0 : 1;
}
