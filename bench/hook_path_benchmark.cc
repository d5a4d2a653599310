// Microbenchmarks of the agent's per-allocation path, in process (no
// preload): what an unsampled malloc+free pays on top of the allocator, and
// what taking a sample costs. Run: build/bench/hook_path_benchmark
#include <benchmark/benchmark.h>

#include <time.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "agent.h"
#include "collector.h"
#include "options.h"
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

// Calls `work` `depth` frames below the caller: a stack as deep as a
// server's (a 16-frame stack is the yardstick).
__attribute__((noinline)) void AtDepth(int depth, void (*work)(void*), void* context) {
  if (depth <= 1) {
    work(context);
  } else {
    AtDepth(depth - 1, work, context);
  }
  benchmark::ClobberMemory();  // keeps the recursion a real call chain
}

// Streams through 32 MiB, as a server between two samples does through its
// own data: the agent's tables and rules are then out of cache.
void EvictCaches() {
  static std::vector<char> junk(32 << 20);
  for (size_t i = 0; i < junk.size(); i += 64) junk[i] = static_cast<char>(junk[i] + 1);
  benchmark::ClobberMemory();
}

void BM_CaptureAndInternAtDepth(benchmark::State& state) {
  SetUpAgentTables();
  bool cold = state.range(1) != 0;
  struct Work {
    uintptr_t frames[StackTable::kMaxDepth];
  } work;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      EvictCaches();
      state.ResumeTiming();
    }
    AtDepth(static_cast<int>(state.range(0)), [](void* context) {
      auto* w = static_cast<Work*>(context);
      uint32_t depth = CaptureStack(w->frames, StackTable::kMaxDepth);
      benchmark::DoNotOptimize(g_agent.stacks.Intern(w->frames, depth));
    }, &work);
  }
}
// Cold runs iterate a fixed count: each eviction takes milliseconds.
BENCHMARK(BM_CaptureAndInternAtDepth)->ArgNames({"depth", "cold"})->Args({16, 0});
BENCHMARK(BM_CaptureAndInternAtDepth)->ArgNames({"depth", "cold"})
    ->Args({16, 1})->Args({1, 1})->Iterations(2000);

// The parts of a warm sample, for the breakdown bench/always_on.py prints:
// the unwind alone, and interning a 16-frame stack already in the table.
void BM_CaptureAtDepth(benchmark::State& state) {
  SetUpAgentTables();
  struct Work {
    uintptr_t frames[StackTable::kMaxDepth];
  } work;
  for (auto _ : state) {
    AtDepth(static_cast<int>(state.range(0)), [](void* context) {
      auto* w = static_cast<Work*>(context);
      benchmark::DoNotOptimize(CaptureStack(w->frames, StackTable::kMaxDepth));
    }, &work);
  }
}
BENCHMARK(BM_CaptureAtDepth)->ArgName("depth")->Arg(16);

void BM_InternDepth16(benchmark::State& state) {
  SetUpAgentTables();
  uintptr_t frames[16];
  for (uint32_t i = 0; i < 16; ++i) frames[i] = 0x400000 + 0x1234 * (i + 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(g_agent.stacks.Intern(frames, 16));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_InternDepth16);

// The baseline of the cold runs: pausing, evicting and resuming, with
// nothing measured in between. A cold capture costs its time minus this.
void BM_ColdBaseline(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    EvictCaches();
    state.ResumeTiming();
    AtDepth(16, [](void*) {}, nullptr);
  }
}
BENCHMARK(BM_ColdBaseline)->Iterations(2000);

// One sample all in, as the interposed malloc and free take it: the sampler's
// draw, capture, intern, live-table insert, the ring push; then the free: the
// filter, the erase, its event; and the collector thread draining the rings
// and writing snapshots meanwhile (or, when the rings fill faster than it
// drains them, the spill path). Exact mode samples every allocation.
// Counters: host_ns (this thread's CPU per sample) and all_in_ns (the
// process's CPU per sample: the collector's share included).
void BM_SampleAllIn(benchmark::State& state) {
  static bool started = [] {
    Options options;
    std::snprintf(options.output, sizeof(options.output), "/dev/null");
    options.sample_bytes = 1;
    options.interval_ms = 100;
    options.max_stacks = 1 << 16;  // the sampling default (0 is "by mode", which the constructor resolves)
    if (!g_agent.stacks.Init(static_cast<uint32_t>(options.max_stacks)) ||
        !g_live_table.Init(1 << 18) || !g_agent.rings.Init(16, 4096) || !InitThreadExitKey()) {
      return false;
    }
    InitFrameUnwinder();
    g_sampler.Configure(1, 0);
    if (!g_collector.Start(options)) return false;
    g_agent.state.store(AgentState::kActive);
    return true;
  }();
  if (!started) {
    state.SkipWithError("the agent's tables or collector could not start");
    return;
  }
  tls_state.bytes_until_sample = -1;  // an earlier benchmark set it out of reach
  tls_state.interval_at_draw = 1;
  timespec process_start{}, thread_start{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &process_start);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &thread_start);
  for (auto _ : state) {
    AtDepth(static_cast<int>(state.range(0)), [](void*) {
      void* block = std::malloc(64);
      OnAlloc(block, 64);
      benchmark::DoNotOptimize(block);
      OnFree(block);
      std::free(block);
    }, nullptr);
  }
  timespec process_end{}, thread_end{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &process_end);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &thread_end);
  auto ns = [](const timespec& a, const timespec& b) {
    return static_cast<double>(b.tv_sec - a.tv_sec) * 1e9 + static_cast<double>(b.tv_nsec - a.tv_nsec);
  };
  double samples = static_cast<double>(state.iterations());
  state.counters["host_ns"] = ns(thread_start, thread_end) / samples;
  state.counters["all_in_ns"] = ns(process_start, process_end) / samples;
}
// Warm caches only: evicting them between samples from here costs more than
// a sample and cannot be told apart from it in the process's CPU time (the
// cold capture above says what a cold cache costs).
BENCHMARK(BM_SampleAllIn)->ArgName("depth")->Arg(16);

}  // namespace
}  // namespace heapdrift::agent

BENCHMARK_MAIN();
