// What the exported allocation functions call after (or before) the real
// allocator. The inline part is the per-allocation hot path: one subtraction
// and a sign test on malloc; on free, a flag and, once any block was sampled,
// one bit of the live table's filter. Everything else is cold,
// out of line, and runs only for sampled allocations and frees of blocks the
// filter cannot rule out. It includes only what the inline part reads.
#pragma once

#include <cstddef>

#include "compiler.h"
#include "live_table.h"
#include "thread_state.h"

namespace heapdrift::agent {

// The sampled branches: cold and out of line, so that the inline paths below
// stay a few instructions with no call (tests/agent/hot_path_test.cc).
HD_COLD void OnSampleDue(void* pointer, size_t size);
HD_COLD void OnMaybeSampledFree(void* pointer);

// After the real allocator returned `pointer` for a request of `size` bytes.
HD_ALWAYS_INLINE void OnAlloc(void* pointer, size_t size) {
  ThreadState& state = tls_state;
  state.bytes_until_sample -= static_cast<int64_t>(size);
  if (HD_LIKELY(state.bytes_until_sample >= 0)) return;
  OnSampleDue(pointer, size);
}

// Before `pointer` is handed back to the real allocator: a sampled block must
// leave the live table first, or another thread could get the same address
// from the allocator and insert it while it is still there.
HD_ALWAYS_INLINE void OnFree(void* pointer) {
  if (HD_UNLIKELY(g_live_table.MaybeContains(pointer))) OnMaybeSampledFree(pointer);
}

// realloc's bookkeeping around the real call: the old block leaves the live
// table before the call and returns to it if the call fails.
struct ReallocTicket {
  bool old_was_sampled = false;
  LiveBlock old_block{};
};
ReallocTicket BeforeRealloc(void* old_pointer);
void AfterRealloc(const ReallocTicket& ticket, void* old_pointer, void* new_pointer, size_t size);

// Per-thread exit: hands the thread's ring to the collector.
void OnThreadExit(void* ring);

}  // namespace heapdrift::agent

namespace heapdrift::agent {
// Creates the pthread key whose destructor runs OnThreadExit; from init only.
bool InitThreadExitKey();

// In a forked child that rebuilt its rings: this thread holds no ring of the
// old pool, and its exit must not hand one back.
void ForgetThreadRing();
}  // namespace heapdrift::agent
