// The per-allocation hot path, protected rather than only measured: the
// built libheapdrift.so is disassembled (objdump) and each exported
// allocation function's fast path, the instructions run when nothing is
// sampled, is checked to make no call but the real allocator's and to stay
// short; calls elsewhere in the function may only reach the cold, sampled
// branches. tcmalloc keeps golden files of its fast path for the same
// reason: an innocent change (a non-inline helper, a TLS model, a counter)
// can put a call or a lock on every allocation without any test failing.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "paths.h"

namespace {

struct Instruction {
  uint64_t address = 0;
  std::string text;  // mnemonic and operands, demangled
};

// Each function's instructions, by symbol name.
std::map<std::string, std::vector<Instruction>> Disassemble(const std::string& path) {
  std::map<std::string, std::vector<Instruction>> functions;
  std::string command = "objdump -d -C --no-show-raw-insn '" + path + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return functions;
  static const std::regex kFunction(R"(^[0-9a-f]+ <(.+)>:$)");
  static const std::regex kInstruction(R"(^\s*([0-9a-f]+):\s+(.*\S)\s*$)");
  std::vector<Instruction>* current = nullptr;
  char buffer[4096];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) {
    std::string line(buffer);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    std::smatch match;
    if (std::regex_match(line, match, kFunction)) {
      current = &functions[match[1]];
    } else if (current != nullptr && std::regex_match(line, match, kInstruction)) {
      current->push_back({std::stoull(match[1], nullptr, 16), match[2]});
    }
  }
  pclose(pipe);
  return functions;
}

bool StartsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

bool IsReturnOrTailCall(const std::string& text) {
  return StartsWith(text, "ret") || StartsWith(text, "jmp    *") ||
         StartsWith(text, "jmp *");
}

// The path taken when no branch is: conditional branches fall through,
// direct jumps are followed, until a return or an indirect tail call.
std::vector<Instruction> FastPath(const std::vector<Instruction>& function) {
  std::map<uint64_t, size_t> index;
  for (size_t i = 0; i < function.size(); ++i) index[function[i].address] = i;
  std::vector<Instruction> path;
  static const std::regex kDirectJump(R"(^jmp\s+([0-9a-f]+) <)");
  for (size_t i = 0; i < function.size() && path.size() < 200;) {
    const Instruction& instruction = function[i];
    path.push_back(instruction);
    if (IsReturnOrTailCall(instruction.text)) break;
    std::smatch match;
    if (std::regex_search(instruction.text, match, kDirectJump)) {
      auto target = index.find(std::stoull(match[1], nullptr, 16));
      if (target == index.end()) break;  // a tail call to another function
      i = target->second;
      continue;
    }
    ++i;
  }
  return path;
}

class HotPath : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { functions_ = Disassemble(heapdrift::testing::kAgentPath); }
  static std::map<std::string, std::vector<Instruction>> functions_;
};
std::map<std::string, std::vector<Instruction>> HotPath::functions_;

// The entry points on every allocation and free (C++'s new and delete reach
// them through libstdc++), whose fast path may call only through the real
// allocator's pointers (`call *`/`jmp *`). realloc is left out: its
// bookkeeping is out of line by design (hooks.h).
const char* const kHotFunctions[] = {"malloc",        "calloc",   "free",   "posix_memalign",
                                     "aligned_alloc", "memalign", "valloc", "pvalloc"};
// Where the rest of a hot function may call: the sampled branches, and
// errno for a calloc whose size overflows.
const char* const kColdCallees[] = {"heapdrift::agent::OnSampleDue(",
                                    "heapdrift::agent::OnMaybeSampledFree(",
                                    "__errno_location"};
// Instructions on a fast path, at most: today up to 25 with GCC 12, on free's
// path through the filter's coarse summary (the bootstrap heap's range, which
// summary, the hash, the bit: 23 through the fine one). A bound, not a golden
// count, so that a compiler's reordering passes and an added call or loop
// does not.
constexpr size_t kMaxFastPathInstructions = 27;

TEST_F(HotPath, FastPathsMakeNoCallButTheRealAllocator) {
  ASSERT_FALSE(functions_.empty()) << "objdump could not read " << heapdrift::testing::kAgentPath;
  for (const char* name : kHotFunctions) {
    SCOPED_TRACE(name);
    auto function = functions_.find(name);
    ASSERT_NE(function, functions_.end());
    std::vector<Instruction> path = FastPath(function->second);
    ASSERT_FALSE(path.empty());
    EXPECT_TRUE(IsReturnOrTailCall(path.back().text)) << path.back().text;
    EXPECT_LE(path.size(), kMaxFastPathInstructions);
    size_t real_allocator_calls = 0;
    for (const Instruction& instruction : path) {
      bool indirect = StartsWith(instruction.text, "call   *") ||
                      StartsWith(instruction.text, "jmp    *");
      if (StartsWith(instruction.text, "call")) {
        EXPECT_TRUE(indirect) << "a direct call on the fast path: " << instruction.text;
      }
      real_allocator_calls += indirect;
      EXPECT_FALSE(StartsWith(instruction.text, "lock")) << instruction.text;
    }
    EXPECT_EQ(real_allocator_calls, 1u);
  }
}

TEST_F(HotPath, OtherCallsReachOnlyTheColdBranches) {
  ASSERT_FALSE(functions_.empty());
  static const std::regex kDirectCall(R"(^call\s+[0-9a-f]+ <(.+)>$)");
  for (const char* name : kHotFunctions) {
    SCOPED_TRACE(name);
    auto function = functions_.find(name);
    ASSERT_NE(function, functions_.end());
    std::vector<Instruction> code = function->second;
    // What GCC moved out of line as unlikely (name.cold) belongs to it too.
    if (auto cold = functions_.find(std::string(name) + ".cold"); cold != functions_.end()) {
      code.insert(code.end(), cold->second.begin(), cold->second.end());
    }
    for (const Instruction& instruction : code) {
      EXPECT_EQ(instruction.text.find("__tls_get_addr"), std::string::npos) << instruction.text;
      std::smatch match;
      if (!std::regex_match(instruction.text, match, kDirectCall)) continue;
      bool cold = false;
      for (const char* callee : kColdCallees) cold |= StartsWith(match[1], callee);
      EXPECT_TRUE(cold) << "calls " << match[1];
    }
  }
}

}  // namespace
