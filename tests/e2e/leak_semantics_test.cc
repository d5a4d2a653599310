// The exit-time leak verdict held to LeakSanitizer's documented semantics
// (compiler-rt/test/lsan/TestCases are the public reference for what each
// case expects): one host program per behaviour, its blocks of sizes nothing
// else allocates, each run twice: under `heapdrift check` (its JSON report),
// and with the agent preloaded by hand in exact mode with the leak scan (the
// recording's last snapshot). Both must give every block LSan's verdict.
#include <gtest/gtest.h>

#include <fstream>
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

// LSan's verdicts: a direct leak, an indirect one (only leaked blocks point
// to it), a reachable block.
enum class Verdict { kLeaked, kIndirect, kReachable };

// Objects of each block size, by verdict.
struct Verdicts {
  std::map<uint64_t, uint64_t> by_verdict[3];
  std::map<uint64_t, uint64_t>& operator[](Verdict verdict) {
    return by_verdict[static_cast<size_t>(verdict)];
  }
};

void Count(Verdicts* verdicts, Verdict verdict, uint64_t bytes, uint64_t objects) {
  if (objects == 0 || bytes % objects != 0) return;  // sizes mixed at one site: not ours
  (*verdicts)[verdict][bytes / objects] += objects;
}

Verdict FromKind(const nlohmann::json& kind) {
  return kind == "leaked" ? Verdict::kLeaked
         : kind == "indirect" ? Verdict::kIndirect
                              : Verdict::kReachable;
}

// From one process of check's JSON report.
void AddVerdicts(const nlohmann::json& process, Verdicts* verdicts) {
  for (const auto& leak : process["leaks"]) {
    Count(verdicts, FromKind(leak["kind"]), leak["bytes"].get<uint64_t>(),
          leak["objects"].get<uint64_t>());
  }
}

// From a recording's final snapshot.
Verdicts VerdictsOf(const heapdrift::proto::Snapshot& last) {
  Verdicts verdicts;
  for (const auto& leak : last.leaks()) {
    Count(&verdicts, Verdict::kLeaked, leak.leaked_bytes(), leak.leaked_objects());
    Count(&verdicts, Verdict::kReachable, leak.reachable_bytes(), leak.reachable_objects());
  }
  for (const auto& leak : last.indirect_leaks()) {
    Count(&verdicts, Verdict::kIndirect, leak.bytes(), leak.objects());
  }
  return verdicts;
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
  for (const auto& process : report["processes"]) AddVerdicts(process, &verdicts);
  return verdicts;
}

Verdicts Preloaded(const TempDir& dir, const std::vector<std::string>& command,
                   std::string* output) {
  ProcessResult run = RunUnderAgent(command, dir.File("scan.rec"),
                                    {{"HEAPDRIFT_SAMPLE_BYTES", "1"}, {"HEAPDRIFT_LEAK_SCAN", "1"}});
  *output = run.err;
  EXPECT_EQ(run.exit_code, 0) << command[0] << ": " << run.err;
  heapdrift::Recording recording = LoadRecording(dir.File("scan.rec"));
  if (recording.snapshots.empty() || !recording.snapshots.back().leak_scan_done()) {
    ADD_FAILURE() << "no leak scan in the recording: " << run.err;
    return {};
  }
  return VerdictsOf(recording.snapshots.back());
}

// Expects every block in `expected` (one object of each size) to have its
// verdict in `verdicts`, and no other.
void ExpectGiven(Verdicts& verdicts, const std::map<uint64_t, Verdict>& expected,
                 const std::string& how) {
  const char* names[] = {"leaked", "indirect", "reachable"};
  for (const auto& [size, verdict] : expected) {
    for (Verdict given : {Verdict::kLeaked, Verdict::kIndirect, Verdict::kReachable}) {
      EXPECT_EQ(verdicts[given][size], given == verdict ? 1u : 0u)
          << how << ", " << size << " B " << names[static_cast<size_t>(given)];
    }
  }
}

