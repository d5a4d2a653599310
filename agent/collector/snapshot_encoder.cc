#include "snapshot_encoder.h"

namespace heapdrift::agent {
namespace {

int64_t Round(double value) { return static_cast<int64_t>(value < 0 ? value - 0.5 : value + 0.5); }
uint64_t RoundUnsigned(double value) { return value <= 0 ? 0 : static_cast<uint64_t>(value + 0.5); }

}  // namespace

void EncodeHeader(ProtoWriter& writer, const HeaderInfo& header) {
  size_t record = writer.BeginRecord();
  // Identity first: a later image of the process reads it back from the
  // first few hundred bytes (recording_probe.cc). Field order is free on the wire.
  writer.String(kHeaderMagic, kRecordingMagic);
  writer.Varint(2, kFormatVersion);
  writer.Varint(kHeaderPid, header.pid);
  writer.Varint(16, header.root_pid);
  writer.Varint(kHeaderProcessStartTicks, header.process_start_ticks);
  writer.Varint(4, header.parent_pid);
  writer.String(5, header.executable);
  for (uint32_t at = 0; at < header.command_line_size;) {
    const char* argument = header.command_line + at;
    uint32_t length = 0;
    while (at + length < header.command_line_size && argument[length] != '\0') ++length;
    writer.Bytes(6, argument, length, /*keep_empty=*/true);
    at += length + 1;
  }
  writer.Varint(7, header.sample_bytes);
  writer.Varint(8, header.max_samples_per_sec);
  writer.Varint(9, header.start_time_unix_ns);
  writer.String(10, "CLOCK_MONOTONIC");
  writer.Varint(11, header.start_clock_ns);
  writer.Varint(12, StackTable::kMaxDepth);
  writer.Varint(13, header.snapshot_interval_ms);
  writer.String(14, HEAPDRIFT_VERSION);
  writer.Bool(15, header.forked);
  writer.Varint(18, kCohorts);
  writer.Bool(19, header.attached);
  writer.String(20, header.service_name);
  writer.EndRecord(record);
}

size_t BeginSnapshot(ProtoWriter& writer, uint64_t sequence, uint64_t time_ns, bool final) {
  size_t record = writer.BeginRecord();
  writer.Varint(1, sequence);
  writer.Varint(2, time_ns);
  writer.Bool(8, final);
  return record;
}

void EncodeSite(ProtoWriter& writer, uint32_t stack_id, const SiteTotal& total,
                const CohortTotals& cohorts, uint16_t changed_cohorts) {
  size_t token = writer.BeginMessage(kSnapshotSites);
  writer.Varint(1, stack_id);
  writer.SignedVarint(2, Round(total.live_bytes));
  writer.SignedVarint(3, Round(total.live_objects));
  writer.Varint(4, RoundUnsigned(total.allocated_bytes));
  writer.Varint(5, RoundUnsigned(total.allocated_objects));
  for (uint32_t cohort = 0; cohort < kCohorts; ++cohort) {
    if ((changed_cohorts & (1u << cohort)) == 0) continue;
    size_t entry = writer.BeginMessage(6);
    writer.Varint(1, cohort);  // omitted for cohort 0: proto3's default
    writer.SignedVarint(2, Round(cohorts.live_bytes[cohort]));
    writer.EndMessage(entry);
  }
  writer.EndMessage(token);
}

void EncodeStack(ProtoWriter& writer, uint32_t stack_id, const StackRecord& record) {
  size_t token = writer.BeginMessage(kSnapshotStacks);
  writer.Varint(1, stack_id);
  static_assert(sizeof(uintptr_t) == sizeof(uint64_t));
  writer.PackedVarints(2, reinterpret_cast<const uint64_t*>(record.frames), record.depth);
  writer.EndMessage(token);
}

void EncodeMapping(ProtoWriter& writer, const Segment& segment) {
  size_t token = writer.BeginMessage(kSnapshotMappings);
  writer.Varint(1, segment.start);
  writer.Varint(2, segment.limit);
  writer.Varint(3, segment.file_offset);
  writer.Varint(4, segment.load_bias);
  writer.String(5, segment.path);
  writer.Bytes(6, segment.build_id, segment.build_id_size);
  writer.EndMessage(token);
}

void EncodeLeak(ProtoWriter& writer, uint32_t stack_id, const LeakTotals& totals) {
  size_t token = writer.BeginMessage(kSnapshotLeaks);
  writer.Varint(1, stack_id);
  writer.Varint(2, RoundUnsigned(totals.leaked_bytes));
  writer.Varint(3, RoundUnsigned(totals.leaked_objects));
  writer.Varint(4, RoundUnsigned(totals.reachable_bytes));
  writer.Varint(5, RoundUnsigned(totals.reachable_objects));
  writer.EndMessage(token);
}

void EncodeIndirectLeak(ProtoWriter& writer, const IndirectLeakTotals& totals) {
  size_t token = writer.BeginMessage(kSnapshotIndirectLeaks);
  writer.Varint(1, totals.stack_id);
  if (totals.root_stack_id != kNoRootStack) writer.PresentVarint(2, totals.root_stack_id);
  writer.Varint(3, RoundUnsigned(totals.bytes));
  writer.Varint(4, RoundUnsigned(totals.objects));
  writer.EndMessage(token);
}

void EndSnapshot(ProtoWriter& writer, size_t token, const ProcessMemory& memory,
                 const StatsInfo& stats) {
  size_t memory_token = writer.BeginMessage(6);
  writer.Varint(1, memory.rss_bytes);
  writer.Varint(2, memory.virtual_bytes);
  writer.Bool(3, memory.has_allocator_stats);
  writer.Varint(4, memory.allocator_in_use_bytes);
  writer.Varint(5, memory.allocator_free_bytes);
  writer.Varint(6, memory.allocator_mapped_bytes);
  writer.Varint(7, memory.allocator_releasable_bytes);
  writer.EndMessage(memory_token);
  size_t stats_token = writer.BeginMessage(7);
  writer.Varint(1, stats.samples);
  writer.Varint(2, stats.dropped_ring_full);
  writer.Varint(3, stats.dropped_no_ring);
  writer.Varint(4, stats.dropped_live_table_full);
  writer.Varint(5, stats.dropped_stack_table_full);
  writer.Varint(6, stats.frees_spilled);
  writer.Varint(7, stats.agent_memory_bytes);
  writer.Varint(8, stats.current_sample_bytes);
  writer.Varint(9, stats.live_samples);
  writer.Varint(10, stats.stacks);
  writer.Varint(11, stats.allocations_spilled);
  writer.Varint(12, stats.stacks_truncated);
  writer.EndMessage(stats_token);
  writer.EndRecord(token);
}

}  // namespace heapdrift::agent
