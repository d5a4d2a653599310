// The agent's entire per-thread state: one small, zero-initialised, trivially
// destructible block in initial-exec TLS.
//
// Why initial-exec: any other TLS model may call __tls_get_addr, which can
// malloc on a thread's first access or after a dlopen, recursing into our own
// hooks. Why trivially destructible: glibc keeps calling free() after TLS
// destructors have run at thread exit; a thread_local with a destructor would
// be resurrected on freed memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace heapdrift::agent {

class EventRing;

struct ThreadState {
  // Bytes left until the next sampled allocation; the hot path's only write.
  // Zero-initialised, so a thread's first allocation takes the slow path and
  // draws a real countdown.
  int64_t bytes_until_sample;
  // Mean interval R in force when bytes_until_sample was drawn: the weight of
  // the sample it triggers must use that R to stay unbiased.
  uint64_t interval_at_draw;
  uint64_t rng_state;
  EventRing* ring;
  // Non-zero while this thread runs agent code; allocations made meanwhile
  // (by the agent, or by a signal handler that interrupted it) pass through.
  uint32_t in_agent;
  // Set once the thread has handed its ring back at exit: later events on
  // this thread take the ring-free paths.
  uint32_t ring_retired;
  uint32_t exit_destructor_rounds;
  // The stack id of this thread's last sample plus one (0: none yet): the
  // next sample's walk asks for its frames' rules ahead (hooks.cc).
  uint32_t last_stack_plus_one;
  // The part of the thread's stack known to be mapped, [stack_low,
  // stack_high): grown by the unwinder as walks go deeper.
  uintptr_t stack_low;
  uintptr_t stack_high;
};

// The hot path's one field first, the whole state in one cache line, and
// nothing that would need a TLS destructor (see above).
static_assert(offsetof(ThreadState, bytes_until_sample) == 0);
static_assert(sizeof(ThreadState) <= 64);
static_assert(std::is_trivially_destructible_v<ThreadState>);
static_assert(std::is_standard_layout_v<ThreadState>);

extern __thread ThreadState tls_state __attribute__((tls_model("initial-exec")));

// Marks the current thread as running agent code for the scope's lifetime.
class InAgentScope {
 public:
  InAgentScope() : previous_(tls_state.in_agent) { tls_state.in_agent = 1; }
  ~InAgentScope() { tls_state.in_agent = previous_; }
  InAgentScope(const InAgentScope&) = delete;
  InAgentScope& operator=(const InAgentScope&) = delete;

 private:
  uint32_t previous_;
};

}  // namespace heapdrift::agent