// Runs `command` both ways and expects every block in `expected` to get its
// verdict. Returns what the two runs wrote on stderr.
std::string ExpectVerdicts(const std::vector<std::string>& command,
                           const std::map<uint64_t, Verdict>& expected) {
  TempDir dir;
  std::string outputs;
  for (bool check : {true, false}) {
    std::string output;
    Verdicts verdicts = check ? UnderCheck(dir, command, &output) : Preloaded(dir, command, &output);
    std::string how = std::string(check ? "under check: " : "preloaded: ") + command[0];
    for (size_t i = 1; i < command.size(); ++i) how += " " + command[i];
    ExpectGiven(verdicts, expected, how + ": " + output);
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

constexpr Verdict kLeaked = Verdict::kLeaked, kIndirect = Verdict::kIndirect,
                  kReachable = Verdict::kReachable;

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
             {{5551, kReachable}, {5552, kReachable}, {5553, kReachable}}},
        // A chain's head is direct, the rest indirect; a leaked cycle is
        // indirect throughout (LSan's verdict; Valgrind calls one block of
        // it definitely lost); what a global holds is reachable throughout.
        // Leaked, as Valgrind says; LSan skips it on purpose (it cannot
        // unwind the allocation's stack on a heap-allocated coroutine stack).
        Case{"CoroutineOnAHeapStack", {Host("swapcontext_leak")}, {{2664, kLeaked}}},
        Case{"IndirectLeaks", {Host("indirect_leaks")},
             {{1111, kLeaked}, {2222, kIndirect}, {3333, kIndirect}, {4441, kIndirect},
              {4442, kIndirect}, {666, kLeaked}, {777, kIndirect}, {1337, kLeaked},
              {6661, kReachable}, {6662, kReachable}}}),
    [](const ::testing::TestParamInfo<Case>& tested) { return tested.param.name; });

// Each indirect block is counted under the direct leak that holds it: the
// chain's middle and tail under its head (through the middle, for the
// tail), the 777 under the 666; the cycle under none.
TEST(LeakSemantics, AnIndirectLeakIsCountedUnderTheDirectLeakThatHoldsIt) {
  TempDir dir;
  ProcessResult run = RunUnderAgent({Host("indirect_leaks")}, dir.File("scan.rec"),
                                    {{"HEAPDRIFT_SAMPLE_BYTES", "1"}, {"HEAPDRIFT_LEAK_SCAN", "1"}});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  heapdrift::Recording recording = LoadRecording(dir.File("scan.rec"));
  ASSERT_FALSE(recording.snapshots.empty());
  const auto& last = recording.snapshots.back();
  std::map<uint64_t, uint32_t> direct_stack_of_size;
  for (const auto& leak : last.leaks()) {
    if (leak.leaked_objects() == 1) direct_stack_of_size[leak.leaked_bytes()] = leak.stack_id();
  }
  ASSERT_EQ(direct_stack_of_size.count(1111), 1u) << run.err;
  ASSERT_EQ(direct_stack_of_size.count(666), 1u) << run.err;
  std::map<uint64_t, std::string> root_of_size;
  std::string found;
  for (const auto& leak : last.leaks()) found += "\n" + leak.ShortDebugString();
  for (const auto& leak : last.indirect_leaks()) {
    found += "\n" + leak.ShortDebugString();
    std::string root = "none";
    for (const auto& [size, stack] : direct_stack_of_size) {
      if (leak.has_root_stack_id() && leak.root_stack_id() == stack) root = std::to_string(size);
    }
    if (leak.objects() == 1) root_of_size[leak.bytes()] = root;
  }
  std::map<uint64_t, std::string> expected = {
      {2222, "1111"}, {3333, "1111"}, {777, "666"}, {4441, "none"}, {4442, "none"}};
  EXPECT_EQ(root_of_size, expected) << found << "\n" << run.err;
}

