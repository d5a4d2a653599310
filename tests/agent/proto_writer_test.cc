// The agent's hand-written encoder, decoded by libprotobuf's generated
// classes: the proof that another tool can read recordings with stock protobuf.
#include "proto_writer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>

#include <string>

#include "heapdrift.pb.h"
#include "snapshot_encoder.h"

namespace heapdrift::agent {
namespace {

// Splits a buffer of length-delimited records the way a stock reader does.
std::vector<std::string> Records(ByteBuffer& buffer) {
  google::protobuf::io::ArrayInputStream array(buffer.data(), static_cast<int>(buffer.size()));
  google::protobuf::io::CodedInputStream input(&array);
  std::vector<std::string> records;
  uint32_t length = 0;
  while (input.ReadVarint32(&length)) {
    std::string record;
    EXPECT_TRUE(input.ReadString(&record, static_cast<int>(length)));
    records.push_back(record);
  }
  return records;
}

// The buffer's one record, parsed as a `Message`; false if it holds more,
// fewer, or one that does not parse.
template <typename Message>
bool OnlyRecord(ByteBuffer& buffer, Message* message) {
  std::vector<std::string> records = Records(buffer);
  return records.size() == 1 && message->ParseFromString(records[0]);
}

TEST(ProtoWriter, HeaderDecodesWithLibprotobuf) {
  ByteBuffer buffer;
  ProtoWriter writer(&buffer);
  const char command_line[] = "./server\0--port\0\0last";  // includes an empty argument
  HeaderInfo info{1234, 1, "/usr/bin/server", command_line, sizeof(command_line) - 1,
                  65536, 2000, 1700000000123456789ULL, 987654321, 1000, /*forked=*/true,
                  /*root_pid=*/1200, /*process_start_ticks=*/424242, /*attached=*/false,
                  /*service_name=*/"shop"};
  EncodeHeader(writer, info);
  ASSERT_TRUE(writer.ok());
  proto::Header header;
  ASSERT_TRUE(OnlyRecord(buffer, &header));
  EXPECT_EQ(header.magic(), kRecordingMagic);
  EXPECT_EQ(header.format_version(), kFormatVersion);
  EXPECT_EQ(header.pid(), 1234u);
  EXPECT_EQ(header.executable(), "/usr/bin/server");
  EXPECT_EQ(header.service_name(), "shop");
  ASSERT_EQ(header.command_line_size(), 4);
  EXPECT_EQ(header.command_line(1), "--port");
  EXPECT_EQ(header.command_line(2), "");
  EXPECT_EQ(header.command_line(3), "last");
  EXPECT_EQ(header.sample_bytes(), 65536u);
  EXPECT_EQ(header.max_samples_per_sec(), 2000u);
  EXPECT_EQ(header.start_time_unix_ns(), 1700000000123456789ULL);
  EXPECT_EQ(header.start_clock_ns(), 987654321u);
  EXPECT_EQ(header.clock(), "CLOCK_MONOTONIC");
  EXPECT_EQ(header.max_stack_depth(), StackTable::kMaxDepth);
  EXPECT_EQ(header.snapshot_interval_ms(), 1000u);
  EXPECT_TRUE(header.forked());
  EXPECT_EQ(header.root_pid(), 1200u);
  EXPECT_EQ(header.process_start_ticks(), 424242u);
  EXPECT_EQ(header.cohorts(), kCohorts);
}

TEST(ProtoWriter, SnapshotDecodesWithLibprotobuf) {
  StackTable stacks;
  ASSERT_TRUE(stacks.Init(16));
  uintptr_t frames[] = {0x7f0000001234, 0x55550000abcd, 1, UINTPTR_MAX};
  uint32_t stack_id = stacks.Intern(frames, 4);

  ByteBuffer buffer;
  ProtoWriter writer(&buffer);
  size_t token = BeginSnapshot(writer, 7, 123456789, true);
  EncodeStack(writer, stack_id, *stacks.Get(stack_id));
  CohortTotals cohorts{};
  cohorts.live_bytes[0] = 700;  // cohort 0: its index is proto3's default
  cohorts.live_bytes[5] = -2200.4;
  cohorts.live_bytes[7] = 99;  // not in the changed mask: not written
  EncodeSite(writer, stack_id, SiteTotal{-1500.4, -2.0, 1e12, 3e6}, cohorts,
             (1u << 0) | (1u << 5));
  // A site back to zero is still listed.
  EncodeSite(writer, 9, SiteTotal{0, 0, 0, 0}, CohortTotals{}, 0);
  EncodeLeak(writer, 0, LeakTotals{1111, 1, 0, 0});
  // Stack 0 as a root is present; no root is absent.
  EncodeIndirectLeak(writer, IndirectLeakTotals{1, 0, 2222, 1});
  EncodeIndirectLeak(writer, IndirectLeakTotals{2, kNoRootStack, 4441, 1});
  ProcessMemory memory;
  memory.rss_bytes = 10 << 20;
  memory.has_allocator_stats = true;
  memory.allocator_in_use_bytes = 5 << 20;
  StatsInfo stats{100, 1, 2, 3, 4, 5, 6, 65536, 8, 9, 10, 12};
  EndSnapshot(writer, token, memory, stats);
  ASSERT_TRUE(writer.ok());

  proto::Snapshot snapshot;
  ASSERT_TRUE(OnlyRecord(buffer, &snapshot));
  EXPECT_EQ(snapshot.sequence(), 7u);
  EXPECT_EQ(snapshot.time_ns(), 123456789u);
  EXPECT_TRUE(snapshot.final());
  ASSERT_EQ(snapshot.stacks_size(), 1);
  EXPECT_EQ(snapshot.stacks(0).id(), stack_id);
  ASSERT_EQ(snapshot.stacks(0).frames_size(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(snapshot.stacks(0).frames(i), frames[i]);
  ASSERT_EQ(snapshot.sites_size(), 2);
  EXPECT_EQ(snapshot.sites(0).live_bytes(), -1500);
  EXPECT_EQ(snapshot.sites(0).live_objects(), -2);
  EXPECT_EQ(snapshot.sites(0).allocated_bytes(), 1000000000000u);
  EXPECT_EQ(snapshot.sites(0).allocated_objects(), 3000000u);
  ASSERT_EQ(snapshot.sites(0).cohorts_size(), 2);
  EXPECT_EQ(snapshot.sites(0).cohorts(0).index(), 0u);
  EXPECT_EQ(snapshot.sites(0).cohorts(0).live_bytes(), 700);
  EXPECT_EQ(snapshot.sites(0).cohorts(1).index(), 5u);
  EXPECT_EQ(snapshot.sites(0).cohorts(1).live_bytes(), -2200);
  EXPECT_EQ(snapshot.sites(1).stack_id(), 9u);
  EXPECT_EQ(snapshot.sites(1).cohorts_size(), 0);
  ASSERT_EQ(snapshot.leaks_size(), 1);
  EXPECT_EQ(snapshot.leaks(0).leaked_bytes(), 1111u);
  ASSERT_EQ(snapshot.indirect_leaks_size(), 2);
  EXPECT_EQ(snapshot.indirect_leaks(0).stack_id(), 1u);
  ASSERT_TRUE(snapshot.indirect_leaks(0).has_root_stack_id());
  EXPECT_EQ(snapshot.indirect_leaks(0).root_stack_id(), 0u);
  EXPECT_EQ(snapshot.indirect_leaks(0).bytes(), 2222u);
  EXPECT_FALSE(snapshot.indirect_leaks(1).has_root_stack_id());
  EXPECT_EQ(snapshot.indirect_leaks(1).objects(), 1u);
  EXPECT_EQ(snapshot.memory().rss_bytes(), 10u << 20);
  EXPECT_TRUE(snapshot.memory().has_allocator_stats());
  EXPECT_EQ(snapshot.memory().allocator_in_use_bytes(), 5u << 20);
  EXPECT_EQ(snapshot.stats().samples(), 100u);
  EXPECT_EQ(snapshot.stats().dropped_stack_table_full(), 4u);
  EXPECT_EQ(snapshot.stats().stacks_truncated(), 12u);
  EXPECT_EQ(snapshot.stats().current_sample_bytes(), 65536u);
  EXPECT_EQ(snapshot.stats().stacks(), 9u);
  EXPECT_EQ(snapshot.stats().allocations_spilled(), 10u);
}

TEST(ProtoWriter, LargeNestedMessagesKeepExactLengths) {
  ByteBuffer buffer;
  ProtoWriter writer(&buffer);
  size_t record = writer.BeginRecord();
  std::string big(300000, 'x');  // forces the buffer to grow past its first mapping
  writer.String(5, big.c_str());
  writer.EndRecord(record);
  ASSERT_TRUE(writer.ok());
  proto::Header header;
  ASSERT_TRUE(OnlyRecord(buffer, &header));
  EXPECT_EQ(header.executable(), big);
  buffer.Release();
}

}  // namespace
}  // namespace heapdrift::agent
