#include "stack_capture.h"

#include <gtest/gtest.h>

#include <vector>

#include "stack_table.h"

namespace heapdrift::agent {
namespace {

struct Expected {
  uintptr_t into_level2 = 0;  // where Level3 returns to
  uintptr_t into_level1 = 0;  // where Level2 returns to
};

__attribute__((noinline)) std::vector<uintptr_t> Level3(Expected* expected) {
  expected->into_level2 = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  uintptr_t frames[StackTable::kMaxDepth];
  uint32_t depth = CaptureStack(frames, StackTable::kMaxDepth);
  asm volatile("" ::: "memory");  // not a tail call
  return std::vector<uintptr_t>(frames, frames + depth);
}

__attribute__((noinline)) std::vector<uintptr_t> Level2(Expected* expected) {
  expected->into_level1 = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  auto frames = Level3(expected);
  asm volatile("" ::: "memory");
  return frames;
}

__attribute__((noinline)) std::vector<uintptr_t> Level1(Expected* expected) {
  auto frames = Level2(expected);
  asm volatile("" ::: "memory");
  return frames;
}

void ExpectChainCaptured() {
  Expected expected;
  std::vector<uintptr_t> frames = Level1(&expected);
  ASSERT_GE(frames.size(), 3u);
  bool found = false;
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    if (frames[i] == expected.into_level2 && frames[i + 1] == expected.into_level1) found = true;
  }
  EXPECT_TRUE(found) << "the chain Level3 -> Level2 -> Level1 is not in the captured stack";
}

TEST(StackCapture, FallbackUnwinderCapturesTheCallChain) {
  // Before LoadUnwinder, capture uses libgcc's _Unwind_Backtrace.
  ExpectChainCaptured();
}

TEST(StackCapture, LibunwindCapturesTheCallChainInOrder) {
  ASSERT_TRUE(LoadUnwinder()) << "libunwind.so.8 must be installed (libunwind8)";
  ExpectChainCaptured();
}

TEST(StackCapture, FramesInTheAgentRangeAreCutFromTheTop) {
  ASSERT_TRUE(LoadUnwinder());
  Expected expected;
  uintptr_t begin = 0, end = 0;
  // Treat this test binary as "the agent": every frame inside it is cut from
  // the top, so the first frame left is outside it (libc's start code).
  ASSERT_TRUE(AgentTextRangeOf(reinterpret_cast<const void*>(&Level1), &begin, &end));
  SetAgentTextRange(begin, end);
  std::vector<uintptr_t> frames = Level1(&expected);
  SetAgentTextRange(0, 0);
  ASSERT_FALSE(frames.empty());
  EXPECT_TRUE(frames[0] < begin || frames[0] >= end);
}

}  // namespace
}  // namespace heapdrift::agent
