// Microbenchmarks of the agent's per-allocation path, in process (no
// preload): what an unsampled malloc+free pays on top of the allocator, and
// what taking a sample costs. Run: build/bench/hook_path_benchmark
#include <benchmark/benchmark.h>

#include <climits>
#include <cstdlib>

#include "agent.h"
#include "frame_unwinder.h"
#include "hooks.h"
#include "live_table.h"
#include "sampler.h"
#include "stack_capture.h"
#include "thread_state.h"

namespace heapdrift::agent {
namespace {

void SetUpAgentTables() {
  static bool ready = [] {
    g_live_table.Init(1 << 18);
    g_agent.stacks.Init(1 << 16);
    InitFrameUnwinder();  // as the agent's constructor does
    return true;
  }();
  (void)ready;
}

void BM_MallocFree_NoAgent(benchmark::State& state) {
  for (auto _ : state) {
    void* block = std::malloc(64);
    benchmark::DoNotOptimize(block);
    std::free(block);
  }
}
BENCHMARK(BM_MallocFree_NoAgent);

// The hot path the interposed malloc and free add: countdown subtraction and
// sign test, and the free filter's one byte load. The countdown is set out
// of reach so that no sample is taken: this is the unsampled cost.
void BM_MallocFree_UnsampledHooks(benchmark::State& state) {
  SetUpAgentTables();
  tls_state.bytes_until_sample = INT64_MAX;
  for (auto _ : state) {
    void* block = std::malloc(64);
    OnAlloc(block, 64);
    benchmark::DoNotOptimize(block);
    OnFree(block);
    std::free(block);
  }
}
BENCHMARK(BM_MallocFree_UnsampledHooks);

// What a sample costs: unwinding (the agent's cached DWARF unwinder) and
// interning the stack.
void BM_CaptureAndInternStack(benchmark::State& state) {
  SetUpAgentTables();
  uintptr_t frames[StackTable::kMaxDepth];
  for (auto _ : state) {
    uint32_t depth = CaptureStack(frames, StackTable::kMaxDepth);
    benchmark::DoNotOptimize(g_agent.stacks.Intern(frames, depth));
  }
}
BENCHMARK(BM_CaptureAndInternStack);

void BM_LiveTableInsertErase(benchmark::State& state) {
  SetUpAgentTables();
  LiveBlock stale, erased;
  uintptr_t address = 0x100000;
  for (auto _ : state) {
    address += 64;
    g_live_table.Insert(reinterpret_cast<void*>(address), {1, 0, 0, 64, 1.0}, &stale);
    g_live_table.Erase(reinterpret_cast<void*>(address), &erased);
  }
}
BENCHMARK(BM_LiveTableInsertErase);

}  // namespace
}  // namespace heapdrift::agent

BENCHMARK_MAIN();
