#include "hooks.h"

#include <pthread.h>

#include <climits>

#include "agent.h"
#include "cohorts.h"
#include "live_table.h"
#include "real_alloc.h"
#include "sampler.h"
#include "stack_capture.h"

namespace heapdrift::agent {
namespace {

pthread_key_t g_ring_key;
bool g_ring_key_ready = false;

// Before the agent is active, a thread re-checks on its next allocation:
// a longer wait would leave those bytes unsampled once it is (exact mode
// would miss allocations). Start-up is short, so the cost is negligible.
constexpr int64_t kStartupRecheckBytes = 0;
// A dormant agent's threads look at the state once per this many bytes: a
// wake reaches every allocating thread within 64 KiB of its allocations, at
// the cost of one call per 64 KiB while dormant (nothing, next to malloc).
constexpr int64_t kDormantRecheckBytes = 64 * 1024;

uint16_t CurrentSession() {
  return static_cast<uint16_t>(g_agent.session.load(std::memory_order_acquire));
}

EventRing* RingForThisThread(ThreadState& state) {
  if (state.ring != nullptr || state.ring_retired) return state.ring;
  EventRing* ring = g_agent.rings.Acquire();
  if (ring == nullptr) return nullptr;
  // Registers the exit hook; may allocate its key block (we are in-agent).
  if (g_ring_key_ready) pthread_setspecific(g_ring_key, ring);
  state.ring = ring;
  return ring;
}

// The ring-free path: atomic adds into the stack's record. Lossless and
// bounded (no memory of its own), slower only under contention.
void Spill(const SampleEvent& event) {
  StackRecord* record = g_agent.stacks.GetMutable(event.stack_id);
  if (record == nullptr) return;
  double bytes = event.object_weight * static_cast<double>(event.size);
  if (event.kind == SampleEvent::kFree) {
    record->spilled_freed_objects.fetch_add(event.object_weight, std::memory_order_relaxed);
    record->spilled_freed_bytes.fetch_add(bytes, std::memory_order_relaxed);
    record->spilled_freed_cohort_bytes[event.cohort % kCohorts].fetch_add(
        static_cast<float>(bytes), std::memory_order_relaxed);
    g_agent.counters.frees_spilled.fetch_add(1, std::memory_order_relaxed);
  } else {
    record->spilled_allocated_objects.fetch_add(event.object_weight, std::memory_order_relaxed);
    record->spilled_allocated_bytes.fetch_add(bytes, std::memory_order_relaxed);
    g_agent.counters.allocations_spilled.fetch_add(1, std::memory_order_relaxed);
  }
  g_agent.counters.spill_pending.store(true, std::memory_order_release);
}

void PushOrSpill(EventRing* ring, const SampleEvent& event) {
  if (ring == nullptr || !ring->TryPush(event)) Spill(event);
}

// A sampled block was freed: its event must reach the collector, or the
// block would count as live forever. The ring is the fast way; when it is
// full, gone (thread exit) or unsafe to touch (this thread is already inside
// the agent, e.g. a signal handler interrupted a push), the free is added to
// its stack's spill counters instead: slower, but never lost.
// The free of a block sampled for a recording that has ended is nobody's.
void RecordFree(const LiveBlock& block) {
  if (block.session != CurrentSession()) return;
  ThreadState& state = tls_state;
  SampleEvent event{block.stack_id, SampleEvent::kFree, static_cast<uint8_t>(block.cohort),
                    block.session, block.size, block.object_weight};
  if (state.in_agent) {
    Spill(event);
    return;
  }
  InAgentScope scope;
  PushOrSpill(RingForThisThread(state), event);
}

// A new stack may run through code loaded since the last look (and unloaded
// before the next snapshot): make sure every frame's module is on record.
void RecordModulesOf(const uintptr_t* frames, uint32_t depth) {
  for (uint32_t i = 0; i < depth; ++i) {
    if (!g_agent.modules.Covers(frames[i] - 1)) g_agent.modules.RecordObjectAt(frames[i] - 1);
  }
}

void RecordSampledAllocation(ThreadState& state, const CallerFrame& caller, void* pointer,
                             size_t size, double weight) {
  AgentCounters& counters = g_agent.counters;
  EventRing* ring = RingForThisThread(state);
  // Room for the allocation and for a stale block it may replace. Only this
  // thread pushes, so the room cannot shrink before the pushes below.
  bool ring_full = ring != nullptr && !ring->HasRoom(2);
  if (ring_full) ring = nullptr;
  if (ring == nullptr && !g_sampler.exact()) {
    // No ring to spare, or overload (the collector is behind): drop the
    // sample before paying for the unwind; when overloaded, sample less from
    // now on. Exact mode must not lose anything: it takes the slower spill
    // path instead.
    if (ring_full) {
      counters.dropped_ring_full.fetch_add(1, std::memory_order_relaxed);
      g_sampler.BackOff();
    } else {
      counters.dropped_no_ring.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  // Every line this sample touches is likely cold by now (the host ran on
  // since the last one): start the misses that can be known ahead together,
  // rather than one after the other. The rules of the frames of this thread's
  // last stack (consecutive samples share most frames, the outer ones at
  // least), the caller's, the live table's and the ring's lines.
  if (state.last_stack_plus_one != 0) {
    if (const StackRecord* last = g_agent.stacks.Get(state.last_stack_plus_one - 1)) {
      PrefetchFrameRules(last->frames, last->depth);
    }
  }
  PrefetchFrameRules(&caller.return_address, 1);
  g_live_table.PrefetchInsert(pointer);
  if (ring != nullptr) ring->PrefetchPush();
  uintptr_t frames[StackTable::kMaxDepth];
  uint32_t depth = CaptureStackFrom(caller, frames, StackTable::kMaxDepth);
  uint32_t stacks_before = g_agent.stacks.id_count();
  uint32_t stack_id = g_agent.stacks.Intern(frames, depth);
  if (stack_id == StackTable::kInvalidId) {
    stack_id = g_agent.stacks.InternTruncated(frames, depth);
    if (stack_id == StackTable::kInvalidId) {
      counters.dropped_stack_table_full.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    counters.stacks_truncated.fetch_add(1, std::memory_order_relaxed);
  }
  if (stack_id >= stacks_before) RecordModulesOf(frames, depth);
  state.last_stack_plus_one = stack_id + 1;
  uint16_t cohort = static_cast<uint16_t>(CohortOf(g_agent.epoch.load(std::memory_order_relaxed)));
  uint16_t session = CurrentSession();
  LiveBlock stale;
  switch (g_live_table.Insert(pointer, LiveBlock{stack_id, cohort, session, size, weight},
                              &stale)) {
    case LiveTable::InsertResult::kFull:
      counters.dropped_live_table_full.fetch_add(1, std::memory_order_relaxed);
      return;
    case LiveTable::InsertResult::kReplacedStale:
      if (stale.session == session) {
        PushOrSpill(ring, SampleEvent{stale.stack_id, SampleEvent::kFree,
                                      static_cast<uint8_t>(stale.cohort), stale.session,
                                      stale.size, stale.object_weight});
      }
      break;
    case LiveTable::InsertResult::kInserted:
      break;
  }
  PushOrSpill(ring, SampleEvent{stack_id, SampleEvent::kAlloc, static_cast<uint8_t>(cohort),
                                session, size, weight});
}

}  // namespace

void OnSampleDue(void* pointer, size_t size) {
  ThreadState& state = tls_state;
  if (state.in_agent) return;  // the agent's own allocations are never sampled
  AgentState agent_state = g_agent.state.load(std::memory_order_acquire);
  if (agent_state != AgentState::kActive) {
    state.bytes_until_sample = agent_state == AgentState::kOff       ? INT64_MAX
                               : agent_state == AgentState::kDormant ? kDormantRecheckBytes
                                                                     : kStartupRecheckBytes;
    state.interval_at_draw = 0;  // not a sampling point: the next check draws one
    return;
  }
  InAgentScope scope;
  double weight = g_sampler.TakeSample(state, size);
  if (weight == 0.0 || pointer == nullptr) return;
  // The walk starts at the interposed function that called this one.
  RecordSampledAllocation(state, HD_CALLER_FRAME(), pointer, size, weight);
}

void OnMaybeSampledFree(void* pointer) {
  if (pointer == nullptr || !g_live_table.initialized()) return;
  LiveBlock block;
  if (g_live_table.Erase(pointer, &block)) RecordFree(block);
}

ReallocTicket BeforeRealloc(void* old_pointer) {
  ReallocTicket ticket;
  if (old_pointer != nullptr && g_live_table.MaybeContains(old_pointer) &&
      g_live_table.initialized()) {
    ticket.old_was_sampled = g_live_table.Erase(old_pointer, &ticket.old_block);
  }
  return ticket;
}

void AfterRealloc(const ReallocTicket& ticket, void* old_pointer, void* new_pointer, size_t size) {
  bool failed = new_pointer == nullptr && size != 0 && old_pointer != nullptr;
  if (ticket.old_was_sampled) {
    LiveBlock stale;
    // A failed realloc leaves the old block in place: it is live again.
    if (!failed ||
        g_live_table.Insert(old_pointer, ticket.old_block, &stale) ==
            LiveTable::InsertResult::kFull) {
      RecordFree(ticket.old_block);
    }
  }
  if (new_pointer != nullptr) OnAlloc(new_pointer, size);
}

void OnThreadExit(void* ring) {
  ThreadState& state = tls_state;
  // glibc runs key destructors for several rounds and frees more afterwards;
  // re-arming keeps the ring until the last round. (ThreadSanitizer, which
  // the unit tests run under, finishes a thread in that same last round, so
  // there the ring is handed back in the first.)
#if defined(__SANITIZE_THREAD__)
  constexpr uint32_t kRounds = 1;
#else
  constexpr uint32_t kRounds = PTHREAD_DESTRUCTOR_ITERATIONS;
#endif
  if (++state.exit_destructor_rounds < kRounds) {
    pthread_setspecific(g_ring_key, ring);
    return;
  }
  state.ring = nullptr;
  state.ring_retired = 1;
  g_agent.rings.Retire(static_cast<EventRing*>(ring));
}

bool InitThreadExitKey() {
  g_ring_key_ready = pthread_key_create(&g_ring_key, OnThreadExit) == 0;
  return g_ring_key_ready;
}

void ForgetThreadRing() {
  tls_state.ring = nullptr;
  if (g_ring_key_ready) pthread_setspecific(g_ring_key, nullptr);
}

}  // namespace heapdrift::agent
