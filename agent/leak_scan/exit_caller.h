// What the thread that called exit() still held when it called it, for the
// exit-time leak scan: its callee-saved registers and its stack from the
// call up. The stack below that point holds exit's own frames and the dead
// frames of functions that returned before exit was called; a pointer left
// there is not a reference (LeakSanitizer bounds its scan the same way: its
// exit_atexit_stale_stack test).
#pragma once

#include <cstdint>

#include "call_frame_info.h"

namespace heapdrift::agent {

struct ExitCaller {
  uintptr_t stack_pointer;                   // the caller's, once exit returned
  uintptr_t registers[kCalleeSavedCount];    // RBX, RBP, R12-R15 as it held them
};

// Walks the calling thread's stack by its DWARF rules up to the frame of the
// C library's exit(). False if there is no such frame (not called under
// exit) or a frame on the way has no rule for its registers: the caller then
// scans its whole stack as before.
bool FindExitCaller(ExitCaller* out);

}  // namespace heapdrift::agent
