// The agent's own unwinder against libgcc's (the reference every C++
// exception goes through), on the stacks a sampled allocation can have: plain
// calls, frames addressed from RBP (alloca), calls back from libc, a signal
// handler, a thread on a stack of its own and a coroutine on a heap stack.
#include "stack_capture.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <unwind.h>

#include <alloca.h>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <vector>

#include "call_frame_info.h"
#include "compiler.h"
#include "frame_unwinder.h"
#include "stack_table.h"

namespace heapdrift::agent {
namespace {

// Fixed arrays, not vectors: one of the walks is taken inside a signal
// handler, where allocating is not allowed.
struct Frames {
  uintptr_t at[StackTable::kMaxDepth];
  size_t size = 0;
  uintptr_t operator[](size_t i) const { return at[i]; }
  bool empty() const { return size == 0; }
};

HD_NOINLINE void Ours(Frames* frames) {
  frames->size = CaptureFrames(frames->at, StackTable::kMaxDepth);
}

// libgcc's view of the same stack, from the same point.
HD_NOINLINE void Reference(Frames* frames) {
  frames->size = 0;
  _Unwind_Backtrace(
      [](_Unwind_Context* context, void* data) {
        auto* walk = static_cast<Frames*>(data);
        int before_instruction = 0;
        uintptr_t pc = _Unwind_GetIPInfo(context, &before_instruction);
        if (pc == 0 || walk->size >= StackTable::kMaxDepth) return _URC_END_OF_STACK;
        walk->at[walk->size++] = before_instruction ? pc + 1 : pc;
        return _URC_NO_REASON;
      },
      frames);
}

// Both walks, taken in one frame, compared from the first frame they share.
struct BothWalks {
  Frames ours, reference;
};

HD_NOINLINE void CaptureInto(BothWalks* walks) {
  Ours(&walks->ours);
  Reference(&walks->reference);
  asm volatile("" ::: "memory");
}

HD_NOINLINE BothWalks Capture() {
  BothWalks walks;
  CaptureInto(&walks);
  asm volatile("" ::: "memory");
  return walks;
}

void ExpectSameStack(const BothWalks& walks, size_t at_least) {
  // The walks start in different functions (Ours, Reference): line them up
  // on their first common frame, the return into Capture().
  size_t ours = 0, reference = walks.reference.size;
  for (; ours < walks.ours.size && ours < 3; ++ours) {
    const uintptr_t* end = walks.reference.at + walks.reference.size;
    const uintptr_t* found = std::find(walks.reference.at, end, walks.ours[ours]);
    if (found != end) {
      reference = static_cast<size_t>(found - walks.reference.at);
      break;
    }
  }
  ASSERT_LT(reference, walks.reference.size) << "no frame in common";
  size_t agreed = 0;
  while (ours < walks.ours.size && reference < walks.reference.size) {
    ASSERT_EQ(walks.ours[ours], walks.reference[reference])
        << "frame " << agreed << " differs (ours " << walks.ours.size << " frames, libgcc "
        << walks.reference.size << ")";
    ++ours, ++reference, ++agreed;
  }
  EXPECT_GE(agreed, at_least);
  EXPECT_EQ(reference, walks.reference.size)
      << "ours stopped " << walks.reference.size - reference << " frames before libgcc";
}

HD_NOINLINE BothWalks Recurse(int depth) {
  if (depth == 0) return Capture();
  BothWalks walks = Recurse(depth - 1);
  asm volatile("" ::: "memory");
  return walks;
}

TEST(FrameUnwinder, AgreesWithLibgccOnADeepChain) { ExpectSameStack(Recurse(40), 40); }

// alloca makes the compiler address the frame from RBP.
HD_NOINLINE BothWalks WithAlloca(int depth, size_t bytes) {
  auto* buffer = static_cast<volatile char*>(alloca(bytes));
  buffer[0] = 1;
  if (depth == 0) return Capture();
  BothWalks walks = WithAlloca(depth - 1, bytes + 24);
  buffer[1] = 2;
  return walks;
}

TEST(FrameUnwinder, AgreesWithLibgccThroughRbpBasedFrames) { ExpectSameStack(WithAlloca(8, 40), 8); }

// A walk from a function's caller frame (HD_CALLER_FRAME, as the sampled
// malloc takes it) is the full walk from inside the function minus its first
// frame, also when the callers address their frames from RBP.
struct FromTheCaller {
  Frames full, from_caller;
};

HD_NOINLINE void BothFromHere(FromTheCaller* walks) {
  walks->full.size = CaptureFrames(walks->full.at, StackTable::kMaxDepth);
  walks->from_caller.size =
      CaptureFramesFrom(HD_CALLER_FRAME(), walks->from_caller.at, StackTable::kMaxDepth);
  asm volatile("" ::: "memory");  // not a tail call
}

HD_NOINLINE void FromTheCallerAt(int depth, size_t alloca_bytes, FromTheCaller* walks) {
  auto* buffer = static_cast<volatile char*>(alloca(alloca_bytes));
  buffer[0] = 1;
  if (depth == 0) {
    BothFromHere(walks);
  } else {
    FromTheCallerAt(depth - 1, alloca_bytes + 24, walks);
  }
  buffer[1] = 2;
}

void ExpectTheFullWalkMinusOneFrame(size_t alloca_bytes) {
  FromTheCaller walks;
  FromTheCallerAt(12, alloca_bytes, &walks);
  ASSERT_GE(walks.full.size, 14u);
  ASSERT_EQ(walks.from_caller.size + 1, walks.full.size);
  for (size_t i = 0; i < walks.from_caller.size; ++i) {
    ASSERT_EQ(walks.from_caller[i], walks.full[i + 1]) << "frame " << i;
  }
}

TEST(FrameUnwinder, AWalkFromTheCallerFrameIsTheFullWalkBelowIt) {
  ExpectTheFullWalkMinusOneFrame(8);
}

TEST(FrameUnwinder, AWalkFromTheCallerFrameFollowsRbpBasedCallers) {
  ExpectTheFullWalkMinusOneFrame(4000);
}

BothWalks g_from_callback;
int CompareAndCapture(const void* a, const void* b) {
  if (g_from_callback.ours.empty()) CaptureInto(&g_from_callback);
  return std::memcmp(a, b, sizeof(int));
}

TEST(FrameUnwinder, AgreesWithLibgccThroughLibcCallingBack) {
  int values[64];
  for (int i = 0; i < 64; ++i) values[i] = 64 - i;
  g_from_callback = {};
  std::qsort(values, 64, sizeof(int), CompareAndCapture);
  ExpectSameStack(g_from_callback, 3);
}

BothWalks g_in_handler;
uintptr_t g_interrupted_caller = 0;
void Handler(int) { CaptureInto(&g_in_handler); }

HD_NOINLINE void RaiseHere() {
  g_interrupted_caller = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  raise(SIGUSR1);
  asm volatile("" ::: "memory");
}

TEST(FrameUnwinder, WalksThroughASignalFrameIntoTheInterruptedCode) {
  struct sigaction action {}, previous {};
  action.sa_handler = Handler;
  sigaction(SIGUSR1, &action, &previous);
  RaiseHere();
  sigaction(SIGUSR1, &previous, nullptr);
  ExpectSameStack(g_in_handler, 4);
  bool caller_found = false;
  for (size_t i = 0; i < g_in_handler.ours.size; ++i) {
    caller_found |= g_in_handler.ours[i] == g_interrupted_caller;
  }
  EXPECT_TRUE(caller_found) << "the walk did not come out of the handler into RaiseHere's caller";
}

void* OnItsOwnStack(void* result) {
  *static_cast<BothWalks*>(result) = Recurse(5);
  return nullptr;
}

TEST(FrameUnwinder, AThreadOnAStackOfItsOwn) {
  constexpr size_t kSize = 1 << 20;
  void* stack = std::aligned_alloc(4096, kSize);
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstack(&attributes, stack, kSize);
  BothWalks walks;
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, &attributes, OnItsOwnStack, &walks), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attributes);
  std::free(stack);
  ExpectSameStack(walks, 5);
}

