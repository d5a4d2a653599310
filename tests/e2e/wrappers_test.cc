// The program behind a wrapper is what gets recorded (issue 11): env, nice,
// timeout, /usr/bin/time, setsid, sh -c, bash scripts that exec or run the
// program as a child, and a C program that forks and execs it. For each, with
// the agent preloaded by hand (to a file, and streaming to `heapdrift
// record`), through `heapdrift run` and through `heapdrift check`: the
// program's output and exit status are unchanged, and `heapdrift report` on
// the recording the README says to open (OUTPUT) names the leaking function.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "background_receiver.h"
#include "paths.h"
#include "recording.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

namespace fs = std::filesystem;
using Argv = std::vector<std::string>;

constexpr char kLeakingFunction[] = "RememberSession";

struct Wrapper {
  const char* name;
  // The command line that runs `program` through the wrapper; scripts go in `dir`.
  std::function<Argv(const Argv& program, const TempDir& dir)> wrap;
  // Whether the wrapper execs the program in its own process (its recording
  // is then taken over by the program's); unset when that depends on how it
  // is started (setsid forks only when it leads its process group).
  std::optional<bool> execs;
};

Argv Concat(Argv head, const Argv& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

std::string Joined(const Argv& argv) {
  std::string text;
  for (const std::string& argument : argv) text += (text.empty() ? "" : " ") + argument;
  return text;
}

std::string Script(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.File(name);
  std::ofstream(path) << "#!/bin/bash\n" << body;
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

const std::vector<Wrapper>& AllWrappers() {
  static const std::vector<Wrapper> wrappers = {
      {"env", [](const Argv& p, const TempDir&) { return Concat({"env", "A=1"}, p); }, true},
      {"nice", [](const Argv& p, const TempDir&) { return Concat({"nice", "-n", "3"}, p); }, true},
      {"timeout", [](const Argv& p, const TempDir&) { return Concat({"timeout", "120"}, p); },
       false},
      {"time", [](const Argv& p, const TempDir&) { return Concat({"/usr/bin/time"}, p); }, false},
      {"setsid", [](const Argv& p, const TempDir&) { return Concat({"setsid", "-w"}, p); },
       std::nullopt},
      {"sh_c", [](const Argv& p, const TempDir&) { return Argv{"sh", "-c", Joined(p)}; },
       std::nullopt},
      {"script_that_execs",
       [](const Argv& p, const TempDir& dir) {
         return Argv{Script(dir, "start.sh", "echo starting\nexec " + Joined(p) + "\n")};
       },
       true},
      {"script_with_child",
       [](const Argv& p, const TempDir& dir) {
         return Argv{Script(dir, "start.sh",
                            "echo starting\n" + Joined(p) + "\nstatus=$?\necho done\n"
                            "exit $status\n")};
       },
       false},
      {"c_spawner", [](const Argv& p, const TempDir&) { return Concat({Host("spawner")}, p); },
       false},
  };
  return wrappers;
}

class Wrappers : public ::testing::TestWithParam<Wrapper> {};

// The leak: 1.5 s of 4 KiB blocks every 10 ms, in exact mode, a snapshot
// every 100 ms: a steady line that the growth test cannot miss.
Argv Program(int exit_code) { return {Host("steady_leak"), "1500", std::to_string(exit_code)}; }
const Environment kFastExact = {{"HEAPDRIFT_SAMPLE_BYTES", "1"}, {"HEAPDRIFT_INTERVAL_MS", "100"}};

// `report --json OUTPUT`: the leaking function among the suspects.
void ExpectReportNamesTheLeak(const std::string& output) {
  ProcessResult report = RunProcess({kCliPath, "report", "--json", output});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  nlohmann::json suspects = nlohmann::json::parse(report.out)["suspects"];
  ASSERT_FALSE(suspects.empty()) << report.out;
  EXPECT_EQ(suspects[0]["function"], kLeakingFunction) << report.out;
  // And in text, where a user reads it.
  ProcessResult text = RunProcess({kCliPath, "report", output});
  EXPECT_NE(text.out.find(std::string(kLeakingFunction) + " (hosts/steady_leak.c"),
            std::string::npos)
      << text.out;
}

// The program behaved as it does without the agent, which said nothing.
void ExpectUnchanged(const ProcessResult& traced, const ProcessResult& plain) {
  EXPECT_EQ(traced.exit_code, plain.exit_code) << traced.err;
  EXPECT_EQ(traced.out, plain.out);
  EXPECT_EQ(LinesStartingWith(traced.err, "heapdrift:"), std::vector<std::string>{});
}

// What the wrapper leaves beside the program's recording.
// (A wrapper may leave with _exit, dash does: no final snapshot then.)
void ExpectFiles(const Wrapper& wrapper, const std::string& output) {
  heapdrift::Recording first;
  ASSERT_EQ(heapdrift::ReadRecording(output, &first).status, heapdrift::ReadStatus::kOk);
  std::vector<std::string> later = FollowedRecordings(output);
  if (wrapper.execs == true) {
    // Exec'd before its first snapshot: the program took the file over.
    EXPECT_NE(first.header.executable().find("steady_leak"), std::string::npos)
        << first.header.executable();
    EXPECT_TRUE(later.empty()) << later.front();
  }
  if (wrapper.execs == false) {
    ASSERT_FALSE(later.empty()) << "no recording of the program beside " << output;
    EXPECT_EQ(first.header.root_pid(), first.header.pid());
  }
  for (const std::string& path : later) {
    heapdrift::Recording recording = LoadRecording(path);
    EXPECT_EQ(recording.header.root_pid(), first.header.pid()) << path;
  }
}

TEST_P(Wrappers, PreloadedByHandToAFile) {
  const Wrapper& wrapper = GetParam();
  TempDir dir;
  Argv command = wrapper.wrap(Program(3), dir);
  ProcessResult plain = RunProcess(command);
  ProcessResult traced = RunUnderAgent(command, dir.File("x.rec"), kFastExact);
  ExpectUnchanged(traced, plain);
  EXPECT_EQ(plain.exit_code, 3);
  ExpectFiles(wrapper, dir.File("x.rec"));
  ExpectReportNamesTheLeak(dir.File("x.rec"));
}

TEST_P(Wrappers, PreloadedByHandStreamingToARecorder) {
  const Wrapper& wrapper = GetParam();
  TempDir dir;
  Argv command = wrapper.wrap(Program(3), dir);
  ProcessResult plain = RunProcess(command);
  BackgroundReceiver receiver(dir.File("hd.sock"), dir.File("x.rec"));
  ASSERT_TRUE(receiver.WaitUntilListening());
  ProcessResult traced = RunUnderAgent(command, "unix:" + dir.File("hd.sock"), kFastExact);
  ExpectUnchanged(traced, plain);
  const ProcessResult& received = receiver.Wait();
  ASSERT_EQ(received.exit_code, 0) << received.err;
  ExpectFiles(wrapper, dir.File("x.rec"));
  ExpectReportNamesTheLeak(dir.File("x.rec"));
}

TEST_P(Wrappers, ThroughRun) {
  const Wrapper& wrapper = GetParam();
  TempDir dir;
  Argv command = wrapper.wrap(Program(3), dir);
  ProcessResult plain = RunProcess(command);
  ProcessResult traced = RunProcess(Concat({kCliPath, "run", "--sample-bytes", "1",
                                            "--interval-ms", "100", "-o", dir.File("x.rec"), "--"},
                                           command));
  EXPECT_EQ(traced.exit_code, plain.exit_code) << traced.err;
  EXPECT_EQ(traced.out, plain.out);
  ExpectFiles(wrapper, dir.File("x.rec"));
  ExpectReportNamesTheLeak(dir.File("x.rec"));
}

// check judges every process of the tree: the program behind the wrapper
// grows (it exits 0, so the verdict decides check's exit code).
TEST_P(Wrappers, ThroughCheck) {
  const Wrapper& wrapper = GetParam();
  TempDir dir;
  Argv command = wrapper.wrap(Program(0), dir);
  ProcessResult plain = RunProcess(command);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ProcessResult checked = RunProcess(Concat(
      {kCliPath, "check", "--interval-ms", "100", "--max-growth", "50KiB", "--"}, command));
  EXPECT_EQ(checked.exit_code, 23) << checked.err;
  EXPECT_EQ(checked.out, plain.out);
  EXPECT_NE(checked.err.find(kLeakingFunction), std::string::npos) << checked.err;
  EXPECT_NE(checked.err.find("steady_leak"), std::string::npos) << checked.err;
}

// A start script that ran (and recorded) for a while before its exec keeps
// its recording; the program gets OUTPUT.<pid>, the same pid, and the report
// on OUTPUT still names the leak.
TEST(WrapperThatRecorded, KeepsItsFileAndTheProgramGetsItsOwn) {
  TempDir dir;
  std::string script = Script(dir, "start.sh", "sleep 0.5\nexec " + Joined(Program(0)) + "\n");
  ProcessResult traced = RunUnderAgent({script}, dir.File("x.rec"), kFastExact);
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  heapdrift::Recording shell;
  ASSERT_EQ(heapdrift::ReadRecording(dir.File("x.rec"), &shell).status, heapdrift::ReadStatus::kOk);
  EXPECT_EQ(shell.header.executable(), "/usr/bin/bash");
  EXPECT_FALSE(shell.snapshots.empty());
  std::string program = dir.File("x.rec." + std::to_string(shell.header.pid()));
  // Beside it: the program's, and sleep's (a program the script ran).
  std::vector<std::string> later = FollowedRecordings(dir.File("x.rec"));
  EXPECT_EQ(later.size(), 2u);
  EXPECT_NE(std::find(later.begin(), later.end(), program), later.end()) << program;
  EXPECT_NE(LoadRecording(program).header.executable().find("steady_leak"), std::string::npos);
  ExpectReportNamesTheLeak(dir.File("x.rec"));
}

// HEAPDRIFT_FOLLOW=none: the first process alone, as before.
TEST(WrapperThatRecorded, FollowNoneRecordsTheWrapperAlone) {
  TempDir dir;
  Environment env = kFastExact;
  env.emplace_back("HEAPDRIFT_FOLLOW", "none");
  ProcessResult traced =
      RunUnderAgent(Concat({"timeout", "60"}, Program(0)), dir.File("x.rec"), env);
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(LinesStartingWith(traced.err, "heapdrift:"), std::vector<std::string>{});
  EXPECT_EQ(LoadRecording(dir.File("x.rec")).header.executable(), "/usr/bin/timeout");
  EXPECT_TRUE(FollowedRecordings(dir.File("x.rec")).empty());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), {}), 1);

  TempDir run_dir;
  ProcessResult run = RunProcess(Concat({kCliPath, "run", "--follow", "none", "-o",
                                         run_dir.File("x.rec"), "--", "timeout", "60"},
                                        Program(0)));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(LoadRecording(run_dir.File("x.rec")).header.executable(), "/usr/bin/timeout");
  EXPECT_EQ(std::distance(fs::directory_iterator(run_dir.path()), {}), 1);
  ProcessResult bad = RunProcess({kCliPath, "run", "--follow", "children", "-o",
                                  run_dir.File("y.rec"), "--", "true"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--follow"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(run_dir.File("y.rec")));
}

INSTANTIATE_TEST_SUITE_P(Programs, Wrappers, ::testing::ValuesIn(AllWrappers()),
                         [](const ::testing::TestParamInfo<Wrapper>& param_info) {
                           return std::string(param_info.param.name);
                         });

}  // namespace
}  // namespace heapdrift::testing
