// The agent's whole pipeline in one process, without preloading: host
// threads allocate and free through the hooks (exact mode) while the real
// collector thread drains their rings and writes snapshots; at the end the
// recording must hold every allocation and every free exactly. Runs under
// ThreadSanitizer in CI, which checks the rings, the tables, the spill path
// and the collector against each other.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "agent.h"
#include "collector.h"
#include "hooks.h"
#include "recording.h"
#include "sampler.h"
#include "stack_capture.h"

namespace heapdrift::agent {
namespace {

__attribute__((noinline)) void* KeptAllocation(size_t size) {
  void* block = std::malloc(size);
  OnAlloc(block, size);
  return block;
}

__attribute__((noinline)) void ChurnAllocation(size_t size) {
  void* block = std::malloc(size);
  OnAlloc(block, size);
  OnFree(block);
  std::free(block);
}

TEST(AgentCore, ThreadsAndTheCollectorTogetherLoseNothing) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("heapdrift-core-" + std::to_string(getpid()) + ".rec"))
                         .string();
  Options options;
  std::snprintf(options.output, sizeof(options.output), "%s", path.c_str());
  options.sample_bytes = 1;
  options.interval_ms = 20;
  options.ring_events = 64;  // small rings: the spill path must carry the overflow
  options.max_stacks = 4096;
  ASSERT_TRUE(g_agent.stacks.Init(static_cast<uint32_t>(options.max_stacks)));
  ASSERT_TRUE(g_agent.live.Init(1 << 16));
  ASSERT_TRUE(g_agent.rings.Init(16, static_cast<uint32_t>(options.ring_events)));
  ASSERT_TRUE(InitThreadExitKey());
  g_sampler.Configure(1, 0);
  ASSERT_TRUE(g_collector.Start(options));
  g_agent.state.store(AgentState::kActive);

  constexpr int kThreads = 4, kRounds = 3000, kKeepEvery = 10;
  std::mutex mutex;
  std::vector<void*> kept;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        ChurnAllocation(32 + (i + t) % 500);
        if (i % kKeepEvery == 0) {
          void* block = KeptAllocation(777);
          std::lock_guard lock(mutex);
          kept.push_back(block);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  // Half the kept blocks are freed by another thread than the one that made them.
  for (size_t i = 0; i < kept.size(); i += 2) {
    OnFree(kept[i]);
    std::free(kept[i]);
  }
  g_collector.Finish();

  cli::Recording recording;
  cli::ReadResult result = cli::ReadRecording(path, &recording);
  std::filesystem::remove(path);
  ASSERT_EQ(result.status, cli::ReadStatus::kOk) << result.message;
  ASSERT_FALSE(recording.snapshots.empty());
  EXPECT_TRUE(recording.snapshots.back().final());
  std::map<uint32_t, proto::CallSite> sites;
  for (const auto& snapshot : recording.snapshots) {
    for (const auto& site : snapshot.sites()) sites[site.stack_id()] = site;
  }
  int64_t live_777 = 0, live_other = 0;
  uint64_t allocated = 0;
  for (const auto& [id, site] : sites) {
    allocated += site.allocated_objects();
    if (site.allocated_objects() > 0 && site.allocated_bytes() == 777 * site.allocated_objects()) {
      live_777 += site.live_objects();
    } else {
      live_other += site.live_objects();
    }
  }
  const uint64_t kept_total = kThreads * (kRounds / kKeepEvery);
  EXPECT_EQ(allocated, kThreads * kRounds + kept_total);
  EXPECT_EQ(live_777, static_cast<int64_t>(kept_total / 2));
  EXPECT_EQ(live_other, 0);
  const proto::AgentStats& stats = recording.snapshots.back().stats();
  EXPECT_EQ(stats.dropped_ring_full() + stats.dropped_no_ring() + stats.dropped_live_table_full() +
                stats.dropped_stack_table_full(),
            0u);
  EXPECT_GT(stats.allocations_spilled() + stats.frees_spilled(), 0u)
      << "64-event rings should have overflowed into the spill path";
  for (size_t i = 1; i < kept.size(); i += 2) std::free(kept[i]);
}

}  // namespace
}  // namespace heapdrift::agent
