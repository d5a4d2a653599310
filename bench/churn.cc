// The churn workload: threads that malloc and free blocks of mixed sizes as
// fast as they can, keeping a small working set alive, like an allocation-
// heavy server. By default each block is written once, as a program would use
// it; with MODE "bare" only one byte is (the allocator-only worst case).
// DEPTH makes every allocation happen that many extra frames deep, to
// measure what the stack depth costs an unwinding profiler.
// Usage: churn THREADS MILLIONS_OF_OPERATIONS_PER_THREAD [bare|written] [DEPTH]
// Prints the wall time; run under bench/overhead.py for ratios.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

// Sizes: mostly small (16-512 B), some medium (up to 8 KiB), a few large.
size_t NextSize(uint64_t& state) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  uint32_t r = static_cast<uint32_t>(state >> 33);
  if (r % 100 < 80) return 16 + r % 512;
  if (r % 100 < 98) return 512 + r % 8192;
  return 8192 + r % (256 * 1024);
}

// `depth` frames of recursion, then malloc. The empty asm after the call
// keeps the compiler from turning the recursion into a loop or a tail call.
__attribute__((noinline)) char* AllocateAt(int depth, size_t size) {
  if (depth <= 0) return static_cast<char*>(std::malloc(size));
  char* block = AllocateAt(depth - 1, size);
  asm volatile("" ::: "memory");
  return block;
}

void Churn(int thread, long operations, bool bare, int depth) {
  constexpr int kSlots = 4096;  // working set: a few MB
  std::vector<char*> slots(kSlots, nullptr);
  uint64_t state = 0x9e3779b97f4a7c15ULL * (thread + 1);
  for (long i = 0; i < operations; ++i) {
    size_t slot = (state >> 20) % kSlots;
    std::free(slots[slot]);
    size_t size = NextSize(state);
    slots[slot] = AllocateAt(depth, size);
    if (bare) {
      slots[slot][0] = static_cast<char>(i);
    } else {
      std::memset(slots[slot], static_cast<int>(i), size);
    }
  }
  for (char* block : slots) std::free(block);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  long operations = static_cast<long>((argc > 2 ? std::atof(argv[2]) : 20.0) * 1e6);
  bool bare = argc > 3 && std::strcmp(argv[3], "bare") == 0;
  int depth = argc > 4 ? std::atoi(argv[4]) : 0;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(Churn, t, operations, bare, depth);
  for (auto& worker : workers) worker.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("churn: %d threads x %ld operations%s in %.3f s\n", threads, operations,
              bare ? " (bare)" : "", seconds);
  return 0;
}
