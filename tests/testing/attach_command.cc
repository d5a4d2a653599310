#include "attach_command.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "paths.h"
#include "recording_queries.h"
#include "text_files.h"

namespace heapdrift::testing {

ProcessResult Attach(std::vector<std::string> arguments, int timeout_sec) {
  arguments.insert(arguments.begin(), {kCliPath, "attach"});
  return RunProcess(arguments, {}, timeout_sec);
}

std::string Example(const char* name) { return std::string(kExamplesDir) + "/" + name; }

void ExpectOneLine(const ProcessResult& result, int code, const std::string& words) {
  EXPECT_EQ(result.exit_code, code) << result.err;
  EXPECT_EQ(Occurrences(result.err, "\n"), 1u) << result.err;
  EXPECT_NE(result.err.find(words), std::string::npos) << result.err;
}

void ExpectTheSessionLeakRankedFirst(DormantProcess& server, const std::string& recording,
                                     const ProcessResult& attached) {
  ProcessResult finished = server.Wait();
  ASSERT_EQ(finished.exit_code, 0) << finished.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(finished.err, match, std::regex("true leak rate (\\d+) bytes/s")))
      << finished.err;
  double true_rate = std::stod(match[1]);
  ProcessResult report = RunProcess({kCliPath, "report", "--json", recording});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  nlohmann::json suspects = nlohmann::json::parse(report.out)["suspects"];
  ASSERT_FALSE(suspects.empty()) << attached.out;
  EXPECT_NE(suspects[0]["function"].get<std::string>().find("SessionStore::CreateSession"),
            std::string::npos)
      << attached.out;
  EXPECT_NEAR(suspects[0]["growth_bytes_per_sec"].get<double>(), true_rate, 0.25 * true_rate)
      << attached.out;
  for (const auto& suspect : suspects) {
    EXPECT_EQ(suspect["function"].get<std::string>().find("RenderPage"), std::string::npos)
        << attached.out;
  }
}

RepeatedAttaches AttachFiftyTimes(const std::string& pid, const std::string& scratch_recording) {
  RepeatedAttaches rounds;
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> arguments = {pid, "--duration", "200ms", "--interval-ms", "50",
                                          "-o", scratch_recording};
    if (round == 49) arguments.insert(arguments.end(), {"--sample-bytes", "1"});
    ProcessResult attached = Attach(arguments);
    if (attached.exit_code != 0) {
      ADD_FAILURE() << "round " << round << ": " << attached.err;
      break;
    }
    heapdrift::Recording recording = LoadRecording(scratch_recording);
    if (recording.snapshots.empty() || !recording.snapshots.back().final()) {
      ADD_FAILURE() << "round " << round << ": the recording has no final snapshot";
      break;
    }
    rounds.agent_memory.push_back(
        static_cast<double>(recording.snapshots.back().stats().agent_memory_bytes()));
    rounds.messages.push_back(attached.err);
    std::filesystem::remove(scratch_recording);
  }
  return rounds;
}

pid_t StartQuietAttach(const std::string& pid, const std::string& output) {
  pid_t attach = fork();
  if (attach == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(kCliPath, kCliPath, "attach", pid.c_str(), "--duration", "5s", "--interval-ms", "50",
          "-o", output.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return attach;
}

void ExpectUnnoticed(const ProcessResult& finished, const ProcessResult& plain) {
  EXPECT_EQ(finished.exit_code, plain.exit_code);
  EXPECT_EQ(finished.out, plain.out);
  EXPECT_EQ(finished.err, "");
}

}  // namespace heapdrift::testing
