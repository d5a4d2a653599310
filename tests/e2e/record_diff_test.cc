// `heapdrift record` (streaming from an agent) and `heapdrift diff`, end to end.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "background_receiver.h"
#include "paths.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace heapdrift::testing {
namespace {

TEST(Record, ReceivesAStreamedRecordingAndShowsTheLeakLive) {
  TempDir dir;
  std::string socket = dir.File("agent.sock");
  BackgroundReceiver listening(socket, dir.File("streamed.rec"), {"--live", "--live-interval", "2"});
  ASSERT_TRUE(listening.WaitUntilListening());
  struct stat info {};
  ASSERT_EQ(stat(socket.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u) << "the socket must be owner-only";
  // A faster leak than the default (40 % of sessions), so that it stands out
  // within the run: this is about the stream, not about sensitivity.
  ProcessResult agent =
      RunUnderAgent({std::string(kExamplesDir) + "/session_leak", "--duration-sec", "9",
                     "--cart-percent", "40"},
                    "unix:" + socket, {{"HEAPDRIFT_INTERVAL_MS", "250"}});
  const ProcessResult& receiver = listening.Wait();
  EXPECT_EQ(agent.exit_code, 0) << agent.err;
  EXPECT_EQ(LinesStartingWith(agent.err, "heapdrift:"), std::vector<std::string>{});
  ASSERT_EQ(receiver.exit_code, 0) << receiver.err;
  EXPECT_NE(receiver.out.find("CreateSession"), std::string::npos) << receiver.out;
  heapdrift::Recording recording = LoadRecording(dir.File("streamed.rec"));
  ASSERT_GE(recording.snapshots.size(), 30u);
  EXPECT_TRUE(recording.snapshots.back().final());
  EXPECT_FALSE(std::filesystem::exists(socket)) << "the socket is removed at the end";
}

TEST(Record, CtrlCLeavesACompleteReadableRecording) {
  TempDir dir;
  std::string socket = dir.File("agent.sock");
  BackgroundReceiver listening(socket, dir.File("interrupted.rec"));
  ASSERT_TRUE(listening.WaitUntilListening());
  ProcessResult agent;
  std::thread host([&] {
    agent = RunUnderAgent({std::string(kExamplesDir) + "/session_leak", "--duration-sec", "6"},
                          "unix:" + socket, {{"HEAPDRIFT_INTERVAL_MS", "100"}});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ProcessResult pids = RunProcess({"pgrep", "-f", "interrupted.rec"});
  for (const auto& line : LinesStartingWith(pids.out, "")) {
    if (!line.empty()) kill(std::stoi(line), SIGINT);
  }
  const ProcessResult& receiver = listening.Wait();
  host.join();
  EXPECT_EQ(receiver.exit_code, 0) << receiver.err;
  EXPECT_EQ(agent.exit_code, 0) << "the host must outlive its receiver";
  EXPECT_LE(LinesStartingWith(agent.err, "heapdrift:").size(), 1u) << agent.err;
  heapdrift::Recording recording;
  heapdrift::ReadResult result = heapdrift::ReadRecording(dir.File("interrupted.rec"), &recording);
  ASSERT_EQ(result.status, heapdrift::ReadStatus::kOk) << result.message;
  EXPECT_FALSE(recording.truncated) << "only whole records are written";
  EXPECT_GE(recording.snapshots.size(), 10u);
}

TEST(Record, RefusesASocketInUseAndBadArguments) {
  TempDir dir;
  std::string socket = dir.File("agent.sock");
  BackgroundReceiver first(socket, dir.File("a.rec"), {}, 5);
  ASSERT_TRUE(first.WaitUntilListening());
  ProcessResult second =
      RunProcess({kCliPath, "record", "--listen", "unix:" + socket, "-o", dir.File("b.rec")});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("in use"), std::string::npos) << second.err;
  ProcessResult bad = RunProcess({kCliPath, "record", "--listen", "/tmp/x.sock", "-o", "x"});
  EXPECT_EQ(bad.exit_code, 2);
}

// Exact mode, so the comparison is free of sampling noise; a 4 MiB cache,
// full before the diff's first moment.
TEST(Diff, NamesTheLeakAsTheLargestChange) {
  TempDir dir;
  ProcessResult run = RunProcess({kCliPath, "run", "--sample-bytes", "1", "--interval-ms", "250", "-o",
                                  dir.File("leak.rec"), "--",
                                  std::string(kExamplesDir) + "/session_leak", "--duration-sec",
                                  "5", "--cache-mib", "4"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ProcessResult diff =
      RunProcess({kCliPath, "diff", dir.File("leak.rec"), "--from", "2", "--to", "4.5", "--json"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  nlohmann::json json = nlohmann::json::parse(diff.out);
  EXPECT_LE(json["from_seconds"].get<double>(), 2.0);
  EXPECT_GT(json["from_seconds"].get<double>(), 1.5);
  EXPECT_LE(json["to_seconds"].get<double>(), 4.5);
  ASSERT_FALSE(json["sites"].empty());
  const auto& first = json["sites"][0];
  EXPECT_NE(first["function"].get<std::string>().find("CreateSession"), std::string::npos)
      << diff.out;
  EXPECT_GT(first["change_bytes"].get<int64_t>(), 500000);
  EXPECT_EQ(first["change_bytes"].get<int64_t>(),
            first["live_bytes_to"].get<int64_t>() - first["live_bytes_from"].get<int64_t>());
  ProcessResult backwards =
      RunProcess({kCliPath, "diff", dir.File("leak.rec"), "--from", "4", "--to", "2"});
  EXPECT_EQ(backwards.exit_code, 2);
  EXPECT_EQ(LinesStartingWith(backwards.err, "heapdrift:").size(), 1u);
  ProcessResult text = RunProcess({kCliPath, "diff", dir.File("leak.rec")});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("estimated live heap"), std::string::npos);
}

}  // namespace
}  // namespace heapdrift::testing
