// The leak check and the process tree on recordings built by hand.
#include "leak_check.h"

#include <gtest/gtest.h>

#include "process_tree.h"
#include "recording_builder.h"

namespace heapdrift {
namespace {

using testing::FakeFrame;
using testing::RecordingBuilder;

// An exited process whose leak scan found: stack 1, 300 B leaked in 3
// objects and 64 B reachable; stack 2 (called from the other module),
// 1000 B leaked; 40 B indirectly leaked under stack 1 and 77 B under 2.
Recording Scanned() {
  RecordingBuilder builder;
  builder.Stack(1, {0x100, 0x900}).Stack(2, {0x200, testing::kOtherModuleOffset + 0xa00});
  builder.Stack(3, {0x300, 0x900});
  builder.Snapshot(0, {{1, 364, 4, 364, 4}, {2, 1000, 1, 1000, 1}});
  proto::Snapshot& last = builder.Snapshot(1, {{3, 117, 2, 117, 2}});
  last.set_final(true);
  last.set_leak_scan_done(true);
  proto::Leak* leak = last.add_leaks();
  leak->set_stack_id(1);
  leak->set_leaked_bytes(300);
  leak->set_leaked_objects(3);
  leak->set_reachable_bytes(64);
  leak->set_reachable_objects(1);
  leak = last.add_leaks();
  leak->set_stack_id(2);
  leak->set_leaked_bytes(1000);
  leak->set_leaked_objects(1);
  for (auto [root, bytes] : {std::pair{1u, 40u}, std::pair{2u, 77u}}) {
    proto::IndirectLeak* indirect = last.add_indirect_leaks();
    indirect->set_stack_id(3);
    indirect->set_root_stack_id(root);
    indirect->set_bytes(bytes);
    indirect->set_objects(1);
  }
  last.set_leak_scan_threads_running(2);
  return builder.Take();
}

TEST(LeakCheck, GroupsEachKindBySiteAndTotalsThem) {
  Recording recording = Scanned();
  CallSiteResolver resolver(recording);
  ProcessCheck check = CheckRecording(resolver, CheckOptions{});
  EXPECT_EQ(check.ending, ProcessEnding::kExited);
  EXPECT_TRUE(check.leak_scan);
  EXPECT_DOUBLE_EQ(check.leaked_bytes, 1300);
  EXPECT_DOUBLE_EQ(check.leaked_objects, 4);
  EXPECT_DOUBLE_EQ(check.indirect_bytes, 117);
  EXPECT_DOUBLE_EQ(check.reachable_bytes, 64);
  ASSERT_EQ(check.leaks.size(), 4u);  // direct (2 sites), indirect (1), reachable (1)
  EXPECT_EQ(check.leaks[0].kind, LeakKind::kDirect);
  EXPECT_EQ(check.leaks[0].site.ModuleOffset(), FakeFrame(0x200));  // largest first
  EXPECT_EQ(check.leaks[1].site.ModuleOffset(), FakeFrame(0x100));
  EXPECT_EQ(check.leaks[2].kind, LeakKind::kIndirect);
  EXPECT_DOUBLE_EQ(check.leaks[2].bytes, 117);
  EXPECT_EQ(check.leaks[3].kind, LeakKind::kReachable);
  EXPECT_TRUE(check.Failed(CheckOptions{}));
  CheckOptions lenient;
  lenient.max_leak_bytes = 1417;  // direct + indirect
  EXPECT_FALSE(check.Failed(lenient));
}

TEST(LeakCheck, WarningsAreTyped) {
  Recording recording = Scanned();
  CallSiteResolver resolver(recording);
  ProcessCheck check = CheckRecording(resolver, CheckOptions{});
  ASSERT_GE(check.warnings.size(), 2u);
  EXPECT_EQ(check.warnings[0].kind, CheckWarningKind::kThreadsKeptRunning);
  EXPECT_EQ(check.warnings[0].count, 2u);
  EXPECT_EQ(check.warnings[1].kind, CheckWarningKind::kSymbols);  // the fake module
}

TEST(LeakCheck, ASuppressedRootCoversWhatOnlyItHolds) {
  Recording recording = Scanned();
  CallSiteResolver resolver(recording);
  CheckOptions options;
  std::string error;
  // Matches stack 2's caller, in the other module: its direct leak, and the
  // 77 B only it holds (stack 3's own frames do not match).
  ASSERT_TRUE(ParseSuppressions("leak:libother.so\n", "test", &options.suppressions, &error));
  ProcessCheck check = CheckRecording(resolver, options);
  EXPECT_DOUBLE_EQ(check.leaked_bytes, 300);
  EXPECT_DOUBLE_EQ(check.indirect_bytes, 40);
  ASSERT_EQ(check.suppressed.size(), 1u);
  EXPECT_DOUBLE_EQ(check.suppressed[0].bytes, 1077);
  EXPECT_DOUBLE_EQ(check.suppressed[0].objects, 2);
}

// A tree: the shell (pid 10) exec'd into the program (pid 10 again, which
// exited); a forked child (pid 11) recorded nothing before it exec'd into
// pid 11's program, which was killed.
TEST(ProcessTree, ExecReplacesAndAForkExecMomentIsLeftOut) {
  auto process = [](uint32_t pid, uint64_t start, bool forked, bool snapshots, bool exited) {
    RecordingBuilder builder;
    builder.Stack(1, {0x100});
    Recording recording = builder.Take();
    recording.header.set_pid(pid);
    recording.header.set_forked(forked);
    recording.header.set_start_clock_ns(start);
    if (snapshots) {
      proto::Snapshot& snapshot = recording.snapshots.emplace_back();
      snapshot.set_time_ns(start + 1);
      snapshot.set_final(exited);
    }
    RecordedProcess recorded{std::move(recording), {}};
    if (!exited) {
      recorded.read_warnings.push_back({ReadWarningKind::kNoFinalSnapshot, "no final snapshot"});
    }
    return recorded;
  };
  std::vector<RecordedProcess> recorded;
  recorded.push_back(process(11, 300, false, true, false));  // the killed program
  recorded.push_back(process(10, 100, false, true, false));  // the shell, replaced
  recorded.push_back(process(10, 400, false, true, true));   // the program it became
  recorded.push_back(process(11, 200, true, false, false));  // fork, then exec at once
  std::vector<ProcessCheck> checks = CheckProcessTree(std::move(recorded), CheckOptions{});
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[0].pid, 10u);
  EXPECT_EQ(checks[0].ending, ProcessEnding::kReplacedByExec);
  EXPECT_EQ(checks[1].pid, 11u);
  EXPECT_EQ(checks[1].ending, ProcessEnding::kVanished);
  EXPECT_EQ(checks[2].pid, 10u);
  EXPECT_EQ(checks[2].ending, ProcessEnding::kExited);
  // The ending says what "no final snapshot" would: the reader's warning goes.
  for (const ProcessCheck& check : checks) {
    for (const CheckWarning& warning : check.warnings) {
      EXPECT_NE(warning.kind, CheckWarningKind::kRecording) << warning.text;
    }
  }
}

}  // namespace
}  // namespace heapdrift
