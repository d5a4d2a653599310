// The agent library exports the allocation API and nothing else, and needs
// only libc: no C++ runtime, unwinder or protobuf of ours enters the host.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "paths.h"
#include "subprocess.h"

namespace heapdrift::testing {
namespace {

std::set<std::string> Words(const std::string& text, size_t column) {
  std::set<std::string> words;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string field;
    for (size_t i = 0; i <= column && fields >> field; ++i) {
      if (i == column) words.insert(field);
    }
  }
  return words;
}

TEST(Isolation, ExportsOnlyTheAllocationApi) {
  ProcessResult symbols = RunProcess({"nm", "-D", "--defined-only", kAgentPath});
  ASSERT_EQ(symbols.exit_code, 0) << symbols.err;
  std::set<std::string> expected = {"malloc",        "free",          "calloc",
                                    "realloc",       "reallocarray",  "posix_memalign",
                                    "aligned_alloc", "memalign",      "valloc",
                                    "pvalloc",       "malloc_usable_size"};
  EXPECT_EQ(Words(symbols.out, 2), expected);
}

TEST(Isolation, NeedsOnlyLibc) {
  ProcessResult dynamic = RunProcess({"readelf", "-d", kAgentPath});
  ASSERT_EQ(dynamic.exit_code, 0);
  std::vector<std::string> needed;
  for (const std::string& line : LinesStartingWith(dynamic.out, " 0x")) {
    if (line.find("(NEEDED)") != std::string::npos) needed.push_back(line.substr(line.find('[')));
  }
  EXPECT_EQ(needed, std::vector<std::string>{"[libc.so.6]"});
}

// The C++ runtime linked into the agent is the part that needs no heap: a
// function-local static's guard, or anything that may throw, pulls in
// libstdc++'s exception support, whose 71 KiB emergency pool is malloc'd
// from the host's heap when the agent loads (and, held by the agent's own
// data, reads as a leak at exit).
TEST(Isolation, CarriesNoExceptionSupport) {
  ProcessResult symbols = RunProcess({"nm", kAgentPath});
  ASSERT_EQ(symbols.exit_code, 0) << symbols.err;
  std::set<std::string> names = Words(symbols.out, 2);
  for (const char* name : {"__cxa_guard_acquire", "__cxa_allocate_exception",
                           "_ZN12_GLOBAL__N_114emergency_poolE"}) {
    EXPECT_EQ(names.count(name), 0u) << name;
  }
}

// Nor does it load anything at run time: a sampled program's own memory map
// holds the agent and what the program itself needs, and no unwinder.
TEST(Isolation, LoadsNoLibraryIntoTheHost) {
  ProcessResult plain = RunProcess({"cat", "/proc/self/maps"});
  ProcessResult traced = RunUnderAgent({"cat", "/proc/self/maps"}, "/dev/null",
                                       {{"HEAPDRIFT_SAMPLE_BYTES", "1"}});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  auto libraries = [](const std::string& maps) {
    std::set<std::string> paths;
    for (const std::string& path : Words(maps, 5)) {
      if (path.find(".so") != std::string::npos) paths.insert(path);
    }
    return paths;
  };
  std::set<std::string> added = libraries(traced.out);
  for (const std::string& path : libraries(plain.out)) added.erase(path);
  EXPECT_EQ(added, std::set<std::string>{kAgentPath});
}

}  // namespace
}  // namespace heapdrift::testing
