// The heapdrift command on good and bad input: exit codes, one clear error
// line, and recordings that survive truncation.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "heapdrift.pb.h"
#include "paths.h"
#include "recording.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

ProcessResult Cli(std::vector<std::string> args) {
  args.insert(args.begin(), kCliPath);
  return RunProcess(args);
}

void ExpectOneErrorLine(const ProcessResult& result, int exit_code, const std::string& needle) {
  EXPECT_EQ(result.exit_code, exit_code) << result.err;
  auto lines = LinesStartingWith(result.err, "heapdrift:");
  ASSERT_EQ(lines.size(), 1u) << result.err;
  EXPECT_NE(lines[0].find(needle), std::string::npos) << lines[0];
  EXPECT_EQ(result.err.find("terminate"), std::string::npos);
}

TEST(Cli, RunReturnsTheProgramsExitCodeAndWritesARecording) {
  TempDir dir;
  ProcessResult run = Cli({"run", "-o", dir.File("r.rec"), "--", "/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(run.exit_code, 7);
  heapdrift::Recording recording;
  EXPECT_EQ(heapdrift::ReadRecording(dir.File("r.rec"), &recording).status, heapdrift::ReadStatus::kOk);
}

TEST(Cli, RunOfAMissingProgramSaysSoAndExits127) {
  TempDir dir;
  ExpectOneErrorLine(Cli({"run", "-o", dir.File("r.rec"), "--", "/no/such/program"}), 127,
                     "cannot run '/no/such/program'");
}

TEST(Cli, UnknownFlagsAndMissingArgumentsAreUsageErrors) {
  ExpectOneErrorLine(Cli({"run", "--frobnicate", "-o", "x", "--", "true"}), 2, "frobnicate");
  ExpectOneErrorLine(Cli({"inspect"}), 2, "recording");
  ExpectOneErrorLine(Cli({"no-such-command"}), 2, "subcommand");
  ExpectOneErrorLine(Cli({"run", "--sample-bytes", "0", "-o", "x", "--", "true"}), 2,
                     "sample-bytes");
}

// `heapdrift serve` is the daemon's executable, heapdrift-serve, run from
// beside heapdrift with the same words: its help, and one line when it is
// not there.
TEST(Cli, ServeHandsItsCommandLineToTheDaemonBesideIt) {
  ProcessResult help = Cli({"serve", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_NE(help.out.find("heapdrift serve"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--listen"), std::string::npos) << help.out;
  ExpectOneErrorLine(Cli({"serve", "--listen", "/not-unix", "--dir", "/tmp/x"}), 2,
                     "--listen takes unix:/path.sock");

  TempDir dir;
  std::string base = dir.path().string();
  std::string alone = base + "/heapdrift";
  std::filesystem::copy_file(kCliPath, alone);
  ProcessResult missing = RunProcess({alone, "serve", "--listen", "unix:" + base + "/s.sock",
                                      "--dir", base + "/kept"});
  ExpectOneErrorLine(missing, 1, "cannot start the daemon");
  EXPECT_FALSE(std::filesystem::exists(base + "/kept"));
}

TEST(Cli, RunOutputThatCannotBeWrittenFailsBeforeStarting) {
  ExpectOneErrorLine(Cli({"run", "-o", "/nonexistent-dir/x.rec", "--", "true"}), 1,
                     "cannot write");
}

TEST(Cli, SigtermIsForwardedAndTheRecordingStaysReadable) {
  TempDir dir;
  std::string example = std::string(kExamplesDir) + "/session_leak";
  ProcessResult run;
  std::thread runner([&] {
    run = Cli({"run", "--interval-ms", "100", "-o", dir.File("killed.rec"), "--", example,
               "--duration-sec", "60"});
  });
  // Wait for snapshots to appear, then terminate the heapdrift process.
  for (int i = 0; i < 100 && ReadFile(dir.File("killed.rec")).size() < 2000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ProcessResult pids = RunProcess({"pgrep", "-f", "killed.rec"});
  for (const auto& line : LinesStartingWith(pids.out, "")) {
    if (!line.empty()) kill(std::stoi(line), SIGTERM);
  }
  runner.join();
  EXPECT_EQ(run.exit_code, 128 + SIGTERM);
  heapdrift::Recording recording;
  heapdrift::ReadResult result = heapdrift::ReadRecording(dir.File("killed.rec"), &recording);
  EXPECT_EQ(result.status, heapdrift::ReadStatus::kOk) << result.message;
  EXPECT_FALSE(recording.snapshots.empty());
}

class BadRecordings : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessResult run = Cli({"run", "--interval-ms", "50", "-o", dir_.File("good.rec"), "--",
                             std::string(kExamplesDir) + "/session_leak", "--duration-sec",
                             "0.5"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    good_ = ReadFile(dir_.File("good.rec"));
    ASSERT_GT(good_.size(), 1000u);
  }
  TempDir dir_;
  std::string good_;
};

// Every command that reads a recording answers bad files the same way.
std::vector<std::vector<std::string>> ReadingCommands(const std::string& file) {
  return {{"inspect", file},
          {"report", file},
          {"diff", file},
          {"export", file, "--format", "folded", "-o", "/dev/null"}};
}

TEST_F(BadRecordings, MissingEmptyAndForeignFilesAreRejectedWithExit3) {
  WriteFile(dir_.File("empty.rec"), "");
  std::mt19937 random(5);
  std::string noise(5000, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  WriteFile(dir_.File("noise.rec"), noise);
  for (const auto& [file, message] :
       std::vector<std::pair<std::string, std::string>>{
           {dir_.File("missing.rec"), "cannot open"},
           {dir_.File("empty.rec"), "empty file"},
           {dir_.File("noise.rec"), "not a heapdrift recording"},
           {kCliPath, "not a heapdrift recording"}}) {
    for (const auto& command : ReadingCommands(file)) {
      SCOPED_TRACE(command[0] + " " + file);
      ExpectOneErrorLine(Cli(command), 3, message);
    }
  }
}

TEST_F(BadRecordings, ANewerFormatVersionIsNamedWithExit4) {
  proto::Header header;
  header.set_magic("heapdrift-recording");
  header.set_format_version(99);
  std::string bytes = header.SerializeAsString();
  WriteFile(dir_.File("future.rec"), std::string(1, static_cast<char>(bytes.size())) + bytes);
  ExpectOneErrorLine(Cli({"inspect", dir_.File("future.rec")}), 4, "format 99");
}

// Cut anywhere: inside the header it is not a recording; after it, every
// complete snapshot is still read, with one warning.
TEST_F(BadRecordings, TruncatedRecordingsKeepEverySnapshotBeforeTheCut) {
  heapdrift::Recording full;
  ASSERT_EQ(heapdrift::ReadRecording(dir_.File("good.rec"), &full).status, heapdrift::ReadStatus::kOk);
  for (size_t cut = 1; cut < good_.size(); cut += 1 + good_.size() / 97) {
    WriteFile(dir_.File("cut.rec"), good_.substr(0, cut));
    heapdrift::Recording recording;
    heapdrift::ReadResult result = heapdrift::ReadRecording(dir_.File("cut.rec"), &recording);
    if (result.status != heapdrift::ReadStatus::kOk) {
      EXPECT_EQ(result.status, heapdrift::ReadStatus::kNotRecording) << "cut at " << cut;
      continue;
    }
    EXPECT_LE(recording.snapshots.size(), full.snapshots.size());
    if (recording.snapshots.size() < full.snapshots.size()) {
      EXPECT_EQ(result.warnings.size(), 1u) << "cut at " << cut;
    }
  }
  WriteFile(dir_.File("cut.rec"), good_.substr(0, good_.size() - 3));
  for (const auto& command : ReadingCommands(dir_.File("cut.rec"))) {
    ProcessResult result = Cli(command);
    EXPECT_EQ(result.exit_code, 0) << command[0] << ": " << result.err;
    EXPECT_NE(result.err.find("truncated"), std::string::npos) << command[0];
  }
}

}  // namespace
}  // namespace heapdrift::testing
