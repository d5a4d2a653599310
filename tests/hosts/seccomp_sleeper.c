/* Runs under a seccomp filter that allows every system call, then sleeps
 * SLEEP_MS: the kernel reports it as filtered (Seccomp: 2), and attach
 * cannot know what a filter allows, so it must refuse to enter it.
 * Usage: seccomp_sleeper SLEEP_MS */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  struct sock_filter allow_all[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog program = {1, allow_all};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    return 3;
  }
  long ms = atol(argv[1]);
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&pause, NULL);
  return 0;
}
