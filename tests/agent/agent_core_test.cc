// The agent's whole pipeline in one process, without preloading: host
// threads allocate and free through the hooks (exact mode) while the real
// collector thread drains their rings and writes snapshots; at the end the
// recording must hold every allocation and every free exactly. Runs under
// ThreadSanitizer in CI, which checks the rings, the tables, the spill path
// and the collector against each other.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "agent.h"
#include "collector.h"
#include "hooks.h"
#include "live_table.h"
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
  ASSERT_TRUE(g_live_table.Init(1 << 16));
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

  heapdrift::Recording recording;
  heapdrift::ReadResult result = heapdrift::ReadRecording(path, &recording);
  std::filesystem::remove(path);
  ASSERT_EQ(result.status, heapdrift::ReadStatus::kOk) << result.message;
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

// A dormant agent's recordings (BeginSession / RunSession on a thread that
// plays the control thread, over a socketpair) while host threads keep
// allocating and freeing, across three wakes: blocks kept in one recording
// are freed during the next ones, and those frees must never reach them
// (no site ever goes below zero live), nor must anything be lost within one.
TEST(AgentCore, EachWakeIsARecordingOfItsOwnWhileTheHostRunsOn) {
  Options options;
  options.sample_bytes = 1;
  options.interval_ms = 20;
  options.max_stacks = 4096;
  options.ring_events = 64;  // the spill path too
  // The collector thread of the test before ends at its next tick (at most
  // 160 ms after Finish); a dormant agent never has one, and this test must
  // not share the collector with it.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  if (!g_live_table.initialized()) {  // this test alone (a filter)
    ASSERT_TRUE(g_agent.stacks.Init(static_cast<uint32_t>(options.max_stacks)));
    ASSERT_TRUE(g_live_table.Init(1 << 16));
    ASSERT_TRUE(g_agent.rings.Init(16, static_cast<uint32_t>(options.ring_events)));
    ASSERT_TRUE(InitThreadExitKey());
    ASSERT_TRUE(g_collector.Prepare(options));  // as a dormant agent does, once
  }
  g_agent.state.store(AgentState::kDormant);

  std::atomic<bool> stop{false};
  std::vector<std::thread> hosts;
  for (int t = 0; t < 3; ++t) {
    hosts.emplace_back([&stop, t] {
      std::vector<void*> kept;
      for (int i = 0; !stop.load(); ++i) {
        ChurnAllocation(32 + (i + t) % 300);
        if (i % 7 == 0) kept.push_back(KeptAllocation(777));
        if (kept.size() > 400) {  // blocks born long ago, maybe in a past wake
          OnFree(kept.front());
          std::free(kept.front());
          kept.erase(kept.begin());
        }
      }
      for (void* block : kept) {
        OnFree(block);
        std::free(block);
      }
    });
  }
  for (int wake = 0; wake < 3; ++wake) {
    SCOPED_TRACE("wake " + std::to_string(wake));
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    ASSERT_TRUE(g_collector.BeginSession(options, fcntl(pair[0], F_DUPFD_CLOEXEC, 0)));
    g_agent.state.store(AgentState::kActive);
    std::thread control([&pair] {
      tls_state.in_agent = 1;
      g_collector.RunSession(pair[0]);
      close(pair[0]);  // as the control thread closes a connection it served
    });
    std::string stream;
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(150);
    char buffer[1 << 16];
    bool stopped = false;
    for (;;) {
      if (!stopped && std::chrono::steady_clock::now() >= until) {
        shutdown(pair[1], SHUT_WR);  // "stop"
        stopped = true;
      }
      pollfd readable{pair[1], POLLIN, 0};
      if (poll(&readable, 1, 10) <= 0) continue;
      ssize_t got = read(pair[1], buffer, sizeof(buffer));
      if (got <= 0) break;
      stream.append(buffer, static_cast<size_t>(got));
    }
    control.join();
    close(pair[1]);
    EXPECT_EQ(g_agent.state.load(), AgentState::kDormant);
    heapdrift::Recording recording;
    ASSERT_EQ(heapdrift::ParseRecording(stream, "wake", &recording).status, heapdrift::ReadStatus::kOk);
    ASSERT_GE(recording.snapshots.size(), 2u);
    EXPECT_EQ(recording.snapshots.front().sequence(), 0u);
    EXPECT_TRUE(recording.snapshots.back().final());
    std::map<uint32_t, proto::CallSite> latest;  // a snapshot carries the sites that changed
    for (const auto& snapshot : recording.snapshots) {
      for (const auto& site : snapshot.sites()) {
        latest[site.stack_id()] = site;
        EXPECT_GE(site.live_objects(), 0)
            << "a free without its allocation, snapshot " << snapshot.sequence() << " stack "
            << site.stack_id() << " allocated " << site.allocated_objects() << " spilled a/f "
            << snapshot.stats().allocations_spilled() << "/" << snapshot.stats().frees_spilled()
            << " samples " << snapshot.stats().samples();
        EXPECT_GE(site.live_bytes(), 0);
      }
    }
    uint64_t allocated = 0;
    for (const auto& [id, site] : latest) allocated += site.allocated_objects();
    EXPECT_GT(allocated, 0u);  // each wake records
    const proto::AgentStats& stats = recording.snapshots.back().stats();
    EXPECT_EQ(stats.dropped_ring_full() + stats.dropped_no_ring() +
                  stats.dropped_live_table_full() + stats.dropped_stack_table_full(),
              0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // asleep a while
  }
  stop.store(true);
  for (auto& host : hosts) host.join();
  g_agent.state.store(AgentState::kOff);
}

}  // namespace
}  // namespace heapdrift::agent
