// The agent's settings and sinks, and what it does when it cannot work: say
// so once on stderr and leave the host alone.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "paths.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

TEST(AgentSettings, UnwritableOutputWarnsOnceAndTheHostRunsOn) {
  ProcessResult plain = RunProcess({Host("entry_points")});
  ProcessResult traced =
      RunUnderAgent({Host("entry_points")}, "/nonexistent-dir/cannot/x.rec");
  EXPECT_EQ(traced.exit_code, plain.exit_code);
  EXPECT_EQ(traced.out, plain.out);
  auto lines = LinesStartingWith(traced.err, "heapdrift:");
  ASSERT_EQ(lines.size(), 1u) << traced.err;
  EXPECT_NE(lines[0].find("cannot write /nonexistent-dir/cannot/x.rec"), std::string::npos);
}

TEST(AgentSettings, BadSettingsWarnOnceAndTheHostRunsOn) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"HEAPDRIFT_SAMPLE_BYTES", "lots"},
                                                        {"HEAPDRIFT_SAMPLE_BYTES", "0"},
                                                        {"HEAPDRIFT_INTERVAL_MS", "-5"},
                                                        {"HEAPDRIFT_FOLLOW", "maybe"}}) {
    TempDir dir;
    ProcessResult traced = RunUnderAgent({Host("entry_points")}, dir.File("x.rec"),
                                         {{name, value}});
    EXPECT_EQ(traced.exit_code, 0);
    auto lines = LinesStartingWith(traced.err, "heapdrift:");
    ASSERT_EQ(lines.size(), 1u) << name << "=" << value << ": " << traced.err;
    EXPECT_NE(lines[0].find("invalid " + name), std::string::npos) << lines[0];
    EXPECT_FALSE(std::filesystem::exists(dir.File("x.rec")));
  }
}

TEST(AgentSettings, PercentPInTheOutputBecomesThePid) {
  TempDir dir;
  ProcessResult traced = RunUnderAgent({Host("entry_points")}, dir.File("run-%p.rec"));
  ASSERT_EQ(traced.exit_code, 0);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    std::string name = entry.path().filename();
    EXPECT_EQ(name.rfind("run-", 0), 0u);
    EXPECT_EQ(name.find("%p"), std::string::npos);
    ++files;
  }
  EXPECT_EQ(files, 1);
}

// A listening Unix socket that stores what it receives; optionally hangs up
// after `hang_up_after` bytes.
class Receiver {
 public:
  Receiver(const std::string& path, size_t hang_up_after = SIZE_MAX) {
    listener_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(listen(listener_, 4), 0);
    thread_ = std::thread([this, hang_up_after] {
      int connection = accept(listener_, nullptr, nullptr);
      char buffer[65536];
      for (;;) {
        ssize_t got = read(connection, buffer, sizeof(buffer));
        if (got <= 0) break;
        received_.append(buffer, static_cast<size_t>(got));
        if (received_.size() >= hang_up_after) break;
      }
      close(connection);
    });
  }
  std::string Wait() {
    thread_.join();
    close(listener_);
    return received_;
  }

 private:
  int listener_;
  std::thread thread_;
  std::string received_;
};

TEST(AgentSettings, StreamsARecordingToAUnixSocket) {
  TempDir dir;
  Receiver receiver(dir.File("agent.sock"));
  ProcessResult traced = RunUnderAgent({Host("new_delete")}, "unix:" + dir.File("agent.sock"),
                                       {{"HEAPDRIFT_SAMPLE_BYTES", "1"}});
  std::string received = receiver.Wait();
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  std::ofstream(dir.File("streamed.rec")) << received;
  heapdrift::Recording recording = LoadRecording(dir.File("streamed.rec"));
  ASSERT_FALSE(recording.snapshots.empty());
  EXPECT_TRUE(recording.snapshots.back().final());
  EXPECT_GT(recording.snapshots.back().stats().samples(), 500u);
}

