#include "heap_moments.h"

#include <gtest/gtest.h>

#include "recording_builder.h"

namespace heapdrift {
namespace {

using testing::FakeFrame;
using testing::RecordingBuilder;

std::vector<std::string> Names(const HeapMoments& heap, const HeapPath& path) {
  std::vector<std::string> names;
  for (uint32_t frame : path.frames) names.push_back(heap.frames.at(frame).ModuleOffset());
  return names;
}

TEST(HeapMoments, PathsRootFirstIdenticalStacksMergedLargestFirst) {
  RecordingBuilder builder;
  // Stacks 1 and 3 are the same frames (a stack table may hold both after a
  // reset); stack 2 shares their caller.
  builder.Stack(1, {0x100, 0x900}).Stack(2, {0x200, 0x900}).Stack(3, {0x100, 0x900});
  builder.Snapshot(0, {{1, 1000, 1, 1000, 1}, {2, 5000, 1, 5000, 1}});
  builder.Snapshot(1, {{3, 300, 1, 300, 1}});
  builder.Snapshot(2, {{1, 9000, 9, 9000, 9}});
  Recording recording = builder.Take();
  CallSiteResolver resolver(recording);
  HeapMoments heap = BuildHeapMoments(resolver);
  ASSERT_EQ(heap.seconds, (std::vector<double>{0, 1, 2}));
  ASSERT_EQ(heap.paths.size(), 2u);
  // 1 + 3 peak at 9300, above stack 2's 5000.
  EXPECT_EQ(Names(heap, heap.paths[0]),
            (std::vector<std::string>{FakeFrame(0x900), FakeFrame(0x100)}));
  EXPECT_EQ(heap.paths[0].live, (std::vector<double>{1000, 1300, 9300}));
  EXPECT_EQ(Names(heap, heap.paths[1]),
            (std::vector<std::string>{FakeFrame(0x900), FakeFrame(0x200)}));
  EXPECT_EQ(heap.paths[1].live, (std::vector<double>{5000, 5000, 5000}));
  // The shared caller is one frame.
  EXPECT_EQ(heap.paths[0].frames[0], heap.paths[1].frames[0]);
  EXPECT_EQ(heap.frames.size(), 3u);
  EXPECT_EQ(heap.paths_left_out, 0u);
}

TEST(HeapMoments, BoundedMomentsAndPathsTheRestSummedNotLost) {
  RecordingBuilder builder;
  for (uint32_t id = 1; id <= 6; ++id) builder.Stack(id, {0x100 * id});
  for (int second = 0; second < 50; ++second) {
    std::vector<testing::SiteValues> sites;
    for (uint32_t id = 1; id <= 6; ++id) {
      int64_t live = 100 * id * (second + 1);
      sites.push_back({id, live, 1, static_cast<uint64_t>(live), 1});
    }
    builder.Snapshot(second, sites);
  }
  Recording recording = builder.Take();
  CallSiteResolver resolver(recording);
  HeapMomentsOptions options;
  options.max_moments = 5;
  options.max_paths = 2;
  HeapMoments heap = BuildHeapMoments(resolver, options);
  ASSERT_EQ(heap.seconds.size(), 5u);
  EXPECT_EQ(heap.seconds.front(), 0);
  EXPECT_EQ(heap.seconds.back(), 49);
  ASSERT_EQ(heap.paths.size(), 2u);
  EXPECT_EQ(heap.paths_left_out, 4u);
  EXPECT_EQ(Names(heap, heap.paths[0]), (std::vector<std::string>{FakeFrame(0x600)}));
  EXPECT_EQ(Names(heap, heap.paths[1]), (std::vector<std::string>{FakeFrame(0x500)}));
  EXPECT_EQ(heap.frames.size(), 2u) << "only the kept paths' frames";
  for (size_t moment = 0; moment < heap.seconds.size(); ++moment) {
    double t = heap.seconds[moment];
    // Stacks 1-4 left out: 100 (1 + 2 + 3 + 4) (t + 1).
    EXPECT_DOUBLE_EQ(heap.rest_live[moment], 1000 * (t + 1)) << t;
    EXPECT_DOUBLE_EQ(heap.paths[0].live[moment], 600 * (t + 1)) << t;
  }
}

}  // namespace
}  // namespace heapdrift
