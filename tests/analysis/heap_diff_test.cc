#include "heap_diff.h"

#include <gtest/gtest.h>

#include "recording_builder.h"

namespace heapdrift {
namespace {

using testing::FakeFrame;
using testing::RecordingBuilder;

TEST(HeapDiff, ChangesBySiteLargestFirstUntouchedLeftOut) {
  RecordingBuilder builder;
  builder.Stack(1, {0x100}).Stack(2, {0x200}).Stack(3, {0x300}).Stack(4, {0x200, 0x800});
  builder.Snapshot(0, {{1, 1000, 10, 1000, 10}, {2, 5000, 5, 5000, 5}, {3, 700, 7, 700, 7}});
  builder.Snapshot(1, {{1, 3000, 30, 3000, 30}});
  builder.Snapshot(2, {{2, 1000, 1, 9000, 9}, {4, 500, 1, 500, 1}});
  builder.Snapshot(3, {{1, 9000, 90, 9000, 90}});
  Recording recording = builder.Take();
  CallSiteResolver resolver(recording);
  HeapDiff diff = BuildHeapDiff(resolver, 0.5, 2.5);  // snapshot 0 against snapshot 2
  EXPECT_DOUBLE_EQ(diff.from_seconds, 0);
  EXPECT_DOUBLE_EQ(diff.to_seconds, 2);
  EXPECT_DOUBLE_EQ(diff.live_from, 6700);
  EXPECT_DOUBLE_EQ(diff.live_to, 3000 + 1000 + 700 + 500);
  ASSERT_EQ(diff.sites.size(), 2u);  // stack 3 did not change
  // Stacks 2 and 4 share the site 0x200: 5000 -> 1500.
  EXPECT_EQ(diff.sites[0].site.ModuleOffset(), FakeFrame(0x200));
  EXPECT_DOUBLE_EQ(diff.sites[0].change(), -3500);
  EXPECT_DOUBLE_EQ(diff.sites[0].allocated_bytes_between, 4000 + 500);
  EXPECT_DOUBLE_EQ(diff.sites[0].live_objects_to, 2);
  EXPECT_EQ(diff.sites[1].site.ModuleOffset(), FakeFrame(0x100));
  EXPECT_DOUBLE_EQ(diff.sites[1].change(), 2000);
}

}  // namespace
}  // namespace heapdrift
