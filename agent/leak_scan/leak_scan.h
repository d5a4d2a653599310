// The exit-time leak scan (HEAPDRIFT_LEAK_SCAN=1, exact mode): which live
// blocks can the program still reach?
//
// Like LeakSanitizer's and Valgrind's, the scan is conservative: every
// aligned word of the roots that points into a live block marks the block
// reachable, and the marked blocks' contents are scanned in turn. What is
// left is definitely leaked. The roots are
//   - the writable segments of every loaded object (globals) and the exiting
//     thread's thread-local storage;
//   - the exiting thread's stack and registers as they were when exit() was
//     called (exit_caller.h): what it held then; its stack below that point
//     is exit's frames and dead ones. Where that cannot be found, its stack
//     from the scan's caller up and its registers there;
//   - the other threads' registers, and their stacks from their stack
//     pointers up, read with the threads stopped (world_stop.h); a thread
//     that cannot be stopped is read while it runs, stack whole;
//   - every other private writable memory mapping (other threads' stacks and
//     TLS, memory a language runtime or pool took straight from mmap), minus
//     the live blocks themselves, the agent's own memory, and the malloc
//     heaps (the brk heap and glibc's arena heaps), whose free chunks hold
//     stale pointers;
//   - the part of the brk heap that existed when the agent started: blocks
//     that constructors allocated before the agent's ran were never seen,
//     and what they point to is still in use.
// It may call a leaked block reachable when a stale word happens to point at
// it, never the other way round.
//
// Leaked blocks are then split as LeakSanitizer splits them: a leaked block
// that another leaked block points to (a pointer to itself does not count)
// is an *indirect* leak, the others are *direct*. Freeing the direct ones
// would have freed the rest: an indirect block is attributed to the first
// direct block, in address order, from which leaked blocks lead to it, so
// that a suppression of that direct leak covers it. A leaked cycle that no
// direct block leads to is indirect throughout, without a root.
//
// Runs once, on the exiting thread, after the program's own exit handlers.
// Its memory comes from mmap and is returned. Never allocates from the heap.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heapdrift::agent {

// Per stack: direct leaks ("leaked") and reachable blocks.
struct LeakTotals {
  double leaked_bytes, leaked_objects, reachable_bytes, reachable_objects;
};

constexpr uint32_t kNoRootStack = UINT32_MAX;

// Indirect leaks of one stack whose direct leak came from `root_stack_id`
// (kNoRootStack: only a leaked cycle holds them).
struct IndirectLeakTotals {
  uint32_t stack_id, root_stack_id;
  double bytes, objects;
};

// What the scan found; its memory is mapped by the scan, unmapped here.
struct LeakScanResult {
  LeakTotals* totals = nullptr;  // max_stacks entries, by stack id
  uint32_t max_stacks = 0;
  IndirectLeakTotals* indirect = nullptr;  // sorted by (stack_id, root_stack_id)
  uint32_t indirect_count = 0;
  size_t indirect_capacity = 0;
  // The program's other threads during the scan (world_stop.h): stopped, and
  // those that kept running (their registers unread).
  uint32_t threads_stopped = 0, threads_running = 0;

  LeakScanResult() = default;
  LeakScanResult(const LeakScanResult&) = delete;
  LeakScanResult& operator=(const LeakScanResult&) = delete;
  ~LeakScanResult();
};

// The exiting thread's roots: its stack from `stack_from` up and the words
// in [registers, registers + register_count).
struct ExitingThreadRoots {
  uintptr_t stack_from;
  const uintptr_t* registers;
  size_t register_count;
};

// Fills `result` for stacks below `max_stacks`. The scan's own frames,
// which hold copies of block addresses, must lie below `exiting.stack_from`.
// False if memory could not be mapped.
bool ScanForLeaks(uint32_t max_stacks, const ExitingThreadRoots& exiting, LeakScanResult* result);

}  // namespace heapdrift::agent
