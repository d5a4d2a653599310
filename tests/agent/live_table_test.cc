#include "live_table.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <memory>
#include <thread>
#include <vector>

namespace heapdrift::agent {
namespace {

void* Address(uintptr_t value) { return reinterpret_cast<void*>(value); }

std::unique_ptr<LiveTable> MakeTable(uint32_t capacity) {
  auto table = std::make_unique<LiveTable>();
  EXPECT_TRUE(table->Init(capacity));
  return table;
}

TEST(LiveTable, InsertEraseAndFilter) {
  auto table = MakeTable(1024);
  LiveBlock stale{}, erased{};
  EXPECT_FALSE(table->MaybeContains(Address(0x10000)));
  EXPECT_EQ(table->Insert(Address(0x10000), {3, 4, 0, 100, 2.5}, &stale),
            LiveTable::InsertResult::kInserted);
  EXPECT_TRUE(table->MaybeContains(Address(0x10000)));
  EXPECT_EQ(table->size(), 1u);
  EXPECT_FALSE(table->Erase(Address(0x20000), &erased));  // never sampled: harmless
  ASSERT_TRUE(table->Erase(Address(0x10000), &erased));
  EXPECT_EQ(erased.stack_id, 3u);
  EXPECT_EQ(erased.size, 100u);
  EXPECT_EQ(erased.object_weight, 2.5);
  EXPECT_EQ(erased.cohort, 4u);  // when it was born comes back with it
  EXPECT_FALSE(table->MaybeContains(Address(0x10000)));
  EXPECT_FALSE(table->Erase(Address(0x10000), &erased));  // double free: only once
  EXPECT_EQ(table->size(), 0u);
}

// A dormant agent's new recording starts from nothing: the blocks of ended
// recordings leave the table (and the filter), the current one's stay.
TEST(LiveTable, EraseOtherSessionsKeepsOnlyTheCurrentRecordingsBlocks) {
  auto table = MakeTable(4096);
  LiveBlock stale{}, erased{};
  for (uintptr_t i = 0; i < 1000; ++i) {
    uint16_t session = static_cast<uint16_t>(i % 3);
    ASSERT_EQ(table->Insert(Address(0x100000 + i * 32), {1, 0, session, 32, 1.0}, &stale),
              LiveTable::InsertResult::kInserted);
  }
  table->EraseOtherSessions(2);
  EXPECT_EQ(table->size(), 333u);
  for (uintptr_t i = 0; i < 1000; ++i) {
    bool current = i % 3 == 2;
    EXPECT_EQ(table->Erase(Address(0x100000 + i * 32), &erased), current) << i;
    if (current) {
      EXPECT_EQ(erased.session, 2u);
    }
  }
  EXPECT_EQ(table->size(), 0u);
  EXPECT_FALSE(table->MaybeContains(Address(0x100000)));
}

TEST(LiveTable, ReusedAddressReplacesTheStaleBlock) {
  auto table = MakeTable(64);
  LiveBlock stale{};
  table->Insert(Address(0x5000), {1, 0, 0, 10, 1.0}, &stale);
  // The block's free was never seen; the allocator hands the address out again.
  EXPECT_EQ(table->Insert(Address(0x5000), {2, 0, 0, 20, 1.0}, &stale),
            LiveTable::InsertResult::kReplacedStale);
  EXPECT_EQ(stale.stack_id, 1u);
  LiveBlock erased{};
  ASSERT_TRUE(table->Erase(Address(0x5000), &erased));
  EXPECT_EQ(erased.stack_id, 2u);
}

TEST(LiveTable, ChurnNeverFillsTheTable) {
  auto table = MakeTable(256);
  LiveBlock stale{}, erased{};
  for (uintptr_t i = 0; i < 100000; ++i) {
    void* address = Address(0x100000 + i * 48);
    ASSERT_EQ(table->Insert(address, {1, 0, 0, 48, 1.0}, &stale), LiveTable::InsertResult::kInserted)
        << i;
    ASSERT_TRUE(table->Erase(address, &erased));
  }
  EXPECT_EQ(table->size(), 0u);
}

TEST(LiveTable, AFullTableRefusesInsertionAndKeepsWhatItHas) {
  auto table = MakeTable(16);  // two buckets of eight
  LiveBlock stale{}, erased{};
  std::vector<uintptr_t> inserted;
  for (uintptr_t i = 0; i < 64; ++i) {
    if (table->Insert(Address(0x1000 + i * 16), {1, 0, 0, 16, 1.0}, &stale) ==
        LiveTable::InsertResult::kInserted) {
      inserted.push_back(0x1000 + i * 16);
    }
  }
  EXPECT_EQ(inserted.size(), 16u);  // overflow spills into the other bucket
  for (uintptr_t address : inserted) EXPECT_TRUE(table->Erase(Address(address), &erased));
  EXPECT_EQ(table->size(), 0u);
}

// Lookups of blocks that spilled out of a full bucket still find them.
TEST(LiveTable, OverflowingBucketsStayFindable) {
  auto table = MakeTable(1 << 10);
  LiveBlock stale{}, erased{};
  constexpr uintptr_t kBlocks = 900;  // ~88 % full: many buckets overflow
  for (uintptr_t i = 0; i < kBlocks; ++i) {
    ASSERT_EQ(table->Insert(Address(0x40000 + i * 4096), {static_cast<uint32_t>(i), 0, 0, 1, 1.0},
                            &stale),
              LiveTable::InsertResult::kInserted)
        << i;
  }
  for (uintptr_t i = 0; i < kBlocks; ++i) {
    ASSERT_TRUE(table->Erase(Address(0x40000 + i * 4096), &erased)) << i;
    EXPECT_EQ(erased.stack_id, i);
  }
}

// Threads insert and erase disjoint address ranges concurrently, as a heap
// does: nothing is lost and no erase finds another thread's block.
TEST(LiveTable, ConcurrentInsertAndEraseStayConsistent) {
  auto table = MakeTable(1 << 16);
  constexpr int kThreads = 4, kBlocks = 5000;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      LiveBlock stale{}, erased{};
      for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < kBlocks; ++i) {
          void* address = Address(0x10000000ull * (t + 1) + i * 32ull);
          if (table->Insert(address, {static_cast<uint32_t>(t), 0, 0, 32, 1.0}, &stale) !=
              LiveTable::InsertResult::kInserted) {
            ++failures[t];
          }
        }
        for (int i = 0; i < kBlocks; i += 2) {
          void* address = Address(0x10000000ull * (t + 1) + i * 32ull);
          if (!table->Erase(address, &erased) || erased.stack_id != static_cast<uint32_t>(t)) {
            ++failures[t];
          }
        }
        for (int i = 1; i < kBlocks; i += 2) {
          void* address = Address(0x10000000ull * (t + 1) + i * 32ull);
          if (!table->Erase(address, &erased)) ++failures[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  EXPECT_EQ(table->size(), 0u);
}

// The share of 2^20 addresses 16 bytes apart, none of them live, that the
// filter lets through to a lookup.
double FalsePassShare(const LiveTable& table) {
  constexpr uintptr_t kProbes = 1 << 20;
  size_t passed = 0;
  for (uintptr_t i = 0; i < kProbes; ++i) {
    passed += table.MaybeContains(Address(0x200000000 + i * 16));
  }
  return static_cast<double>(passed) / kProbes;
}

// Frees read the coarse filter (32,768 buckets) while few samples are live,
// the fine one (131,072) when many are, and the coarse one again once they
// are few again; every live block passes whichever is read. A filter of B
// buckets with n live samples lets through about n/B of other addresses
// (fewer once buckets share): 1 live is 1/32,768 coarse, 1/131,072 fine;
// 2,000 live is 5.9 % coarse, 1.5 % fine. The hash is fixed, so the shares
// are too: the bounds below sit between both sides' values.
TEST(LiveTable, FreesReadTheFilterThatSuitsTheLiveCount) {
  auto table = MakeTable(1 << 13);
  LiveBlock stale{}, erased{};
  auto live = [](uintptr_t i) { return Address(0x100000000 + i * 4112); };
  ASSERT_EQ(table->Insert(live(0), {1, 0, 0, 16, 1.0}, &stale), LiveTable::InsertResult::kInserted);
  double one_live = FalsePassShare(*table);
  EXPECT_GT(one_live, 1.0 / 65536);  // coarse
  EXPECT_LT(one_live, 1.0 / 16384);
  constexpr uintptr_t kMany = 2000;
  for (uintptr_t i = 1; i < kMany; ++i) {
    ASSERT_EQ(table->Insert(live(i), {1, 0, 0, 16, 1.0}, &stale),
              LiveTable::InsertResult::kInserted) << i;
    ASSERT_TRUE(table->MaybeContains(live(i / 2))) << i;  // across the switch
  }
  for (uintptr_t i = 0; i < kMany; ++i) ASSERT_TRUE(table->MaybeContains(live(i))) << i;
  double many_live = FalsePassShare(*table);
  EXPECT_LT(many_live, 0.03);  // fine
  EXPECT_GT(many_live, 0.005);
  for (uintptr_t i = kMany - 1; i >= 10; --i) {
    ASSERT_TRUE(table->Erase(live(i), &erased)) << i;
    ASSERT_TRUE(table->MaybeContains(live(i / 20))) << i;
  }
  double few_live = FalsePassShare(*table);
  EXPECT_GT(few_live, 10.0 / 65536);  // coarse again
  EXPECT_LT(few_live, 10.0 / 16384);
  for (uintptr_t i = 0; i < 10; ++i) ASSERT_TRUE(table->Erase(live(i), &erased)) << i;
  EXPECT_EQ(FalsePassShare(*table), 0.0);
}

// Resident pages of [begin, begin + bytes).
size_t ResidentPages(const void* begin, size_t bytes) {
  size_t pages = (bytes + 4095) / 4096;
  std::vector<unsigned char> residency(pages);
  if (mincore(const_cast<void*>(begin), pages * 4096, residency.data()) != 0) return SIZE_MAX;
  size_t resident = 0;
  for (unsigned char page : residency) resident += page & 1;
  return resident;
}

// A server's few thousand live samples in a table reserved for a million
// touch a few dozen pages, not one page per sample.
TEST(LiveTable, PagesTouchedFollowTheLiveSamplesNotTheCapacity) {
  auto table = MakeTable(1 << 20);
  const void* mappings[LiveTable::kMappings];
  table->Mappings(mappings);
  LiveBlock stale{}, erased{};
  constexpr uintptr_t kLive = 2300;
  for (uintptr_t i = 0; i < kLive; ++i) {
    // Spread as a heap's sampled blocks are: ~64 KiB apart, unaligned.
    ASSERT_EQ(table->Insert(Address(0x7f0000000000 + i * 65552), {static_cast<uint32_t>(i), 0, 0,
                                                                  64, 1.0}, &stale),
              LiveTable::InsertResult::kInserted) << i;
  }
  size_t key_pages = ResidentPages(mappings[0], ((size_t{1} << 20) / 8) * 64);
  size_t value_pages = ResidentPages(mappings[1], (size_t{1} << 20) * sizeof(LiveBlock));
  // 2,300 keys at up to half load: 4,600 slots, 37 KiB of keys, 108 KiB of values.
  EXPECT_LE(key_pages, 17u);
  EXPECT_LE(value_pages, 50u);
  std::printf("[ measured ] %zu live samples: %zu pages of keys, %zu of values resident\n",
              static_cast<size_t>(kLive), key_pages, value_pages);
  for (uintptr_t i = 0; i < kLive; ++i) {
    ASSERT_TRUE(table->Erase(Address(0x7f0000000000 + i * 65552), &erased)) << i;
    EXPECT_EQ(erased.stack_id, i);
  }
  EXPECT_EQ(table->size(), 0u);
}

}  // namespace
}  // namespace heapdrift::agent
