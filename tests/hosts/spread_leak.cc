// Growth spread thin: one function, RememberEverywhere, leaks through 256
// small helpers (each its own call site), so the heap grows ~1 MB/s while
// each site alone grows ~4 KB/s, too little to stand out from sampling.
// Usage: spread_leak MILLISECONDS
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

namespace {

void* volatile g_sink;  // keeps the pointer chain reachable for no one

template <int kSite>
__attribute__((noinline)) void* Remember(size_t bytes) {
  auto** block = static_cast<void**>(std::malloc(bytes));
  std::memset(block, kSite & 0xff, bytes);
  *block = g_sink;  // a chain through every block: all of it stays live
  return block;
}

template <size_t... kSites>
constexpr auto Table(std::index_sequence<kSites...>) {
  return std::array<void* (*)(size_t), sizeof...(kSites)>{&Remember<kSites>...};
}
constexpr auto kRemember = Table(std::make_index_sequence<256>());

__attribute__((noinline)) void RememberEverywhere(unsigned tick) {
  for (unsigned i = 0; i < 10; ++i) g_sink = kRemember[(tick * 10 + i) % kRemember.size()](1000);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::atol(argv[1]));
  for (unsigned tick = 0; std::chrono::steady_clock::now() < end; ++tick) {
    RememberEverywhere(tick);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("spread_leak: done\n");
  return 0;
}
