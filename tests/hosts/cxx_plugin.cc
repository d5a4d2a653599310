// The C++ plugin c_host loads: throws through a few frames and catches.
#include <stdexcept>
#include <string>
#include <vector>

namespace {
__attribute__((noinline)) void Throw(int i) {
  std::vector<std::string> work(3, std::string(40, 'p'));
  if (i >= 0) throw std::invalid_argument("plugin " + std::to_string(i) + work[0]);
}
}  // namespace

extern "C" int plugin_throw_and_catch(int times) {
  int caught = 0;
  for (int i = 0; i < times; ++i) {
    try {
      Throw(i);
    } catch (const std::invalid_argument&) {
      ++caught;
    }
  }
  return caught;
}
