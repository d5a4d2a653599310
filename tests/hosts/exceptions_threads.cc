// C++ exceptions thrown and caught on many threads at once, and one carried
// across threads with std::exception_ptr, while every thread allocates.
#include <atomic>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

__attribute__((noinline)) void Fail(int depth, int value) {
  if (depth == 0) throw std::runtime_error("failure " + std::to_string(value));
  std::string padding(static_cast<size_t>(16 + depth), 'x');
  Fail(depth - 1, value + static_cast<int>(padding.size() % 2));
}

}  // namespace

int main() {
  std::atomic<long> caught{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&caught, t] {
      for (int i = 0; i < 2000; ++i) {
        try {
          Fail(i % 12, t);
        } catch (const std::runtime_error& error) {
          if (std::string(error.what()).rfind("failure", 0) == 0) ++caught;
        }
      }
    });
  }
  std::exception_ptr carried;
  std::thread thrower([&carried] {
    try {
      throw std::out_of_range("crossed threads");
    } catch (...) {
      carried = std::current_exception();
    }
  });
  thrower.join();
  for (auto& thread : threads) thread.join();
  try {
    std::rethrow_exception(carried);
  } catch (const std::out_of_range& error) {
    std::printf("rethrown: %s\n", error.what());
  }
  std::printf("caught %ld\n", caught.load());
  return caught.load() == 8 * 2000 ? 0 : 1;
}
