// The agent's process-wide state: one constant-initialised object, valid
// before any constructor runs (the hooks can be called by the dynamic loader
// before ours), and never destroyed (hooks still run after exit handlers).
#pragma once

#include <atomic>
#include <cstdint>

#include "module_registry.h"
#include "options.h"
#include "ring_pool.h"
#include "stack_table.h"

namespace heapdrift::agent {

enum class AgentState : uint32_t {
  kStarting = 0,  // before the constructor finished: pass everything through
  kActive = 1,
  kOff = 2,       // disabled for good (bad settings, sink failed, forked child)
  kDormant = 3,   // interposing, recording nothing, until woken (control_channel.h)
};

// Host threads add to these only when something goes wrong (a drop, a
// spill): a counter every sample added to would be one more cache line
// passed between the cores per sample. Samples are counted by the collector
// as their events arrive (Collector::samples).
struct AgentCounters {
  std::atomic<uint64_t> dropped_ring_full{0};
  std::atomic<uint64_t> dropped_no_ring{0};
  std::atomic<uint64_t> dropped_live_table_full{0};
  std::atomic<uint64_t> dropped_stack_table_full{0};
  std::atomic<uint64_t> frees_spilled{0};
  std::atomic<uint64_t> allocations_spilled{0};
  // Samples kept under a truncated stack because full stacks ran out of ids.
  std::atomic<uint64_t> stacks_truncated{0};
  // Set when a free was spilled into its stack's record; the collector folds
  // spills in only then.
  std::atomic<bool> spill_pending{false};
};

constexpr int kThreadNotYetRunning = -1;

struct Agent {
  std::atomic<AgentState> state{AgentState::kStarting};
  int pid = 0;
  // The program break when the agent started: the brk heap below it holds
  // the blocks libraries allocated in their constructors before ours ran,
  // which the agent never saw (the leak scan reads them as roots).
  uintptr_t heap_end_at_start = 0;
  Options options;
  StackTable stacks;
  RingPool rings;
  ModuleRegistry modules;
  AgentCounters counters;
  // Snapshots written so far: samples are born in the cohort of this epoch
  // (cohorts.h). Written by the collector, read on the sampled path.
  std::atomic<uint32_t> epoch{0};
  // The recording in progress, counted from 0; a dormant agent starts a new
  // one at each wake. Blocks and events carry its low 16 bits, so that a
  // free of a block sampled for an earlier recording never reaches this one.
  std::atomic<uint32_t> session{0};
  // The agent's own threads (0: none; kThreadNotYetRunning: created, not
  // yet run), which a leak scan's stop of the program's threads leaves
  // alone: they hold no program memory.
  std::atomic<int> collector_tid{0};
  std::atomic<int> control_tid{0};

  bool active() const { return state.load(std::memory_order_acquire) == AgentState::kActive; }
};

extern Agent g_agent;

}  // namespace heapdrift::agent
