// The collector's reading of the process's memory: the kernel's figures every
// time, glibc's arena walk (mallinfo2, which holds each arena's lock) only as
// often as its own cost allows, and always when asked for.
#include "process_memory.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace heapdrift::agent {
namespace {

constexpr uint64_t kBlockBytes = 64 << 20;  // mmap'd by glibc: in use at once, exactly

// Under a sanitizer, malloc is the sanitizer's: glibc's arenas never see the
// test's block.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kMallocIsGlibc = false;
#else
constexpr bool kMallocIsGlibc = true;
#endif

TEST(ProcessMemoryReader, WalksTheArenasAgainOnlyAfterItsGapOrWhenAsked) {
  if (!kMallocIsGlibc) GTEST_SKIP() << "malloc is the sanitizer's";
  ProcessMemoryReader reader;
  reader.Reset(true);
  const uint64_t start_ns = 1'000'000'000;
  ProcessMemory first = reader.Read(start_ns, false);  // the first read always walks
  ASSERT_TRUE(first.has_allocator_stats);
  ASSERT_GT(first.rss_bytes, 0u);

  void* block = std::malloc(kBlockBytes);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlockBytes);  // resident, for the kernel's figure
  // 1 ns later: inside any walk's gap (a walk takes more than 1/10,000 ns).
  ProcessMemory between = reader.Read(start_ns + 1, false);
  EXPECT_EQ(between.allocator_in_use_bytes, first.allocator_in_use_bytes);
  EXPECT_GE(between.rss_bytes, first.rss_bytes + kBlockBytes / 2);  // statm is read every time

  ProcessMemory asked = reader.Read(start_ns + 2, true);
  EXPECT_GE(asked.allocator_in_use_bytes, first.allocator_in_use_bytes + kBlockBytes);

  std::free(block);
  // A minute on: past the gap of any walk shorter than 6 ms.
  ProcessMemory later = reader.Read(start_ns + 60'000'000'000, false);
  EXPECT_LT(later.allocator_in_use_bytes, asked.allocator_in_use_bytes - kBlockBytes / 2);
}

TEST(ProcessMemoryReader, AnotherAllocatorIsNeverWalked) {
  ProcessMemoryReader reader;
  reader.Reset(false);
  ProcessMemory memory = reader.Read(1, true);
  EXPECT_FALSE(memory.has_allocator_stats);
  EXPECT_EQ(memory.allocator_in_use_bytes, 0u);
  EXPECT_GT(memory.rss_bytes, 0u);
}

}  // namespace
}  // namespace heapdrift::agent