TEST(AgentSettings, ReceiverGoingAwaySaysSoOnceAndTheHostRunsOn) {
  TempDir dir;
  Receiver receiver(dir.File("agent.sock"), /*hang_up_after=*/1);
  std::string example = std::string(kExamplesDir) + "/session_leak";
  ProcessResult traced =
      RunUnderAgent({example, "--duration-sec", "2"}, "unix:" + dir.File("agent.sock"),
                    {{"HEAPDRIFT_INTERVAL_MS", "100"}});
  receiver.Wait();
  EXPECT_EQ(traced.exit_code, 0);
  auto lines = LinesStartingWith(traced.err, "heapdrift:");
  ASSERT_EQ(lines.size(), 1u) << traced.err;
  EXPECT_NE(lines[0].find("went away"), std::string::npos);
  EXPECT_FALSE(LinesStartingWith(traced.err, "session_leak:").empty());
}

TEST(AgentSettings, NoSocketListeningWarnsOnce) {
  TempDir dir;
  ProcessResult traced = RunUnderAgent({Host("entry_points")}, "unix:" + dir.File("none.sock"));
  EXPECT_EQ(traced.exit_code, 0);
  EXPECT_EQ(LinesStartingWith(traced.err, "heapdrift:").size(), 1u) << traced.err;
}

// bash defines getenv, setenv and unsetenv itself (over its variables) and
// hands its children the environment main() received: the agent edits libc's
// environment, or bash's children would keep the agent against
// HEAPDRIFT_FOLLOW=none, and miss the tree's mark (overwriting the shell's
// own recording) by default.
class ShellChildren : public ::testing::TestWithParam<const char*> {};

TEST_P(ShellChildren, RecordTheirOwnFilesUnlessFollowIsNone) {
  const std::string shell = GetParam();
  TempDir dir;
  std::string command = Host("exec_child") + " hello; true";
  ProcessResult alone = RunUnderAgent({shell, "-c", command}, dir.File("sh.rec"),
                                      {{"HEAPDRIFT_FOLLOW", "none"}});
  EXPECT_EQ(alone.out, "child hello: agent absent\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
  heapdrift::Recording shell_recording;
  EXPECT_EQ(heapdrift::ReadRecording(dir.File("sh.rec"), &shell_recording).status, heapdrift::ReadStatus::kOk);
  ASSERT_GT(shell_recording.header.command_line_size(), 0);
  EXPECT_EQ(shell_recording.header.command_line(0), shell);

  TempDir followed_dir;
  ProcessResult followed = RunUnderAgent({shell, "-c", command}, followed_dir.File("sh.rec"));
  EXPECT_EQ(followed.out, "child hello: agent preloaded\n");
  // The shell records to sh.rec (it may leave with _exit, before any
  // snapshot: the header is still there); the program it ran, to sh.rec.<pid>.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(followed_dir.path())) {
    ++files;
    heapdrift::Recording recording;
    ASSERT_EQ(heapdrift::ReadRecording(entry.path(), &recording).status, heapdrift::ReadStatus::kOk);
    if (entry.path().filename() != "sh.rec") {
      ASSERT_FALSE(recording.snapshots.empty());
      EXPECT_TRUE(recording.snapshots.back().final());
      EXPECT_NE(recording.header.executable().find("exec_child"), std::string::npos);
    }
  }
  EXPECT_EQ(files, 2);
}

INSTANTIATE_TEST_SUITE_P(Shells, ShellChildren, ::testing::Values("/bin/sh", "/bin/bash"),
                         [](const ::testing::TestParamInfo<const char*>& shell) {
                           return std::string(shell.param).substr(5);  // after "/bin/"
                         });

// Daemons close every descriptor they did not open, then open their own
// files, which get the agent's old numbers. The agent must never write into
// nor close the program's file: it checks the descriptor is still the file
// it opened. (At 20 ms snapshots the parent's collector finds out first; at
// one an hour, the forked worker lets go of the parent's output first, and
// the parent finds out at exit.)
TEST(AgentSettings, AProgramThatClosesTheAgentsDescriptorKeepsItsOwnFile) {
  for (const char* interval : {"20", "3600000"}) {
    SCOPED_TRACE(interval);
    TempDir dir;
    ProcessResult traced =
        RunUnderAgent({Host("closes_fds"), dir.File("program.log")}, dir.File("host.rec"),
                      {{"HEAPDRIFT_INTERVAL_MS", interval}, {"HEAPDRIFT_FOLLOW", "all"}});
    EXPECT_EQ(traced.exit_code, 0) << traced.err;
    EXPECT_EQ(traced.out, "log fd 3\n");
    EXPECT_EQ(ReadFile(dir.File("program.log")), "parent started\nworker started\nparent done\n");
    auto lines = LinesStartingWith(traced.err, "heapdrift:");
    ASSERT_EQ(lines.size(), 1u) << traced.err;
    EXPECT_NE(lines[0].find("the program closed the descriptor of"), std::string::npos);
  }
}

