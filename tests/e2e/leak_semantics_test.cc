// The exit-time leak verdict held to LeakSanitizer's documented semantics
// (compiler-rt/test/lsan/TestCases are the public reference for what each
// case expects): one host program per behaviour, its blocks of sizes nothing
// else allocates, each run twice: under `heapdrift check` (its JSON report),
// and with the agent preloaded by hand in exact mode with the leak scan (the
// recording's last snapshot). Both must give every block LSan's verdict.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "paths.h"
#include "recording_queries.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

enum class Verdict { kLeaked, kReachable };

// Objects of each block size, by verdict.
struct Verdicts {
  std::map<uint64_t, uint64_t> leaked, reachable;
};

void Count(Verdicts* verdicts, bool leaked, uint64_t bytes, uint64_t objects) {
  if (objects == 0 || bytes % objects != 0) return;  // sizes mixed at one site: not ours
  (leaked ? verdicts->leaked : verdicts->reachable)[bytes / objects] += objects;
}

Verdicts UnderCheck(const TempDir& dir, const std::vector<std::string>& command,
                    std::string* output) {
  std::vector<std::string> argv = {kCliPath, "check", "--json", dir.File("check.json"), "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  ProcessResult run = RunProcess(argv);
  *output = run.err;
  Verdicts verdicts;
  std::string json = ReadFile(dir.File("check.json"));
  if (json.empty()) {
    ADD_FAILURE() << "no JSON report: " << run.err;
    return verdicts;
  }
  nlohmann::json report = nlohmann::json::parse(json);
  for (const auto& process : report["processes"]) {
    for (const auto& leak : process["leaks"]) {
      Count(&verdicts, leak["kind"] == "leaked", leak["bytes"].get<uint64_t>(),
            leak["objects"].get<uint64_t>());
    }
  }
  return verdicts;
}

Verdicts Preloaded(const TempDir& dir, const std::vector<std::string>& command,
                   std::string* output) {
  ProcessResult run = RunUnderAgent(command, dir.File("scan.rec"),
                                    {{"HEAPDRIFT_SAMPLE_BYTES", "1"}, {"HEAPDRIFT_LEAK_SCAN", "1"}});
  *output = run.err;
  EXPECT_EQ(run.exit_code, 0) << command[0] << ": " << run.err;
  Verdicts verdicts;
  cli::Recording recording = LoadRecording(dir.File("scan.rec"));
  if (recording.snapshots.empty() || !recording.snapshots.back().leak_scan_done()) {
    ADD_FAILURE() << "no leak scan in the recording: " << run.err;
    return verdicts;
  }
  for (const auto& leak : recording.snapshots.back().leaks()) {
    Count(&verdicts, true, leak.leaked_bytes(), leak.leaked_objects());
    Count(&verdicts, false, leak.reachable_bytes(), leak.reachable_objects());
  }
  return verdicts;
}

// Runs `command` both ways and expects every block in `expected` (one
// object of each size) to get its verdict. Returns what the two runs wrote
// on stderr.
std::string ExpectVerdicts(const std::vector<std::string>& command,
                           const std::map<uint64_t, Verdict>& expected) {
  TempDir dir;
  std::string outputs;
  for (bool check : {true, false}) {
    std::string output;
    Verdicts verdicts = check ? UnderCheck(dir, command, &output) : Preloaded(dir, command, &output);
    std::string how = std::string(check ? "under check: " : "preloaded: ") + command[0];
    for (size_t i = 1; i < command.size(); ++i) how += " " + command[i];
    for (const auto& [size, verdict] : expected) {
      bool leaked = verdict == Verdict::kLeaked;
      EXPECT_EQ(verdicts.leaked[size], leaked ? 1u : 0u) << how << ", " << size << " B: " << output;
      EXPECT_EQ(verdicts.reachable[size], leaked ? 0u : 1u)
          << how << ", " << size << " B: " << output;
    }
    outputs += output;
  }
  return outputs;
}

// A pointer left in a frame that returned before the program ended, DEPTH
// bytes below main's stack pointer, is dead, whether main then calls exit()
// (LSan's exit_atexit_stale_stack) or returns (stale_stack_leak). Many
// depths: what the exit path overwrites (the host says so) depends on the C
// library and the agent; each ending must leave the pointer in place at
// several of them, or the test would prove nothing. (Before the scan began
// at exit()'s caller, 64 bytes below main, left by a return, was called
// still reachable.)
TEST(LeakSemantics, APointerInADeadFrameHoldsNothing) {
  for (const char* ending : {"exit", "return"}) {
    int stale_left = 0;
    for (const char* depth : {"64", "128", "256", "384", "512", "768", "1024", "2048", "4096",
                              "32768"}) {
      std::string outputs =
          ExpectVerdicts({Host("stale_stack"), depth, ending}, {{1337, Verdict::kLeaked}});
      // Both runs must have left it in place.
      if (outputs.find("was overwritten") == std::string::npos) ++stale_left;
    }
    EXPECT_GE(stale_left, 3) << ending;
  }
}

// The cases heapdrift already agreed with, pinned: each host's blocks have
// sizes nothing else in it allocates, one object each.
struct Case {
  std::string name;
  std::vector<std::string> command;
  std::map<uint64_t, Verdict> expected;
};

void PrintTo(const Case& tested, std::ostream* out) { *out << tested.name; }

class LeakSemanticsOf : public ::testing::TestWithParam<Case> {};

TEST_P(LeakSemanticsOf, EveryBlockGetsLeakSanitizersVerdict) {
  ExpectVerdicts(GetParam().command, GetParam().expected);
}

constexpr Verdict kLeaked = Verdict::kLeaked, kReachable = Verdict::kReachable;

INSTANTIATE_TEST_SUITE_P(
    Cases, LeakSemanticsOf,
    ::testing::Values(
        Case{"PointerToSelf", {Host("self_pointer")}, {{1111, kLeaked}}},
        Case{"UnalignedPointer", {Host("unaligned_pointer")},
             {{2222, kLeaked}, {2223, kReachable}}},
        Case{"LargeAllocations", {Host("large_blocks")},
             {{33554433, kReachable}, {33554435, kLeaked}}},
        // malloc(0) is one byte's block; realloc(p, 0) freed the 3,333.
        Case{"ZeroSizes", {Host("zero_sizes")}, {{1, kLeaked}}},
        Case{"ThreadRoots", {Host("thread_roots")},
             {{4441, kReachable}, {4442, kReachable}, {4444, kLeaked}}},
        Case{"ThreadLocalStorage", {Host("tls_roots"), Host("libtls_roots_lib.so")},
             {{5551, kReachable}, {5552, kReachable}, {5553, kReachable}}}),
    [](const ::testing::TestParamInfo<Case>& tested) { return tested.param.name; });

TEST(LeakSemantics, WhatIsFreedOrResizedAwayIsNotReported) {
  // The 3,333 bytes realloc(p, 0) freed, and the 4,443-byte argument the
  // thread freed, are in no verdict at all.
  for (const char* host : {"zero_sizes", "thread_roots"}) {
    TempDir dir;
    std::string output;
    Verdicts verdicts = Preloaded(dir, {Host(host)}, &output);
    for (uint64_t gone : {3333u, 4443u}) {
      EXPECT_EQ(verdicts.leaked.count(gone) + verdicts.reachable.count(gone), 0u)
          << host << ", " << gone << " B: " << output;
    }
  }
}

}  // namespace
}  // namespace heapdrift::testing
