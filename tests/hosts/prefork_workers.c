/* A pre-forking server in miniature (nginx, Apache prefork, PostgreSQL): the
 * parent builds its state while a second thread allocates, then forks
 * workers that each keep allocating at their own call site and free half of
 * what they inherited, then exit normally. Usage: prefork_workers WORKERS MS */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kParentBlocks = 1024, kParentBlockBytes = 8192, kWorkerBlockBytes = 2048 };

static void* parent_state[kParentBlocks];
static atomic_int stop_churn;

__attribute__((noinline)) void ParentSetup(void) {
  for (int i = 0; i < kParentBlocks; ++i) {
    parent_state[i] = malloc(kParentBlockBytes);
    memset(parent_state[i], 1, kParentBlockBytes);
  }
}

/* Keeps the parent multi-threaded and inside malloc at fork time. */
static void* Churn(void* unused) {
  (void)unused;
  while (!atomic_load(&stop_churn)) free(malloc(64 + rand() % 4096));
  return NULL;
}

__attribute__((noinline)) void** WorkerLoop(int milliseconds, int* count) {
  void** kept = malloc(sizeof(void*) * (size_t)milliseconds);
  for (int i = 0; i < milliseconds; ++i) {
    kept[i] = malloc(kWorkerBlockBytes);
    memset(kept[i], 2, kWorkerBlockBytes);
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  *count = milliseconds;
  return kept;
}

static int RunWorker(int milliseconds) {
  for (int i = 0; i < kParentBlocks; i += 2) free(parent_state[i]);
  int count = 0;
  void** kept = WorkerLoop(milliseconds, &count);
  long sum = 0;
  for (int i = 0; i < count; ++i) sum += ((char*)kept[i])[i % kWorkerBlockBytes];
  return sum == 2L * count ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  int workers = atoi(argv[1]), milliseconds = atoi(argv[2]);
  pthread_t churn;
  pthread_create(&churn, NULL, Churn, NULL);
  ParentSetup();
  for (int w = 0; w < workers; ++w) {
    pid_t child = fork();
    if (child == 0) exit(RunWorker(milliseconds));
    if (child < 0) return 3;
  }
  int failed = 0;
  for (int w = 0; w < workers; ++w) {
    int status = 0;
    if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  atomic_store(&stop_churn, 1);
  pthread_join(churn, NULL);
  printf("%d workers, %d failed\n", workers, failed);
  return failed == 0 ? 0 : 1;
}
