// Forks hundreds of times while other threads keep allocating, so some forks
// happen while another thread is inside malloc or the agent. Half the
// children exec a program, half allocate and exit. A profiler that holds a
// lock across fork deadlocks the child here. Usage: fork_exec FORKS EXEC_PATH
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  int forks = std::atoi(argv[1]);
  std::atomic<bool> stop{false};
  std::vector<std::thread> churners;
  for (int t = 0; t < 3; ++t) {
    churners.emplace_back([&stop, t] {
      std::vector<std::string> live;
      unsigned seed = 17u + t;
      while (!stop.load(std::memory_order_relaxed)) {
        live.emplace_back(64 + rand_r(&seed) % 8192, 'c');
        if (live.size() > 256) live.erase(live.begin(), live.begin() + 128);
      }
    });
  }
  int failed = 0;
  for (int i = 0; i < forks; ++i) {
    pid_t child = fork();
    if (child == 0) {
      // The child: single-threaded now, with whatever locks the parent's
      // threads held at fork. Allocating must still work.
      void* block = malloc(1000 + i);
      std::memset(block, 1, 1000);
      free(block);
      if (i % 2 == 0) {
        execl(argv[2], argv[2], "from-fork", static_cast<char*>(nullptr));
        _exit(126);
      }
      std::string text(5000, 'k');
      std::exit(text.size() == 5000 ? 0 : 1);  // runs exit handlers, the agent's included
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      ++failed;
    }
  }
  stop = true;
  for (auto& thread : churners) thread.join();
  std::printf("%d forks, %d failed\n", forks, failed);
  return failed == 0 ? 0 : 1;
}
