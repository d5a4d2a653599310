// The growth report on recordings built by hand: which site is called
// growing, at what rate, and how stacks are grouped into call sites.
#include "growth_report.h"

#include <gtest/gtest.h>

#include "recording_builder.h"

namespace heapdrift {
namespace {

using testing::FakeFrame;
using testing::RecordingBuilder;
using testing::SiteValues;

// 60 snapshots a second apart: stack 1 leaks 1,000 B/s of 100-byte blocks;
// stacks 2 and 3 share their allocating frame (0x200, called from two
// places) and hold a flat 50 KB between them; stack 4 churns around 20 KB.
Recording ThreeSites() {
  RecordingBuilder builder;
  builder.Stack(1, {0x100, 0x900}).Stack(2, {0x200, 0x900}).Stack(3, {0x200, 0xa00});
  builder.Stack(4, {0x300, 0x900});
  for (int second = 0; second < 60; ++second) {
    int64_t leaked = 1000 * (second + 1);
    int64_t churn = 20000 + (second % 2 == 0 ? 4000 : -4000);
    builder.Snapshot(second, {{1, leaked, leaked / 100, static_cast<uint64_t>(leaked),
                               static_cast<uint64_t>(leaked / 100)},
                              {2, 30000, 300, 30000, 300},
                              {3, 20000, 200, 20000, 200},
                              {4, churn, churn / 100, static_cast<uint64_t>(40000 * (second + 1)),
                               static_cast<uint64_t>(400 * (second + 1))}});
  }
  return builder.Take();
}

TEST(GrowthReport, NamesTheLeakingSiteAndItsRate) {
  Recording recording = ThreeSites();
  CallSiteResolver resolver(recording);
  GrowthReport report = BuildGrowthReport(resolver);
  ASSERT_EQ(report.growing.size(), 1u);
  const SiteReport& leak = report.growing[0];
  EXPECT_EQ(leak.site.ModuleOffset(), FakeFrame(0x100));
  EXPECT_NEAR(leak.growth_bytes_per_sec, 1000, 1);
  EXPECT_LE(leak.rate.low, 1000);
  EXPECT_GE(leak.rate.high, 1000);
  EXPECT_EQ(leak.classification.verdict, Verdict::kGrowing);
  EXPECT_DOUBLE_EQ(leak.live_bytes, 60000);
  EXPECT_DOUBLE_EQ(leak.live_objects, 600);
  ASSERT_EQ(leak.stack.size(), 2u);  // from the site outwards
  EXPECT_EQ(leak.stack[1].ModuleOffset(), FakeFrame(0x900));
  EXPECT_EQ(report.snapshots, 60u);
  EXPECT_DOUBLE_EQ(report.seconds, 59);
}

TEST(GrowthReport, GroupsStacksBySiteAndRanksTheRestByLiveBytes) {
  Recording recording = ThreeSites();
  CallSiteResolver resolver(recording);
  GrowthReport report = BuildGrowthReport(resolver);
  ASSERT_EQ(report.others.size(), 2u);
  // Stacks 2 and 3 share their allocating frame: one site of 50 KB.
  EXPECT_EQ(report.others[0].site.ModuleOffset(), FakeFrame(0x200));
  EXPECT_EQ(report.others[0].stack_count, 2u);
  EXPECT_DOUBLE_EQ(report.others[0].live_bytes, 50000);
  // Named by its larger stack (stack 2, 30 KB): its caller is 0x900.
  EXPECT_EQ(report.others[0].stack[1].ModuleOffset(), FakeFrame(0x900));
  EXPECT_EQ(report.others[1].site.ModuleOffset(), FakeFrame(0x300));
  EXPECT_NE(report.others[1].classification.verdict, Verdict::kGrowing);
  // The heap as one site grows with the leak, and the leak explains it.
  EXPECT_EQ(report.heap.classification.verdict, Verdict::kGrowing);
  EXPECT_FALSE(report.growth_unexplained);
}

TEST(GrowthReport, AWindowSeesOnlyItsSnapshots) {
  Recording recording = ThreeSites();
  CallSiteResolver resolver(recording);
  ReportOptions options;
  options.from_seconds = 10;
  options.to_seconds = 20;
  GrowthReport report = BuildGrowthReport(resolver, options);
  EXPECT_EQ(report.snapshots, 11u);
  EXPECT_DOUBLE_EQ(report.seconds, 10);
  ASSERT_FALSE(report.growing.empty());
  EXPECT_DOUBLE_EQ(report.growing[0].live_bytes, 21000);
}

TEST(GrowthReport, MemoryOverTimeAtEveryPointOfTheSeries) {
  RecordingBuilder builder;
  builder.Stack(1, {0x100});
  for (int second = 0; second < 5; ++second) {
    proto::Snapshot& snapshot = builder.Snapshot(second, {{1, 100 * second, second, 100u * second, 1u * second}});
    snapshot.mutable_memory()->set_rss_bytes(1000 + second);
    snapshot.mutable_memory()->set_has_allocator_stats(second != 3);
    snapshot.mutable_memory()->set_allocator_in_use_bytes(500 + second);
    snapshot.mutable_memory()->set_allocator_free_bytes(50 + second);
  }
  Recording recording = builder.Take();
  CallSiteResolver resolver(recording);
  GrowthReport report = BuildGrowthReport(resolver);
  EXPECT_EQ(report.point_seconds, (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(report.memory_over_time.rss, (std::vector<double>{1000, 1001, 1002, 1003, 1004}));
  EXPECT_EQ(report.heap.series, (std::vector<double>{0, 100, 200, 300, 400}));
  // One snapshot without allocator statistics: no line drawn from holes.
  EXPECT_FALSE(report.memory_over_time.has_allocator_stats);
  EXPECT_TRUE(report.memory_over_time.in_use.empty());

  recording.snapshots[3].mutable_memory()->set_has_allocator_stats(true);
  GrowthReport whole = BuildGrowthReport(resolver);
  EXPECT_TRUE(whole.memory_over_time.has_allocator_stats);
  EXPECT_EQ(whole.memory_over_time.in_use, (std::vector<double>{500, 501, 502, 503, 504}));
  EXPECT_EQ(whole.memory_over_time.retained, (std::vector<double>{50, 51, 52, 53, 54}));
}

TEST(GrowthReport, TheResolverIsSharedAndSymbolizesOnce) {
  Recording recording = ThreeSites();
  CallSiteResolver resolver(recording);
  const ResolvedStack* first = &resolver.Resolve(1);
  BuildGrowthReport(resolver);
  BuildGrowthReport(resolver);
  // No new module: the same cached resolution, not a new symbolizer.
  EXPECT_EQ(&resolver.Resolve(1), first);
  // The fake modules cannot be read: said once each, not once per analysis.
  EXPECT_EQ(resolver.warnings().size(), 2u);
}

}  // namespace
}  // namespace heapdrift