ucontext_t g_main_context, g_coroutine_context;
BothWalks g_in_coroutine;
void Coroutine() { g_in_coroutine = Recurse(3); }

// A coroutine's stack is heap memory the thread's bounds do not cover: each
// page is checked before it is read.
TEST(FrameUnwinder, ACoroutineOnAHeapStack) {
  std::vector<char> stack(256 * 1024);
  getcontext(&g_coroutine_context);
  g_coroutine_context.uc_stack.ss_sp = stack.data();
  g_coroutine_context.uc_stack.ss_size = stack.size();
  g_coroutine_context.uc_link = &g_main_context;
  makecontext(&g_coroutine_context, Coroutine, 0);
  swapcontext(&g_main_context, &g_coroutine_context);
  ExpectSameStack(g_in_coroutine, 3);
}

TEST(FrameRule, PacksAndUnpacksEveryField) {
  FrameRule rule;
  rule.kind = FrameRule::kCfaFromRbp;
  rule.cfa_offset = -123456;
  rule.rbp_saved = true;
  rule.rbp_offset = -16;
  rule.return_address_offset = -8;
  FrameRule back = FrameRule::Unpack(rule.Pack());
  EXPECT_EQ(back.kind, rule.kind);
  EXPECT_EQ(back.cfa_offset, rule.cfa_offset);
  EXPECT_EQ(back.rbp_saved, rule.rbp_saved);
  EXPECT_EQ(back.rbp_offset, rule.rbp_offset);
  EXPECT_EQ(back.return_address_offset, rule.return_address_offset);
  rule.rbp_offset = 40000;  // does not fit: no rule rather than a wrong one
  EXPECT_EQ(FrameRule::Unpack(rule.Pack()).kind, FrameRule::kStop);
}