// A suppression of a direct leak covers the indirect leaks it holds, and a
// suppression of an indirect leak's own stack covers it (LSan's
// suppressions_file test: the 777-byte block its suppressed 666 holds is not
// reported). What is left fails the check though only indirect.
TEST(LeakSemantics, SuppressingADirectLeakCoversWhatItHolds) {
  TempDir dir;
  std::ofstream(dir.File("leaks.supp"))
      << "leak:AllocateSuppressedHead\nleak:AllocateChainHead\nleak:AllocateCycleFirst\n"
         "leak:AllocateUnsuppressed\n";
  ProcessResult run = RunProcess({kCliPath, "check", "--json", dir.File("check.json"),
                                  "--suppressions", dir.File("leaks.supp"), "--",
                                  Host("indirect_leaks")});
  EXPECT_EQ(run.exit_code, 23) << run.err;
  EXPECT_NE(run.err.find("4.3 KiB indirectly leaked in 1 object"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("indirectly leaked at AllocateCycleSecond"), std::string::npos)
      << run.err;
  nlohmann::json report = nlohmann::json::parse(ReadFile(dir.File("check.json")));
  const nlohmann::json& process = report["processes"][0];
  EXPECT_EQ(process["leaked_bytes"], 0) << process.dump(1);
  EXPECT_EQ(process["indirect_bytes"], 4442) << process.dump(1);
  EXPECT_EQ(process["indirect_objects"], 1) << process.dump(1);
  std::map<std::string, std::pair<uint64_t, uint64_t>> suppressed;
  for (const auto& rule : process["suppressed"]) {
    suppressed[rule["pattern"].get<std::string>()] = {rule["bytes"].get<uint64_t>(),
                                                      rule["objects"].get<uint64_t>()};
  }
  std::map<std::string, std::pair<uint64_t, uint64_t>> expected = {
      {"AllocateSuppressedHead", {666 + 777, 2}},
      {"AllocateChainHead", {1111 + 2222 + 3333, 3}},
      {"AllocateCycleFirst", {4441, 1}},
      {"AllocateUnsuppressed", {1337, 1}}};
  EXPECT_EQ(suppressed, expected) << process.dump(1);
}

// A child forked without exec is checked at its exit with what it inherited
// (LSan's fork_and_leak): blocks its parent leaked, blocks it dropped, its
// own; what it freed is gone. The parent's verdicts are its own.
TEST(LeakSemantics, AChildForkedWithoutExecIsCheckedWithWhatItInherited) {
  const std::map<uint64_t, Verdict> parent = {
      {1211, Verdict::kReachable}, {1222, Verdict::kLeaked}, {1233, Verdict::kReachable},
      {1244, Verdict::kReachable}};
  const std::map<uint64_t, Verdict> child = {
      {1211, Verdict::kReachable}, {1222, Verdict::kLeaked}, {1233, Verdict::kLeaked},
      {1255, Verdict::kLeaked}, {1266, Verdict::kReachable}};
  for (const char* ending : {"exit", "return"}) {
    SCOPED_TRACE(ending);
    TempDir dir;
    ProcessResult checked = RunProcess({kCliPath, "check", "--follow-fork", "--json",
                                        dir.File("check.json"), "--", Host("fork_and_leak"),
                                        ending});
    EXPECT_EQ(checked.exit_code, 23) << checked.err;
    nlohmann::json report = nlohmann::json::parse(ReadFile(dir.File("check.json")));
    ASSERT_EQ(report["processes"].size(), 2u) << checked.err;
    for (const auto& process : report["processes"]) {
      bool forked = process["forked"].get<bool>();
      EXPECT_TRUE(process["leaks_checked"].get<bool>()) << checked.err;
      Verdicts verdicts;
      AddVerdicts(process, &verdicts);
      ExpectGiven(verdicts, forked ? child : parent,
                  std::string("under check, ") + (forked ? "child: " : "parent: ") + checked.err);
      if (forked) {
        EXPECT_EQ(verdicts[Verdict::kReachable].count(1244), 0u) << checked.err;
      }
    }

    ProcessResult preloaded = RunUnderAgent(
        {Host("fork_and_leak"), ending}, dir.File("scan.rec"),
        {{"HEAPDRIFT_SAMPLE_BYTES", "1"}, {"HEAPDRIFT_LEAK_SCAN", "1"}, {"HEAPDRIFT_FOLLOW", "all"}});
    EXPECT_EQ(preloaded.exit_code, 0) << preloaded.err;
    std::vector<std::string> children = FollowedRecordings(dir.File("scan.rec"));
    ASSERT_EQ(children.size(), 1u) << preloaded.err;
    for (const std::string& path : {dir.File("scan.rec"), children[0]}) {
      heapdrift::Recording recording = LoadRecording(path);
      ASSERT_FALSE(recording.snapshots.empty()) << path;
      ASSERT_TRUE(recording.snapshots.back().leak_scan_done()) << path;
      Verdicts verdicts = VerdictsOf(recording.snapshots.back());
      ExpectGiven(verdicts, recording.header.forked() ? child : parent, "preloaded: " + path);
    }
  }
}

// Threads still allocating while the process exits are stopped for the
// scan, their registers and live stacks read (LSan stops the world): none of
// the blocks they hold is leaked. Before the stop, 6-29 of them were called
// leaked in every run. Five runs each way.
TEST(LeakSemantics, ThreadsStillRunningAtExitAreStoppedForTheScan) {
  for (int run = 0; run < 5; ++run) {
    for (bool check : {true, false}) {
      TempDir dir;
      std::string output;
      std::vector<std::string> command = {Host("running_allocator"), "4", "100"};
      Verdicts verdicts =
          check ? UnderCheck(dir, command, &output) : Preloaded(dir, command, &output);
      EXPECT_EQ(verdicts[Verdict::kLeaked][7777], 0u) << output;
      EXPECT_EQ(verdicts[Verdict::kIndirect][7777], 0u) << output;
    }
  }
}

// A thread that blocks every signal cannot be stopped: the scan reads it
// running, counts it, and check says so.
TEST(LeakSemantics, AThreadThatCannotBeStoppedIsCountedAndNamed) {
  TempDir dir;
  ProcessResult checked = RunProcess({kCliPath, "check", "--json", dir.File("check.json"), "--",
                                      Host("running_allocator"), "2", "100", "blocked"});
  EXPECT_NE(checked.err.find("warning: 2 threads kept running during the leak scan"),
            std::string::npos)
      << checked.err;
  ProcessResult preloaded = RunUnderAgent(
      {Host("running_allocator"), "3", "100"}, dir.File("scan.rec"),
      {{"HEAPDRIFT_SAMPLE_BYTES", "1"}, {"HEAPDRIFT_LEAK_SCAN", "1"}});
  ASSERT_EQ(preloaded.exit_code, 0) << preloaded.err;
  heapdrift::Recording recording = LoadRecording(dir.File("scan.rec"));
  ASSERT_FALSE(recording.snapshots.empty());
  EXPECT_EQ(recording.snapshots.back().leak_scan_threads_stopped(), 3u);
  EXPECT_EQ(recording.snapshots.back().leak_scan_threads_running(), 0u);
}

TEST(LeakSemantics, WhatIsFreedOrResizedAwayIsNotReported) {
  // The 3,333 bytes realloc(p, 0) freed, and the 4,443-byte argument the
  // thread freed, are in no verdict at all.
  for (const char* host : {"zero_sizes", "thread_roots"}) {
    TempDir dir;
    std::string output;
    Verdicts verdicts = Preloaded(dir, {Host(host)}, &output);
    for (uint64_t gone : {3333u, 4443u}) {
      EXPECT_EQ(verdicts[Verdict::kLeaked].count(gone) + verdicts[Verdict::kIndirect].count(gone) +
                    verdicts[Verdict::kReachable].count(gone),
                0u)
          << host << ", " << gone << " B: " << output;
    }
  }
}

}  // namespace
}  // namespace heapdrift::testing
