// The recent window of a stream (heapdrift serve): bounded however long the
// stream, the same values at every moment it keeps as the whole stream has,
// and a whole state that starts a segment.
#include "recording_window.h"

#include <gtest/gtest.h>

#include "recording_builder.h"
#include "site_series.h"

namespace heapdrift {
namespace {

using testing::RecordingBuilder;

// 300 snapshots a second apart: stack 1 grows every second, stack 2 changes
// every 7 s, stack 3 appears at 150 s. Snapshots carry only what changed,
// as the agent sends them; the first carries the stacks and mappings.
Recording Stream() {
  RecordingBuilder builder;
  builder.Stack(1, {0x100}).Stack(2, {0x200}).Stack(3, {0x300});
  for (int second = 0; second < 300; ++second) {
    std::vector<testing::SiteValues> sites = {{1, 10 * second, second, 10u * second, 1u * second}};
    if (second % 7 == 0) sites.push_back({2, 1000 + second % 3, 1, 5000u + second, 5});
    if (second == 150) sites.push_back({3, 77, 1, 77, 1});
    builder.Snapshot(second, sites);
  }
  return builder.Take();
}

// The snapshots as a stream sends them: stacks and mappings in the first.
std::vector<proto::Snapshot> AsSent(const Recording& recording) {
  std::vector<proto::Snapshot> sent(recording.snapshots);
  for (const auto& [id, frames] : recording.stacks) {
    proto::Stack* stack = sent[0].add_stacks();
    stack->set_id(id);
    stack->mutable_frames()->Add(frames.begin(), frames.end());
  }
  for (const proto::Mapping& mapping : recording.mappings) *sent[0].add_mappings() = mapping;
  return sent;
}

void ExpectSameState(const Recording& window, const Recording& whole, double at) {
  SitesAt kept = StateAt(window, at), truth = StateAt(whole, at);
  for (const auto& [id, site] : truth.sites) {
    ASSERT_TRUE(kept.sites.count(id)) << "stack " << id << " at " << at;
    EXPECT_EQ(kept.sites[id].live_bytes(), site.live_bytes()) << "stack " << id << " at " << at;
    EXPECT_EQ(kept.sites[id].allocated_bytes(), site.allocated_bytes()) << id << " at " << at;
  }
}

TEST(RecordingWindow, KeepsTheWindowThinnedWithTheValuesOfTheWholeStream) {
  Recording whole = Stream();
  RecordingWindow window(whole.header, 100, 20);
  for (proto::Snapshot& snapshot : AsSent(whole)) ASSERT_TRUE(window.Add(std::move(snapshot)));
  const Recording& kept = window.Materialize();
  ASSERT_LE(kept.snapshots.size(), 20u);
  ASSERT_GE(kept.snapshots.size(), 10u);
  double first = SecondsSinceStart(kept, kept.snapshots.front());
  double last = SecondsSinceStart(kept, kept.snapshots.back());
  EXPECT_EQ(last, 299);
  EXPECT_LE(first, 199);  // the window spans at least its length...
  EXPECT_GE(first, 190);  // ...and not much more
  for (size_t i = 0; i < kept.snapshots.size(); ++i) {
    EXPECT_EQ(kept.snapshots[i].sequence(), i);
    ExpectSameState(kept, whole, SecondsSinceStart(kept, kept.snapshots[i]));
  }
  // Thinned about evenly: no gap over three times the mean.
  double mean = (last - first) / static_cast<double>(kept.snapshots.size() - 1);
  for (size_t i = 1; i < kept.snapshots.size(); ++i) {
    EXPECT_LE(SecondsSinceStart(kept, kept.snapshots[i]) -
                  SecondsSinceStart(kept, kept.snapshots[i - 1]),
              3 * mean);
  }
  EXPECT_EQ(kept.header.cohorts(), 0u);
  EXPECT_EQ(kept.stacks.size(), 3u);
  EXPECT_EQ(kept.mappings.size(), 2u);
  EXPECT_EQ(window.snapshots_seen(), 300u);
  EXPECT_EQ(window.call_sites(), 3u);
}

TEST(RecordingWindow, TheWholeStateHoldsEverySiteStackMappingAndCohort) {
  Recording whole = Stream();
  whole.snapshots[0].mutable_sites(0)->add_cohorts()->set_live_bytes(5);  // cohort 0
  proto::Cohort* later = whole.snapshots[200].mutable_sites(0)->add_cohorts();
  later->set_index(3);
  later->set_live_bytes(9);
  RecordingWindow window(whole.header, 30, 10);
  for (proto::Snapshot& snapshot : AsSent(whole)) window.Add(std::move(snapshot));
  proto::Snapshot state = window.WholeState();
  EXPECT_EQ(state.sequence(), 299u);
  ASSERT_EQ(state.sites_size(), 3);
  EXPECT_EQ(state.sites(0).live_bytes(), 2990);
  EXPECT_EQ(state.sites(1).live_bytes(), 1000 + 294 % 3);
  EXPECT_EQ(state.sites(2).live_bytes(), 77);
  ASSERT_EQ(state.sites(0).cohorts_size(), 2);  // merged by index, each kept
  EXPECT_EQ(state.sites(0).cohorts(0).live_bytes(), 5);
  EXPECT_EQ(state.sites(0).cohorts(1).index(), 3u);
  EXPECT_EQ(state.stacks_size(), 3);
  EXPECT_EQ(state.mappings_size(), 2);
  // A segment that starts with it reads as the state at that moment.
  Recording segment;
  segment.header = whole.header;
  state.set_sequence(0);
  ASSERT_TRUE(AppendSnapshot(&segment, state));
  ExpectSameState(segment, whole, 1e9);
}

TEST(RecordingWindow, ASnapshotBeyondTheFormatsLimitsChangesNothing) {
  Recording whole = Stream();
  RecordingWindow window(whole.header, 100, 20);
  std::vector<proto::Snapshot> sent = AsSent(whole);
  ASSERT_TRUE(window.Add(sent[0]));
  proto::Snapshot bad = sent[1];
  bad.add_sites()->set_stack_id(format::kMaxStackIds);
  EXPECT_FALSE(window.Add(bad));
  EXPECT_EQ(window.snapshots_seen(), 1u);
  EXPECT_EQ(window.call_sites(), 2u);
}

}  // namespace
}  // namespace heapdrift
