// The exporters on a recording built by hand: pprof's samples and values,
// folded stacks, and one JSON schema for frames in report, diff and check.
#include <gtest/gtest.h>

#include "diff_output.h"
#include "folded_export.h"
#include "frame_json.h"
#include "pprof_export.h"
#include "recording_builder.h"
#include "report_output.h"

namespace heapdrift {
namespace {

using testing::FakeFrame;
using testing::RecordingBuilder;

// Two stacks sharing a caller; the second changes at 2 s.
Recording TwoStacks() {
  RecordingBuilder builder;
  builder.Stack(1, {0x100, 0x900}).Stack(2, {0x200, 0x900});
  builder.Snapshot(0, {{1, 1000, 10, 1000, 10}, {2, 64, 1, 640, 10}});
  builder.Snapshot(2, {{2, 128, 2, 1280, 20}});
  return builder.Take();
}

TEST(Pprof, OneSamplePerStackWithTheFourValues) {
  Recording recording = TwoStacks();
  CallSiteResolver resolver(recording);
  pprof::Profile profile = BuildPprofProfile(resolver);
  ASSERT_EQ(profile.sample_type_size(), 4);
  EXPECT_EQ(profile.string_table(profile.sample_type(3).type()), "inuse_space");
  ASSERT_EQ(profile.sample_size(), 2);
  int64_t inuse = 0, allocated = 0;
  for (const pprof::Sample& sample : profile.sample()) {
    EXPECT_EQ(sample.location_id_size(), 2);
    allocated += sample.value(1);
    inuse += sample.value(3);
  }
  EXPECT_EQ(inuse, 1000 + 128);
  EXPECT_EQ(allocated, 1000 + 1280);
  EXPECT_EQ(profile.location_size(), 3);  // 0x100, 0x200 and the shared 0x900
  EXPECT_EQ(profile.mapping_size(), 2);
  // At 1 s: stack 2 as it was then.
  pprof::Profile earlier = BuildPprofProfile(resolver, 1);
  int64_t earlier_inuse = 0;
  for (const pprof::Sample& sample : earlier.sample()) earlier_inuse += sample.value(3);
  EXPECT_EQ(earlier_inuse, 1000 + 64);
}

TEST(Folded, RootFirstOneLinePerStack) {
  Recording recording = TwoStacks();
  CallSiteResolver resolver(recording);
  std::string caller = FakeFrame(0x900);
  EXPECT_EQ(BuildFoldedStacks(resolver, FoldedValue::kInuseSpace),
            caller + ";" + FakeFrame(0x100) + " 1000\n" + caller + ";" + FakeFrame(0x200) +
                " 128\n");
  EXPECT_EQ(BuildFoldedStacks(resolver, FoldedValue::kAllocObjects),
            caller + ";" + FakeFrame(0x100) + " 10\n" + caller + ";" + FakeFrame(0x200) +
                " 20\n");
}

// Every command's JSON names a frame with the same keys.
TEST(FrameJson, OneSchemaInReportDiffAndCheck) {
  Recording recording = TwoStacks();
  CallSiteResolver resolver(recording);
  const symbolizer::Frame& site = resolver.Resolve(1).site();
  nlohmann::json frame = FrameJson(site);
  EXPECT_EQ(frame["function"], FakeFrame(0x100));  // module+offset when no symbol
  EXPECT_EQ(frame["module"], testing::kFakeModule);
  auto keys = [](const nlohmann::json& object) {
    std::set<std::string> names;
    for (const auto& [key, value] : object.items()) names.insert(key);
    return names;
  };
  std::set<std::string> frame_keys = keys(frame);

  nlohmann::json diff = DiffJson(BuildHeapDiff(resolver, 0, 2), 10);
  ASSERT_EQ(diff["sites"].size(), 1u);
  for (const std::string& key : frame_keys) EXPECT_TRUE(diff["sites"][0].contains(key)) << key;

  std::vector<ProcessReport> processes(1);
  processes[0].recording = TwoStacks();
  CallSiteResolver report_resolver(processes[0].recording);
  processes[0].report = BuildGrowthReport(report_resolver);
  processes[0].readable = true;
  processes[0].report.growing = processes[0].report.others;  // rank them all
  nlohmann::json report = ReportJson(processes, 10);
  ASSERT_FALSE(report["suspects"].empty());
  nlohmann::json suspect = report["suspects"][0];
  for (const std::string& key : frame_keys) EXPECT_TRUE(suspect.contains(key)) << key;
  ASSERT_FALSE(suspect["stack"].empty());
  EXPECT_EQ(keys(suspect["stack"][0]), frame_keys);
}

}  // namespace
}  // namespace heapdrift
