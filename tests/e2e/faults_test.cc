// Faults the agent must ride out with the host none the wiser: a full disk,
// a kill in the middle of a snapshot, and a collector starved of CPU by
// threads spinning in malloc. (A receiver killed mid-stream, an unwritable
// output, 1,000 forks and 10,000 short threads are in agent_settings_test
// and host_safety_test.)
#include <gtest/gtest.h>

#include <string>

#include "paths.h"
#include "recording.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace heapdrift::testing {
namespace {

TEST(Faults, AFullDiskIsSaidOnceAndTheHostRunsOn) {
  std::vector<std::string> argv = {Host("known_live"), "8"};
  ProcessResult plain = RunProcess(argv);
  ProcessResult traced = RunUnderAgent(argv, "/dev/full");
  EXPECT_EQ(traced.exit_code, plain.exit_code);
  EXPECT_EQ(traced.out, plain.out);
  auto lines = LinesStartingWith(traced.err, "heapdrift:");
  ASSERT_EQ(lines.size(), 1u) << traced.err;
  EXPECT_NE(lines[0].find("No space left on device"), std::string::npos) << lines[0];
}

// SIGKILL and SIGTERM at several moments, snapshots every 20 ms: whatever
// the moment, the recording holds every snapshot completed before it.
TEST(Faults, AKillMidSnapshotLeavesEverySnapshotBeforeIt) {
  TempDir dir;
  int run = 0;
  for (const char* signal : {"KILL", "TERM"}) {
    for (const char* delay : {"0.35", "0.61", "0.93"}) {
      std::string recording = dir.File("killed" + std::to_string(run++) + ".rec");
      std::string script = "LD_PRELOAD=" + std::string(kAgentPath) + " HEAPDRIFT_OUTPUT=" +
                           recording + " HEAPDRIFT_INTERVAL_MS=20 " + kExamplesDir +
                           "/session_leak --duration-sec 30 --rate 4000 & child=$!; sleep " +
                           delay + "; kill -" + signal + " $child; wait $child; exit 0";
      ProcessResult result = RunProcess({"sh", "-c", script}, {}, 60);
      ASSERT_EQ(result.exit_code, 0) << result.err;
      heapdrift::Recording loaded;
      heapdrift::ReadResult read = heapdrift::ReadRecording(recording, &loaded);
      ASSERT_EQ(read.status, heapdrift::ReadStatus::kOk) << signal << " after " << delay << ": "
                                                   << read.message;
      EXPECT_GE(loaded.snapshots.size(), 5u) << signal << " after " << delay;
      EXPECT_FALSE(loaded.snapshots.back().final());
    }
  }
}

// Four threads spin in malloc/free on one CPU at a fixed, heavy sampling
// rate, so the collector gets a quarter of a core at best: the rings fill,
// samples are dropped and counted, the host finishes its work, and the
// agent's memory stays within its reservation.
TEST(Faults, ACollectorStarvedOfCpuCountsDropsAndStaysBounded) {
  TempDir dir;
  std::string churn = std::string(kBenchDir) + "/churn";
  // The agent goes into churn only (through env), not into taskset.
  ProcessResult result = RunProcess(
      {"taskset", "-c", "0", "env", std::string("LD_PRELOAD=") + kAgentPath,
       "HEAPDRIFT_OUTPUT=" + dir.File("starved.rec"), "HEAPDRIFT_SAMPLE_BYTES=64",
       "HEAPDRIFT_MAX_SAMPLES_PER_SEC=0", "HEAPDRIFT_INTERVAL_MS=100", churn, "4", "3", "bare"},
      {}, 240);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("churn: 4 threads"), std::string::npos);
  EXPECT_TRUE(LinesStartingWith(result.err, "heapdrift:").empty()) << result.err;
  heapdrift::Recording recording = LoadRecording(dir.File("starved.rec"));
  ASSERT_FALSE(recording.snapshots.empty());
  const proto::AgentStats& stats = recording.snapshots.back().stats();
  EXPECT_GT(stats.samples(), 0u);
  EXPECT_GT(stats.dropped_ring_full() + stats.dropped_no_ring(), 0u)
      << "the rings never filled: the collector was not starved";
  // README "Memory bound": about 96 MiB reserved with the sampling defaults.
  EXPECT_LT(stats.agent_memory_bytes(), 112u << 20);
}

}  // namespace
}  // namespace heapdrift::testing