// An idle program's collector wakes ~7 times a second (each wake-up of a
// sleeping thread costs CPU), not 50, and still writes every snapshot.
TEST(AgentSettings, AnIdleProgramWakesTheCollectorRarely) {
  TempDir dir;
  ProcessResult traced = RunUnderAgent(
      {"/bin/sh", "-c", "sleep 4; for t in /proc/$$/task/*; do cat $t/comm $t/status; done"},
      dir.File("idle.rec"));
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  size_t collector = traced.out.find("heapdrift\nName:");
  ASSERT_NE(collector, std::string::npos) << traced.out;
  size_t field = traced.out.find("voluntary_ctxt_switches:", collector);
  ASSERT_NE(field, std::string::npos);
  int wakeups = std::stoi(traced.out.substr(field + sizeof("voluntary_ctxt_switches:") - 1));
  EXPECT_LT(wakeups, 60) << "at 20 ms it would be 200";
  heapdrift::Recording recording;  // the shell leaves with _exit: no final snapshot
  ASSERT_EQ(heapdrift::ReadRecording(dir.File("idle.rec"), &recording).status, heapdrift::ReadStatus::kOk);
  EXPECT_GE(recording.snapshots.size(), 4u);
}

TEST(AgentSettings, AProgramWithItsOwnMallocIsToldSoOnce) {
  TempDir dir;
  ProcessResult traced = RunUnderAgent({Host("own_malloc")}, dir.File("own.rec"));
  EXPECT_EQ(traced.exit_code, 0);
  EXPECT_EQ(traced.out, "own allocator\n");
  auto lines = LinesStartingWith(traced.err, "heapdrift:");
  ASSERT_EQ(lines.size(), 1u) << traced.err;
  EXPECT_NE(lines[0].find("defines its own malloc"), std::string::npos);
}

TEST(AgentSettings, ANonPieProgramTakingMallocsAddressIsProfiled) {
  TempDir dir;
  ProcessResult traced = RunUnderAgent({Host("non_pie_host")}, dir.File("np.rec"),
                                       {{"HEAPDRIFT_SAMPLE_BYTES", "1"}});
  EXPECT_EQ(traced.exit_code, 0);
  EXPECT_EQ(traced.out, "non-pie\n");
  EXPECT_TRUE(LinesStartingWith(traced.err, "heapdrift:").empty()) << traced.err;
  heapdrift::Recording recording = LoadRecording(dir.File("np.rec"));
  ASSERT_FALSE(recording.snapshots.empty());
  EXPECT_FALSE(StacksThrough(recording, Host("non_pie_host"),
                            FindFunction(Host("non_pie_host"), "KeepName")).empty());
}

TEST(AgentSettings, WorksOverAnotherMallocAndReportsNoGlibcStats) {
  const char* jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
  ASSERT_TRUE(std::filesystem::exists(jemalloc)) << "install libjemalloc2";
  TempDir dir;
  ProcessResult plain = RunProcess({Host("entry_points"), "portable"}, {{"LD_PRELOAD", jemalloc}});
  ProcessResult traced = RunProcess(
      {Host("entry_points"), "portable"},
      {{"LD_PRELOAD", std::string(kAgentPath) + ":" + jemalloc},
       {"HEAPDRIFT_OUTPUT", dir.File("je.rec")}, {"HEAPDRIFT_SAMPLE_BYTES", "1"}});
  EXPECT_EQ(traced.exit_code, plain.exit_code) << traced.err;
  EXPECT_EQ(traced.out, plain.out);
  heapdrift::Recording recording = LoadRecording(dir.File("je.rec"));
  ASSERT_FALSE(recording.snapshots.empty());
  EXPECT_FALSE(recording.snapshots.back().memory().has_allocator_stats());
  EXPECT_GT(recording.snapshots.back().stats().samples(), 100u);
}

}  // namespace
}  // namespace heapdrift::testing
