// Reading cohorts back: live bytes as the agent reported them, and what each
// cohort allocated from the site's cumulative allocations across its birth
// window (cohort k: snapshots 2^(k-1)-1 to 2^k-1).
#include "cohorts.h"

#include <gtest/gtest.h>

namespace heapdrift {
namespace {

// Snapshots 0..7, one a second; the site changes only in the ones listed.
Recording Synthetic() {
  Recording recording;
  recording.header.set_cohorts(16);
  recording.header.set_start_clock_ns(0);
  struct Change {
    uint64_t sequence;
    uint64_t allocated;
    std::vector<std::pair<uint32_t, int64_t>> live;  // cohort, live bytes
  };
  std::vector<Change> changes = {{0, 100, {{0, 100}}},
                                 {2, 300, {{0, 60}, {2, 200}}},
                                 {5, 700, {{3, 400}}},
                                 {7, 1000, {{2, 150}, {3, 650}}}};
  for (uint64_t sequence = 0; sequence < 8; ++sequence) {
    proto::Snapshot& snapshot = recording.snapshots.emplace_back();
    snapshot.set_sequence(sequence);
    snapshot.set_time_ns((sequence + 1) * 1'000'000'000);
    for (const Change& change : changes) {
      if (change.sequence != sequence) continue;
      proto::CallSite* site = snapshot.add_sites();
      site->set_stack_id(4);
      site->set_allocated_bytes(change.allocated);
      for (auto [index, live] : change.live) {
        proto::Cohort* cohort = site->add_cohorts();
        cohort->set_index(index);
        cohort->set_live_bytes(live);
      }
    }
  }
  return recording;
}

TEST(Cohorts, AllocationsComeFromTheSitesSeriesAcrossEachBirthWindow) {
  Recording recording = Synthetic();
  auto sites = SiteCohorts(recording, 7);
  ASSERT_EQ(sites.size(), 1u);
  const Cohorts& cohorts = sites.at(4);
  // Cohort 0: before snapshot 0; 1: snapshots 0-1 (nothing); 2: 1-3; 3: 3-7.
  ASSERT_EQ(cohorts.size(), 3u);
  EXPECT_DOUBLE_EQ(cohorts.at(0).allocated_bytes, 100);
  EXPECT_DOUBLE_EQ(cohorts.at(0).live_bytes, 60);
  EXPECT_DOUBLE_EQ(cohorts.at(2).allocated_bytes, 200);
  EXPECT_DOUBLE_EQ(cohorts.at(2).live_bytes, 150);
  EXPECT_DOUBLE_EQ(cohorts.at(3).allocated_bytes, 700);
  EXPECT_DOUBLE_EQ(cohorts.at(3).live_bytes, 650);
}

TEST(Cohorts, AsOfAnEarlierSnapshot) {
  Recording recording = Synthetic();
  const Cohorts cohorts = SiteCohorts(recording, 4).at(4);
  // Cohort 3 is still open at snapshot 4: what it allocated so far.
  EXPECT_DOUBLE_EQ(cohorts.at(2).allocated_bytes, 200);
  EXPECT_DOUBLE_EQ(cohorts.at(2).live_bytes, 200);
  EXPECT_EQ(cohorts.count(3), 0u) << "nothing allocated in it yet";
}

TEST(Cohorts, BirthWindowsFollowTheSnapshots) {
  Recording recording = Synthetic();
  BirthWindow zero = CohortBirthWindow(recording, 0);
  EXPECT_DOUBLE_EQ(zero.from, 0);
  EXPECT_DOUBLE_EQ(zero.to, 1);
  BirthWindow two = CohortBirthWindow(recording, 2);
  EXPECT_DOUBLE_EQ(two.from, 2);  // snapshot 1
  EXPECT_DOUBLE_EQ(two.to, 4);    // snapshot 3
  BirthWindow four = CohortBirthWindow(recording, 4);
  EXPECT_DOUBLE_EQ(four.from, 8);  // snapshot 7
  EXPECT_DOUBLE_EQ(four.to, 8);    // not written yet: the end
}

}  // namespace
}  // namespace heapdrift
