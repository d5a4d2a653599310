// Encodes the recording's messages (proto/heapdrift.proto) with ProtoWriter.
// Pure encoding: the collector gathers the data, this file knows the fields.
#pragma once

#include <cstdint>

#include "leak_scan.h"
#include "module_registry.h"
#include "process_memory.h"
#include "recording_format.h"
#include "proto_writer.h"
#include "site_totals.h"
#include "stack_table.h"

namespace heapdrift::agent {

using format::kFormatVersion;
using format::kRecordingMagic;

struct HeaderInfo {
  uint32_t pid;
  uint32_t parent_pid;
  const char* executable;
  const char* command_line;  // NUL-separated arguments
  uint32_t command_line_size;
  uint64_t sample_bytes;
  uint64_t max_samples_per_sec;
  uint64_t start_time_unix_ns;
  uint64_t start_clock_ns;
  uint64_t snapshot_interval_ms;
  bool forked;
  uint32_t root_pid;
  uint64_t process_start_ticks;
  bool attached;
  const char* service_name = "";
};

// Header fields read back by the agent itself (recording_probe.h).
enum HeaderField : uint32_t {
  kHeaderMagic = 1,
  kHeaderPid = 3,
  kHeaderProcessStartTicks = 17,
};

struct StatsInfo {
  uint64_t samples, dropped_ring_full, dropped_no_ring, dropped_live_table_full,
      dropped_stack_table_full, frees_spilled, agent_memory_bytes, current_sample_bytes,
      live_samples, stacks, allocations_spilled, stacks_truncated;
};

void EncodeHeader(ProtoWriter& writer, const HeaderInfo& header);

// Snapshot message field numbers the collector fills in between Begin and End.
enum SnapshotField : uint32_t {
  kSnapshotSites = 3,
  kSnapshotStacks = 4,
  kSnapshotMappings = 5,
  kSnapshotLeakScanDone = 9,
  kSnapshotLeaks = 10,
  kSnapshotIndirectLeaks = 11,
  kSnapshotLeakScanThreadsStopped = 12,
  kSnapshotLeakScanThreadsRunning = 13,
};

size_t BeginSnapshot(ProtoWriter& writer, uint64_t sequence, uint64_t time_ns, bool final);
// With the cohorts in `changed_cohorts` (bit k: cohort k), as absolute values.
void EncodeSite(ProtoWriter& writer, uint32_t stack_id, const SiteTotal& total,
                const CohortTotals& cohorts, uint16_t changed_cohorts);
void EncodeStack(ProtoWriter& writer, uint32_t stack_id, const StackRecord& record);
void EncodeMapping(ProtoWriter& writer, const Segment& segment);
void EncodeLeak(ProtoWriter& writer, uint32_t stack_id, const LeakTotals& totals);
void EncodeIndirectLeak(ProtoWriter& writer, const IndirectLeakTotals& totals);
void EndSnapshot(ProtoWriter& writer, size_t token, const ProcessMemory& memory,
                 const StatsInfo& stats);

}  // namespace heapdrift::agent
