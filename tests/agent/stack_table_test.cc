#include "stack_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace heapdrift::agent {
namespace {

std::vector<uintptr_t> MakeStack(uint32_t seed, uint32_t depth) {
  std::vector<uintptr_t> frames;
  for (uint32_t i = 0; i < depth; ++i) frames.push_back(0x400000 + seed * 0x1000 + i * 8);
  return frames;
}

TEST(StackTable, SameStackSameIdDistinctStacksDistinctIds) {
  StackTable table;
  ASSERT_TRUE(table.Init(1024));
  auto a = MakeStack(1, 10), b = MakeStack(2, 10), a_prefix = MakeStack(1, 9);
  uint32_t id_a = table.Intern(a.data(), 10);
  EXPECT_EQ(table.Intern(a.data(), 10), id_a);
  uint32_t id_b = table.Intern(b.data(), 10);
  uint32_t id_prefix = table.Intern(a_prefix.data(), 9);
  EXPECT_NE(id_a, id_b);
  EXPECT_NE(id_a, id_prefix);
  const StackRecord* record = table.Get(id_b);
  ASSERT_NE(record, nullptr);
  ASSERT_EQ(record->depth, 10u);
  EXPECT_EQ(std::vector<uintptr_t>(record->frames, record->frames + 10), b);
}

TEST(StackTable, DepthIsCappedAndEmptyStacksAreValid) {
  StackTable table;
  ASSERT_TRUE(table.Init(16));
  auto deep = MakeStack(3, 100);
  uint32_t id = table.Intern(deep.data(), 100);
  ASSERT_NE(id, StackTable::kInvalidId);
  EXPECT_EQ(table.Get(id)->depth, StackTable::kMaxDepth);
  uint32_t empty = table.Intern(nullptr, 0);
  EXPECT_NE(empty, StackTable::kInvalidId);
  EXPECT_EQ(table.Intern(nullptr, 0), empty);
}

TEST(StackTable, FullTableRefusesNewStacksButFindsKnownOnes) {
  StackTable table;
  ASSERT_TRUE(table.Init(16));  // 14 ids for full stacks, 2 in reserve
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < 14; ++i) {
    auto stack = MakeStack(i, 4);
    ids.push_back(table.Intern(stack.data(), 4));
    ASSERT_NE(ids.back(), StackTable::kInvalidId);
  }
  auto extra = MakeStack(1000, 4);
  EXPECT_EQ(table.Intern(extra.data(), 4), StackTable::kInvalidId);
  auto known = MakeStack(5, 4);
  EXPECT_EQ(table.Intern(known.data(), 4), ids[5]);
}

TEST(StackTable, WhenFullStacksRunOutTheInnermostFramesGoToTheReserve) {
  StackTable table;
  ASSERT_TRUE(table.Init(16));
  for (uint32_t i = 0; i < 14; ++i) {
    auto stack = MakeStack(i, 20);
    ASSERT_NE(table.Intern(stack.data(), 20), StackTable::kInvalidId);
  }
  // Deep stacks that differ only beyond their 8 innermost frames share one
  // truncated stack in the reserve.
  auto deep_a = MakeStack(500, 20), deep_b = deep_a;
  deep_b[15] += 1;
  ASSERT_EQ(table.Intern(deep_a.data(), 20), StackTable::kInvalidId);
  uint32_t truncated = table.InternTruncated(deep_a.data(), 20);
  ASSERT_NE(truncated, StackTable::kInvalidId);
  EXPECT_GE(truncated, 14u);
  EXPECT_EQ(table.InternTruncated(deep_b.data(), 20), truncated);
  EXPECT_EQ(table.Get(truncated)->depth, StackTable::kTruncatedDepth);
  auto other = MakeStack(600, 20);
  EXPECT_NE(table.InternTruncated(other.data(), 20), StackTable::kInvalidId);
  auto third = MakeStack(700, 20);
  EXPECT_EQ(table.InternTruncated(third.data(), 20), StackTable::kInvalidId);  // reserve used up
}

// Threads intern overlapping stacks at once: every thread must get the same
// id for the same stack, and ids must be distinct across stacks.
TEST(StackTable, ConcurrentInterningAgreesOnIds) {
  auto table = std::make_unique<StackTable>();
  ASSERT_TRUE(table->Init(1 << 14));
  constexpr int kThreads = 4, kStacks = 2000;
  std::vector<std::vector<uint32_t>> seen(kThreads, std::vector<uint32_t>(kStacks));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (int s = 0; s < kStacks; ++s) {
          int which = (s * 7 + t * 13) % kStacks;
          auto stack = MakeStack(static_cast<uint32_t>(which), 1 + which % 30);
          seen[t][which] = table->Intern(stack.data(), static_cast<uint32_t>(stack.size()));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<uint32_t> distinct;
  for (int s = 0; s < kStacks; ++s) {
    for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t][s], seen[0][s]) << "stack " << s;
    EXPECT_NE(seen[0][s], StackTable::kInvalidId);
    distinct.insert(seen[0][s]);
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kStacks));
}

}  // namespace
}  // namespace heapdrift::agent
