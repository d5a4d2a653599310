// Real programs run with and without the agent must behave exactly alike:
// same output, same exit code, nothing on stderr from heapdrift, and a
// recording that reads back cleanly. Each program stresses one hazard.
#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "dormant_process.h"
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
  heapdrift::Recording recording = LoadRecording(dir.File("host.rec"));
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

// The same program, started with the agent asleep, then attached to again
// and again while it runs (1 s each, default rate) until it exits: output,
// exit code and stderr as without the agent; each attach that found the
// process running reads back as a recording.
// Attached to for a second at a time, over and over, until it ends: with a
// dormant agent preloaded (`dormant`), or none (each process entered by the
// first attach, which loads the agent; the rest wake it).
void AttachRepeatedly(const HostCase& host, bool dormant) {
  TempDir dir;
  std::vector<std::string> argv = {Host(host.name)};
  argv.insert(argv.end(), host.args.begin(), host.args.end());
  ProcessResult plain = RunProcess(argv, {}, host.timeout_sec);
  ASSERT_FALSE(plain.timed_out);
  DormantProcess process(dir, argv, dormant);
  int attaches = 0;
  for (int round = 0; process.Running(); ++round) {
    std::string output = dir.File("attach" + std::to_string(round) + ".rec");
    ProcessResult attached = RunProcess({kCliPath, "attach", process.pid_text(), "--duration",
                                         "1s", "--interval-ms", "100", "-o", output},
                                        {}, 60);
    if (attached.exit_code == 0) {
      ++attaches;
      EXPECT_TRUE(LoadRecording(output).header.attached());
    } else {
      // Only because it had exited, or had not yet started its agent (or,
      // entered without one, ended while it was being entered).
      EXPECT_TRUE(attached.exit_code == 5 || attached.exit_code == 7) << attached.err;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ProcessResult finished = process.Wait();
  EXPECT_EQ(finished.exit_code, plain.exit_code) << finished.err;
  EXPECT_EQ(finished.out, plain.out);
  EXPECT_EQ(LinesStartingWith(finished.err, "heapdrift:"), std::vector<std::string>{});
  ::testing::Test::RecordProperty("attaches", attaches);
}

TEST_P(HostSafety, BehavesExactlyAsWithoutTheAgentWhileAttachedAndDetached) {
  AttachRepeatedly(GetParam(), true);
}

TEST_P(HostSafety, BehavesExactlyAsWithoutTheAgentWhileEnteredAttachedAndDetached) {
  AttachRepeatedly(GetParam(), false);
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
                      HostCase{"signal_alloc", {}, 120},
                      HostCase{"loader_lock", {"dlopen", Host("liballoc_plugin.so")}, 60},
                      HostCase{"thread_attributes", {}, 60}),
    [](const ::testing::TestParamInfo<HostCase>& param) { return std::string(param.param.name); });

// The agent brings no exception runtime: C++ exception handling in a C host
// that loads C++ later must stay with libgcc_s, never bind to an unwinder
// library's _Unwind_* (libunwind.so.8 has them; the agent once loaded it).
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

// Credential changes apply to every thread, the agent's collector included
// (glibc's set*id broadcast aborts the process if one thread's change fails).
// Each way of dropping root that works without the agent works with it, with
// the same output, and the recording (opened before the drop) reads back.
// Not among them: `setpriv --reuid=U --regid=G`, which raises its own thread's
// capabilities with capset between the two changes; glibc then aborts any
// multithreaded process, heaptrack's too (README, Known limits).
TEST(HostSafetyCredentials, DroppingRootBehavesAsWithoutTheAgent) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::vector<std::vector<std::string>> commands = {
      {Host("drop_privileges")},
      {"runuser", "-u", "nobody", "--", "id"},
      {"su", "-s", "/bin/sh", "nobody", "-c", "id"},
      {"setpriv", "--reuid=nobody", "id"},
      {"setpriv", "--regid=nogroup", "--clear-groups", "id"},
  };
  for (const auto& command : commands) {
    SCOPED_TRACE(command[0] + (command.size() > 1 ? " " + command[1] : ""));
    TempDir dir;
    // What the wrapper runs as nobody records too, to a file of its own:
    // the directory must let it create one.
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all |
                                                 std::filesystem::perms::sticky_bit);
    ProcessResult plain = RunProcess(command, {}, 30);
    ProcessResult traced = RunUnderAgent(command, dir.File("host.rec"), {}, 30);
    EXPECT_EQ(traced.exit_code, plain.exit_code) << traced.err;
    EXPECT_EQ(traced.out, plain.out);
    EXPECT_EQ(LinesStartingWith(traced.err, "heapdrift:"), std::vector<std::string>{});
    heapdrift::Recording recording;
    EXPECT_EQ(heapdrift::ReadRecording(dir.File("host.rec"), &recording).status, heapdrift::ReadStatus::kOk);
  }
}

// A thread that allocates while holding the loader's lock (inside a
// dl_iterate_phdr callback), beside threads whose samples unwind cold stacks
// and, in one variant, a thread that loads and unloads a library. Before the
// fix, libunwind's global cache lock, held across its own dl_iterate_phdr,
// deadlocked this host in about half of its runs under `check`. 50 runs of
// each; a deadlock is rarely needed twice to show.
struct LoaderLockCase {
  const char* name;
  bool with_dlopen;
  bool exact;  // under `heapdrift check` (exact mode and the exit-time scan)
};

class HostSafetyLoaderLock : public ::testing::TestWithParam<LoaderLockCase> {};

TEST_P(HostSafetyLoaderLock, NeverDeadlocksIn50Runs) {
  const LoaderLockCase& variant = GetParam();
  std::vector<std::string> host = {Host("loader_lock")};
  if (variant.with_dlopen) {
    host.push_back("dlopen");
    host.push_back(Host("liballoc_plugin.so"));
  }
  std::vector<std::string> argv = host;
  if (variant.exact) {
    argv = {kCliPath, "check", "--"};
    argv.insert(argv.end(), host.begin(), host.end());
  }
  TempDir dir;
  for (int run = 0; run < 50; ++run) {
    ProcessResult result = variant.exact ? RunProcess(argv, {}, 30)
                                         : RunUnderAgent(argv, dir.File("host.rec"), {}, 30);
    ASSERT_FALSE(result.timed_out) << "run " << run << " hung";
    ASSERT_EQ(result.exit_code, 0) << "run " << run << ":\n" << result.out << result.err;
    ASSERT_EQ(result.out.rfind("loader_lock done\n", 0), 0u) << result.out;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, HostSafetyLoaderLock,
    ::testing::Values(LoaderLockCase{"Default", false, false}, LoaderLockCase{"Exact", false, true},
                      LoaderLockCase{"DlopenDefault", true, false},
                      LoaderLockCase{"DlopenExact", true, true}),
    [](const ::testing::TestParamInfo<LoaderLockCase>& param) {
      return std::string(param.param.name);
    });

}  // namespace
}  // namespace heapdrift::testing
