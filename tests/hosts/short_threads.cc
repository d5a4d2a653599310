// Thousands of short-lived threads, each allocating; every 10th keeps one
// 1234-byte block alive forever. At exit exactly THREADS/10 such blocks are
// live: an agent that loses what a thread buffered before exiting reports fewer.
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

std::mutex g_mutex;
std::vector<void*>* g_kept = new std::vector<void*>();

int main(int argc, char** argv) {
  int total = argc > 1 ? std::atoi(argv[1]) : 5000;
  g_kept->reserve(static_cast<size_t>(total));
  for (int started = 0; started < total;) {
    std::vector<std::thread> batch;
    for (int i = 0; i < 50 && started < total; ++i, ++started) {
      batch.emplace_back([index = started] {
        std::vector<std::string> scratch(20, std::string(100, 's'));
        if (index % 10 == 0) {
          void* kept = std::malloc(1234);
          std::lock_guard lock(g_mutex);
          g_kept->push_back(kept);
        }
      });
    }
    for (auto& thread : batch) thread.join();
  }
  std::printf("%d threads, kept %zu\n", total, g_kept->size());
  return 0;
}
