// Forked children without exec (pre-forking servers: nginx, Apache, PostgreSQL)
// are silent by default and record themselves with HEAPDRIFT_FOLLOW=all.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "paths.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace heapdrift::testing {
namespace {

constexpr int kWorkers = 3;
constexpr int kWorkerMilliseconds = 1500;
// prefork_workers.c: each worker keeps one 2 KiB block per millisecond; the
// parent keeps 1,024 blocks of 8 KiB from before the fork.
constexpr double kWorkerLiveBytes = kWorkerMilliseconds * 2048.0;
constexpr double kParentLiveBytes = 1024 * 8192.0;

double LiveBytesThrough(const heapdrift::Recording& recording, const char* function) {
  FunctionRange range = FindFunction(Host("prefork_workers"), function);
  EXPECT_GT(range.end, range.start) << function;
  std::set<uint32_t> stacks;
  for (uint32_t id : StacksThrough(recording, Host("prefork_workers"), range)) stacks.insert(id);
  double live = 0;
  for (const auto& [id, site] : FinalSites(recording)) {
    if (stacks.count(id)) live += static_cast<double>(site.live_bytes());
  }
  return live;
}

ProcessResult RunWorkers(const TempDir& dir, Environment env) {
  env.emplace_back("HEAPDRIFT_SAMPLE_BYTES", "16384");
  env.emplace_back("HEAPDRIFT_INTERVAL_MS", "100");
  return RunUnderAgent({Host("prefork_workers"), std::to_string(kWorkers),
                        std::to_string(kWorkerMilliseconds)},
                       dir.File("server.rec"), env);
}

TEST(FollowFork, ForkedChildrenAreSilentByDefault) {
  TempDir dir;
  ProcessResult traced = RunWorkers(dir, {});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
  heapdrift::Recording parent = LoadRecording(dir.File("server.rec"));
  EXPECT_EQ(LiveBytesThrough(parent, "WorkerLoop"), 0.0);
}

TEST(FollowFork, EachWorkerRecordsWhatItAllocatesAfterTheFork) {
  TempDir dir;
  ProcessResult plain = RunProcess({Host("prefork_workers"), std::to_string(kWorkers),
                                    std::to_string(kWorkerMilliseconds)});
  ProcessResult traced = RunWorkers(dir, {{"HEAPDRIFT_FOLLOW", "all"}});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(traced.out, plain.out);
  EXPECT_EQ(LinesStartingWith(traced.err, "heapdrift:"), std::vector<std::string>{});

  heapdrift::Recording parent = LoadRecording(dir.File("server.rec"));
  EXPECT_FALSE(parent.header.forked());
  double parent_live = LiveBytesThrough(parent, "ParentSetup");
  EXPECT_NEAR(parent_live, kParentLiveBytes, 0.25 * kParentLiveBytes);
  EXPECT_EQ(LiveBytesThrough(parent, "WorkerLoop"), 0.0);

  std::set<uint32_t> worker_pids;
  std::set<double> estimates;
  for (const std::string& path : FollowedRecordings(dir.File("server.rec"))) {
    heapdrift::Recording worker = LoadRecording(path);
    SCOPED_TRACE(path);
    EXPECT_EQ(path, dir.File("server.rec." + std::to_string(worker.header.pid())));
    EXPECT_EQ(worker.header.parent_pid(), parent.header.pid());
    EXPECT_TRUE(worker.header.forked());
    std::string fork_note = "forked from pid " + std::to_string(parent.header.pid());
    EXPECT_NE(RunProcess({kCliPath, "report", path}).out.find(fork_note), std::string::npos);
    EXPECT_NE(RunProcess({kCliPath, "inspect", path}).out.find(fork_note), std::string::npos);
    worker_pids.insert(worker.header.pid());
    ASSERT_FALSE(worker.snapshots.empty());
    EXPECT_TRUE(worker.snapshots.back().final());
    // ~190 samples a worker: the estimate is within a few percent.
    double estimate = LiveBytesThrough(worker, "WorkerLoop");
    EXPECT_NEAR(estimate, kWorkerLiveBytes, 0.3 * kWorkerLiveBytes);
    estimates.insert(estimate);
    // What the parent allocated before the fork is not the worker's: its
    // frees of those blocks are not seen either.
    EXPECT_EQ(LiveBytesThrough(worker, "ParentSetup"), 0.0);
    EXPECT_EQ(worker.snapshots.back().stats().dropped_live_table_full(), 0u);
  }
  EXPECT_EQ(worker_pids.size(), static_cast<size_t>(kWorkers));
  // Siblings are sampled independently. They allocate alike, so a random
  // state inherited from the parent would give all of them the same
  // estimate; independent ones give three equal counts ~0.1% of the time.
  EXPECT_GT(estimates.size(), 1u);
}

TEST(FollowFork, WorkersStreamToTheReceiverAsFollowedProcesses) {
  TempDir dir;
  std::string socket = dir.File("agent.sock");
  ProcessResult receiver;
  std::thread listening([&] {
    receiver = RunProcess(
        {kCliPath, "record", "--listen", "unix:" + socket, "-o", dir.File("received.rec")});
  });
  for (int i = 0; i < 100 && !std::filesystem::exists(socket); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ProcessResult traced = RunUnderAgent(
      {Host("prefork_workers"), "2", "600"}, "unix:" + socket,
      {{"HEAPDRIFT_FOLLOW", "all"}, {"HEAPDRIFT_INTERVAL_MS", "100"}});
  listening.join();
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(LinesStartingWith(traced.err, "heapdrift:"), std::vector<std::string>{});
  ASSERT_EQ(receiver.exit_code, 0) << receiver.err;
  heapdrift::Recording parent = LoadRecording(dir.File("received.rec"));
  std::vector<std::string> workers = FollowedRecordings(dir.File("received.rec"));
  for (const std::string& path : workers) {
    heapdrift::Recording worker = LoadRecording(path);
    EXPECT_EQ(worker.header.parent_pid(), parent.header.pid());
    EXPECT_TRUE(!worker.snapshots.empty() && worker.snapshots.back().final()) << path;
  }
  EXPECT_EQ(workers.size(), 2u);
}

// 1,000 forks while three threads allocate: children of a parent that was
// inside malloc or the agent at the fork rebuild the agent and record; in
// the half that exec, the program takes over the file the forked child began
// (it exec'd before its first snapshot), so every file ends complete.
TEST(FollowFork, AThousandForksUnderLoadKeepTheHostsBehaviour) {
  TempDir dir;
  std::vector<std::string> argv = {Host("fork_exec"), "1000", Host("exec_child")};
  ProcessResult plain = RunProcess(argv, {}, 400);
  ProcessResult traced =
      RunUnderAgent(argv, dir.File("forks.rec"), {{"HEAPDRIFT_FOLLOW", "all"}}, 400);
  ASSERT_FALSE(traced.timed_out) << "a forked child hung";
  EXPECT_EQ(traced.exit_code, plain.exit_code) << traced.err;
  EXPECT_EQ(traced.out, plain.out);
  EXPECT_EQ(LinesStartingWith(traced.err, "heapdrift:"), std::vector<std::string>{});
  int finished = 0, header_only = 0;
  for (const std::string& path : FollowedRecordings(dir.File("forks.rec"))) {
    heapdrift::Recording child;
    ASSERT_EQ(heapdrift::ReadRecording(path, &child).status, heapdrift::ReadStatus::kOk);
    if (child.snapshots.empty()) {
      ++header_only;
    } else {
      finished += child.snapshots.back().final();
    }
  }
  EXPECT_EQ(finished, 1000);
  EXPECT_EQ(header_only, 0);
}

}  // namespace
}  // namespace heapdrift::testing
