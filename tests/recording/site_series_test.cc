// The timeline of a recording built by hand: each stack's live bytes at the
// sampled snapshots, thinning, the exit snapshot left out, the state at a
// moment.
#include "site_series.h"

#include <gtest/gtest.h>

#include "recording_builder.h"

namespace heapdrift {
namespace {

using testing::RecordingBuilder;

// 20 snapshots a second apart; stack 1 from the start, stack 2 from 5 s;
// the last snapshot is the exit's.
Recording Twenty() {
  RecordingBuilder builder;
  builder.Stack(1, {0x100}).Stack(2, {0x200});
  for (int second = 0; second < 20; ++second) {
    std::vector<testing::SiteValues> sites = {{1, 100 * second, second, 0, 0}};
    if (second == 5) sites.push_back({2, 7, 1, 7, 1});
    builder.Snapshot(second, sites).set_final(second == 19);
  }
  return builder.Take();
}

TEST(SiteSeries, EachStackOverTimeFromItsFirstAppearance) {
  Recording recording = Twenty();
  SiteSeries series = SampleSiteSeries(recording, 100);
  ASSERT_EQ(series.seconds.size(), 19u);  // the exit snapshot left out
  EXPECT_DOUBLE_EQ(series.seconds.back(), 18);
  ASSERT_EQ(series.stack_ids, (std::vector<uint32_t>{1, 2}));
  EXPECT_DOUBLE_EQ(series.live[0][18], 1800);
  EXPECT_DOUBLE_EQ(series.live[1][4], 0);  // before it appeared
  EXPECT_DOUBLE_EQ(series.live[1][5], 7);
  EXPECT_DOUBLE_EQ(series.live[1][18], 7);  // unchanged since: carried forward
  EXPECT_EQ(series.latest[0].live_bytes(), 1800);
}

TEST(SiteSeries, ThinsToAtMostNPointsKeepingTheEnds) {
  Recording recording = Twenty();
  SiteSeries series = SampleSiteSeries(recording, 5);
  ASSERT_LE(series.seconds.size(), 5u);
  EXPECT_DOUBLE_EQ(series.seconds.front(), 0);
  EXPECT_DOUBLE_EQ(series.seconds.back(), 18);
  // Thinned points still carry each stack's value at their own snapshot.
  for (size_t i = 0; i < series.seconds.size(); ++i) {
    EXPECT_DOUBLE_EQ(series.live[0][i], 100 * series.seconds[i]);
  }
}

TEST(SiteSeries, AWindowAndTheStateAtAMoment) {
  Recording recording = Twenty();
  SiteSeries window = SampleSiteSeries(recording, 100, 3, 8);
  EXPECT_EQ(window.seconds, (std::vector<double>{3, 4, 5, 6, 7, 8}));
  std::pair<double, double> span = AnalysedSpan(recording);
  EXPECT_DOUBLE_EQ(span.first, 0);
  EXPECT_DOUBLE_EQ(span.second, 18);
  SitesAt state = StateAt(recording, 6.5);
  EXPECT_DOUBLE_EQ(state.seconds, 6);
  EXPECT_EQ(state.sites.at(1).live_bytes(), 600);
  EXPECT_EQ(state.sites.at(2).live_bytes(), 7);
  EXPECT_EQ(StateAt(recording, 4).sites.count(2), 0u);
}

}  // namespace
}  // namespace heapdrift
