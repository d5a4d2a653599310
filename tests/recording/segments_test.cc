// A segmented recording (heapdrift serve's directories) read as one: in
// order, numbered anew and without cohorts once the oldest are gone, never
// mixing another process's segment in.
#include "segments.h"

#include <gtest/gtest.h>

#include <fstream>

#include "recording_builder.h"
#include "recording_window.h"
#include "site_series.h"
#include "temp_dir.h"

namespace heapdrift {
namespace {

using testing::RecordingBuilder;

std::string Framed(const google::protobuf::MessageLite& message) {
  std::string payload = message.SerializeAsString(), record;
  for (uint64_t length = payload.size();; length >>= 7) {
    record.push_back(static_cast<char>((length & 0x7f) | (length >= 0x80 ? 0x80 : 0)));
    if (length < 0x80) break;
  }
  return record + payload;
}

// 30 snapshots of one stack growing by 100 bytes a second, written as three
// segments of ten, each starting with the whole state, as the daemon writes.
struct Written {
  Recording whole;
  testing::TempDir dir;
};

void WriteSegments(Written* written, uint32_t pid_of_third = 4242) {
  RecordingBuilder builder;
  builder.Stack(1, {0x100});
  for (int second = 0; second < 30; ++second) {
    builder.Snapshot(second, {{1, 100 * second, second, 100u * second, 1u * second}})
        .mutable_sites(0)
        ->add_cohorts()
        ->set_live_bytes(1);
  }
  written->whole = builder.Take();
  written->whole.header.set_magic(format::kRecordingMagic);
  RecordingWindow state(written->whole.header, 60, 100);
  for (size_t i = 0; i < written->whole.snapshots.size(); ++i) {
    proto::Snapshot snapshot = written->whole.snapshots[i];
    if (i == 0) {
      proto::Stack* stack = snapshot.add_stacks();
      stack->set_id(1);
      stack->add_frames(written->whole.stacks.at(1)[0]);
      for (const auto& mapping : written->whole.mappings) *snapshot.add_mappings() = mapping;
    }
    state.Add(snapshot);
    uint64_t segment = i / 10 + 1;
    std::ofstream file(written->dir.File(SegmentName(segment)), std::ios::app | std::ios::binary);
    if (i % 10 == 0) {
      proto::Header header = written->whole.header;
      if (segment == 3) header.set_pid(pid_of_third);
      file << Framed(header) << Framed(state.WholeState());
    } else {
      file << Framed(snapshot);
    }
  }
}

TEST(Segments, NamesSortAndParse) {
  EXPECT_EQ(SegmentName(42), "segment-000042.rec");
  uint64_t index = 0;
  EXPECT_TRUE(ParseSegmentName("segment-1234567.rec", &index));
  EXPECT_EQ(index, 1234567u);
  for (const char* name : {"segment-.rec", "segment-12a.rec", "x.rec", "segment-1.rec.tmp",
                           "segment-1234567890123456789.rec"}) {
    EXPECT_FALSE(ParseSegmentName(name, &index)) << name;
  }
}

TEST(Segments, ReadAsOneRecordingWithItsCohortsWhenNothingIsMissing) {
  Written written;
  WriteSegments(&written);
  std::ofstream(written.dir.File("notes.txt")) << "not a segment\n";
  Recording recording;
  ReadResult read = ReadRecording(written.dir.path().string(), &recording);
  ASSERT_EQ(read.status, ReadStatus::kOk) << read.message;
  ASSERT_EQ(recording.snapshots.size(), 30u);
  EXPECT_EQ(recording.header.cohorts(), 16u);
  EXPECT_EQ(recording.mappings.size(), 2u) << "mappings repeated by each segment count once";
  for (size_t i = 0; i < 30; ++i) {
    EXPECT_EQ(recording.snapshots[i].sequence(), i);
    EXPECT_EQ(StateAt(recording, static_cast<double>(i)).sites[1].live_bytes(), 100 * static_cast<int64_t>(i));
  }
  ASSERT_EQ(read.warnings.size(), 1u);  // the last segment has no exit snapshot
  EXPECT_EQ(read.warnings[0].kind, ReadWarningKind::kNoFinalSnapshot);
}

TEST(Segments, WithTheOldestDeletedTheRestReadsRenumberedWithoutCohorts) {
  Written written;
  WriteSegments(&written);
  std::filesystem::remove(written.dir.File(SegmentName(1)));
  Recording recording;
  ASSERT_EQ(ReadRecording(written.dir.path().string(), &recording).status, ReadStatus::kOk);
  ASSERT_EQ(recording.snapshots.size(), 20u);
  EXPECT_EQ(recording.header.cohorts(), 0u);
  EXPECT_EQ(recording.snapshots[0].sequence(), 0u);
  EXPECT_EQ(recording.snapshots[0].sites(0).cohorts_size(), 0);
  // The first segment left starts with the whole state: values are exact.
  EXPECT_EQ(StateAt(recording, 10).sites[1].live_bytes(), 1000);
  EXPECT_EQ(StateAt(recording, 29).sites[1].live_bytes(), 2900);
}

TEST(Segments, AnotherProcessesSegmentEndsTheReading) {
  Written written;
  WriteSegments(&written, /*pid_of_third=*/99);
  Recording recording;
  ReadResult read = ReadRecording(written.dir.path().string(), &recording);
  ASSERT_EQ(read.status, ReadStatus::kOk);
  EXPECT_EQ(recording.snapshots.size(), 20u);
  ASSERT_FALSE(read.warnings.empty());
  EXPECT_NE(read.warnings.back().text.find("another process"), std::string::npos);
}

TEST(Segments, ADirectoryWithoutSegmentsIsNotARecording) {
  testing::TempDir dir;
  Recording recording;
  ReadResult read = ReadRecording(dir.path().string(), &recording);
  EXPECT_EQ(read.status, ReadStatus::kNotRecording);
  EXPECT_NE(read.message.find("without recording segments"), std::string::npos);
}

}  // namespace
}  // namespace heapdrift