TEST(FrameRule, NoRuleForAnAddressOutsideEveryObject) {
  EXPECT_EQ(FindFrameRule(16, 17).kind, FrameRule::kStop);
  int on_the_stack = 0;
  auto address = reinterpret_cast<uintptr_t>(&on_the_stack);
  EXPECT_EQ(FindFrameRule(address, address + 1).kind, FrameRule::kStop);
}

struct Expected {
  uintptr_t into_level2 = 0;  // where Level3 returns to
  uintptr_t into_level1 = 0;  // where Level2 returns to
};

HD_NOINLINE std::vector<uintptr_t> Level3(Expected* expected) {
  expected->into_level2 = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  uintptr_t frames[StackTable::kMaxDepth];
  uint32_t depth = CaptureStack(frames, StackTable::kMaxDepth);
  asm volatile("" ::: "memory");  // not a tail call
  return std::vector<uintptr_t>(frames, frames + depth);
}

HD_NOINLINE std::vector<uintptr_t> Level2(Expected* expected) {
  expected->into_level1 = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  auto frames = Level3(expected);
  asm volatile("" ::: "memory");
  return frames;
}

HD_NOINLINE std::vector<uintptr_t> Level1(Expected* expected) {
  auto frames = Level2(expected);
  asm volatile("" ::: "memory");
  return frames;
}

TEST(StackCapture, CapturesTheCallChainInOrder) {
  Expected expected;
  std::vector<uintptr_t> frames = Level1(&expected);
  ASSERT_GE(frames.size(), 3u);
  bool found = false;
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    if (frames[i] == expected.into_level2 && frames[i + 1] == expected.into_level1) found = true;
  }
  EXPECT_TRUE(found) << "the chain Level3 -> Level2 -> Level1 is not in the captured stack";
}

TEST(StackCapture, FramesInTheAgentRangeAreCutFromTheTop) {
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
