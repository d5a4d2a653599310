// Stack capture for sampled allocations.
//
// The unwinder is libunwind (Debian's libunwind.so.8, whose unw_backtrace walks
// DWARF CFI through a per-thread cache: ~0.2-0.5 us warm). It is loaded with
// dlopen(RTLD_LOCAL) rather than linked: Debian builds it with its own
// _Unwind_* exception runtime, and as a link-time dependency of a preloaded
// library those symbols would take over C++ exception handling in any host
// that loads libstdc++ later. If it cannot be loaded, capture falls back to
// libgcc's _Unwind_Backtrace, linked statically and privately into the agent.
//
// Call only with the thread marked in-agent (the unwinder may allocate on its
// first use per thread) and with no agent lock held (it takes the loader lock).
#pragma once

#include <cstdint>

namespace heapdrift::agent {

// Resolves the unwinder; once, from the library constructor. Returns false and
// keeps the fallback when libunwind is unavailable.
bool LoadUnwinder();

// Frames belonging to [begin, end) at the top of a captured stack are the
// agent's own and are cut off (by address, not by count: inlining changes counts).
void SetAgentTextRange(uintptr_t begin, uintptr_t end);

// Executable address range of the loaded object that contains `address`.
bool AgentTextRangeOf(const void* address, uintptr_t* begin, uintptr_t* end);

// Captures up to `max_depth` return addresses of the calling thread, innermost
// first, starting at the first frame outside the agent and the unwinder.
uint32_t CaptureStack(uintptr_t* frames, uint32_t max_depth);

}  // namespace heapdrift::agent
