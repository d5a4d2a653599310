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

// Finds the top of the main thread's stack; from the constructor. Without it
// the main thread's stack is read page by page, each page checked.
void InitFrameUnwinder();

// Forgets every cached rule: code may have been unloaded and other code
// loaded at its addresses (the module registry calls this on dlclose).
void ForgetFrameRules();

}  // namespace heapdrift::agent
