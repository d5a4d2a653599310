// Real programs run with and without the agent must behave exactly alike:
// same output, same exit code, nothing on stderr from heapdrift, and a
// recording that reads back cleanly. Each program stresses one hazard.
#include <gtest/gtest.h>

#include <sstream>

#include "paths.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace heapdrift::testing {
namespace {

struct HostCase {
  const char* name;
  std::vector<std::string> args;
  int timeout_sec;
};

void ExpectSameBehaviourUnderAgent(const HostCase& host, const Environment& agent_env) {
  TempDir dir;
  std::vector<std::string> argv = {Host(host.name)};
  argv.insert(argv.end(), host.args.begin(), host.args.end());
  ProcessResult plain = RunProcess(argv, {}, host.timeout_sec);
  ASSERT_FALSE(plain.timed_out);
  ProcessResult traced = RunUnderAgent(argv, dir.File("host.rec"), agent_env, host.timeout_sec);
  ASSERT_FALSE(traced.timed_out) << host.name << " hung under the agent";
  EXPECT_EQ(traced.exit_code, plain.exit_code) << traced.err;
  EXPECT_EQ(traced.out, plain.out);
  EXPECT_EQ(LinesStartingWith(traced.err, "heapdrift:"), std::vector<std::string>{});
  cli::Recording recording = LoadRecording(dir.File("host.rec"));
  ASSERT_FALSE(recording.snapshots.empty());
  EXPECT_TRUE(recording.snapshots.back().final());
}

class HostSafety : public ::testing::TestWithParam<HostCase> {};

TEST_P(HostSafety, BehavesExactlyAsWithoutTheAgentAtTheDefaultRate) {
  ExpectSameBehaviourUnderAgent(GetParam(), {});
}

TEST_P(HostSafety, BehavesExactlyAsWithoutTheAgentInExactMode) {
  ExpectSameBehaviourUnderAgent(GetParam(), {{"HEAPDRIFT_SAMPLE_BYTES", "1"}});
}

INSTANTIATE_TEST_SUITE_P(
    Hosts, HostSafety,
    ::testing::Values(HostCase{"entry_points", {}, 60},
                      HostCase{"new_delete", {}, 60},
                      HostCase{"exceptions_threads", {}, 120},
                      HostCase{"c_host", {Host("libcxx_plugin.so")}, 60},
                      HostCase{"fork_exec", {"1000", Host("exec_child")}, 400},
                      HostCase{"short_threads", {"10000"}, 400},
                      HostCase{"dlopen_alloc", {Host("liballoc_plugin.so")}, 60},
                      HostCase{"signal_alloc", {}, 120}),
    [](const ::testing::TestParamInfo<HostCase>& param) { return std::string(param.param.name); });

// libunwind is loaded privately: C++ exception handling in a C host that
// loads C++ later must stay with libgcc_s, not bind to libunwind's _Unwind_*.
TEST(HostSafetyUnwinder, CHostExceptionsStayWithLibgcc) {
  TempDir dir;
  ProcessResult traced = RunUnderAgent({Host("c_host"), Host("libcxx_plugin.so")},
                                       dir.File("host.rec"), {{"LD_DEBUG", "bindings"}});
  ASSERT_EQ(traced.exit_code, 0) << traced.out;
  int unwind_bindings = 0, hijacked = 0;
  std::istringstream lines(traced.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("symbol `_Unwind_RaiseException'") == std::string::npos &&
        line.find("symbol `_Unwind_Resume'") == std::string::npos) {
      continue;
    }
    // "binding file FROM [0] to TO [0]: normal symbol `_Unwind_...'": only a
    // binding from another object into libunwind is a takeover.
    ++unwind_bindings;
    size_t to = line.find(" to ");
    if (to != std::string::npos && line.find("libunwind.so", to) != std::string::npos &&
        line.substr(0, to).find("libunwind.so") == std::string::npos) {
      ++hijacked;
    }
  }
  EXPECT_GT(unwind_bindings, 0) << "LD_DEBUG showed no exception-runtime bindings";
  EXPECT_EQ(hijacked, 0) << "the exception runtime bound to libunwind";
}

}  // namespace
}  // namespace heapdrift::testing
