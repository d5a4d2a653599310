// The agent's stack walker: DWARF call-frame rules (call_frame_info.h),
// cached per code address in a lock-free table shared by all threads, applied
// to the calling thread's registers. No lock, no loader call, no allocation:
// safe in a thread that holds the loader's lock or any lock of the host's.
//
// Every read of the stack is bounded: inside the stack the walk starts on
// (checked once per thread with mincore, never with a call that takes a
// lock) it is a plain load; anywhere else (a signal's alternate stack, a
// coroutine's) each new page is checked first, so a wrong rule cuts a stack
// short and never faults.
#pragma once

#include <cstdint>

namespace heapdrift::agent {

// Return addresses of the caller's stack, innermost first: frames[0] is where
// the function that called CaptureFrames returns to. A frame that a signal
// interrupted is its exact address plus one, so that, like the others, it
// is symbolized at frame - 1.
uint32_t CaptureFrames(uintptr_t* frames, uint32_t max_depth);

// Where a walk may start instead: a function's caller, as the function
// itself sees it on entry (HD_CALLER_FRAME). Starting there skips the rule
// lookups of the frames in between (the agent's own, ~5 cache misses per
// sample: the rule cache is cold by the time the next sample comes).
struct CallerFrame {
  uintptr_t return_address;  // into the caller
  uintptr_t stack_pointer;   // the caller's RSP once the call returns
  uintptr_t frame_pointer;   // the caller's RBP at the call
};

// In the function whose caller is wanted (not in a helper: its frame would be
// the one seen). __builtin_frame_address(0) makes the compiler keep RBP as
// this function's frame pointer: [RBP] is the caller's RBP, [RBP + 8] the
// return address, RBP + 16 the caller's RSP after the return. A tail call
// into the function changes nothing: the caller is then the one it returns
// to, and the walk from there is the same.
#define HD_CALLER_FRAME()                                                                   \
  ::heapdrift::agent::CallerFrame {                                                        \
    reinterpret_cast<uintptr_t>(__builtin_return_address(0)),                              \
        reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) + 2 * sizeof(uintptr_t),   \
        *static_cast<const uintptr_t*>(__builtin_frame_address(0))                         \
  }

// The caller's stack from `caller` outwards: frames[0] is caller.return_address.
uint32_t CaptureFramesFrom(const CallerFrame& caller, uintptr_t* frames, uint32_t max_depth);

// Starts bringing in the cached rules of these return addresses' frames, all
// at once: a walk that meets them finds them in cache instead of waiting on
// one miss per frame, one after the other.
void PrefetchFrameRules(const uintptr_t* return_addresses, uint32_t count);

// Finds the top of the main thread's stack; from the constructor. Without it
// the main thread's stack is read page by page, each page checked.
void InitFrameUnwinder();

// Forgets every cached rule: code may have been unloaded and other code
// loaded at its addresses (the module registry calls this on dlclose).
void ForgetFrameRules();

}  // namespace heapdrift::agent
