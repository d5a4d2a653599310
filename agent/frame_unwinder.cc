#include "frame_unwinder.h"

#include <sys/mman.h>
#include <sys/ucontext.h>

#include <atomic>
#include <cstddef>

#include "call_frame_info.h"
#include "compiler.h"
#include "memory_map.h"
#include "thread_state.h"

namespace heapdrift::agent {
namespace {

// The rule cache: direct-mapped, 2^14 entries of two words. A writer stores
// (key ^ rule, rule); a reader accepts an entry only if the two still agree
// on the key, so a torn read of a concurrent write is a miss, never a wrong
// rule (Hyatt's lockless hashing). Zero entries never match: no pc is zero.
constexpr uint32_t kCacheBits = 14;
struct CacheEntry {
  std::atomic<uint64_t> key_xor_rule;
  std::atomic<uint64_t> rule;
};
CacheEntry g_cache[1u << kCacheBits];

uint32_t Slot(uintptr_t pc) {
  return static_cast<uint32_t>((pc * 0x9e3779b97f4a7c15ull) >> (64 - kCacheBits));
}

HD_ALWAYS_INLINE FrameRule CachedRule(uintptr_t pc, uintptr_t return_address) {
  CacheEntry& entry = g_cache[Slot(pc)];
  uint64_t rule = entry.rule.load(std::memory_order_relaxed);
  if ((entry.key_xor_rule.load(std::memory_order_relaxed) ^ rule) == pc) {
    return FrameRule::Unpack(rule);
  }
  FrameRule found = FindFrameRule(pc, return_address);
  rule = found.Pack();
  entry.rule.store(rule, std::memory_order_relaxed);
  entry.key_xor_rule.store(pc ^ rule, std::memory_order_relaxed);
  return FrameRule::Unpack(rule);
}

uintptr_t g_main_stack_end = 0;  // top of the main thread's stack, from /proc/self/maps

constexpr uintptr_t kPage = 4096;
// A thread's used stack, from its deepest frame to its top, is far smaller.
constexpr uintptr_t kMaxStackSpan = uintptr_t{64} << 20;

// Whether every page of [begin, end) is mapped: mincore fails on a hole.
bool AllMapped(uintptr_t begin, uintptr_t end) {
  unsigned char residency[256];
  constexpr uintptr_t kChunk = sizeof(residency) * kPage;
  for (uintptr_t at = begin; at < end; at += kChunk) {
    uintptr_t length = end - at < kChunk ? end - at : kChunk;
    if (mincore(reinterpret_cast<void*>(at), length, residency) != 0) return false;
  }
  return true;
}

// Reads of the stack, bounded as the header says. The fast range is
// [the walk's first RSP, the top of the stack it runs on): a glibc thread's
// stack ends at its thread pointer (glibc puts the thread's descriptor and
// static TLS at the top of every thread's stack, its own or the caller's);
// the main thread's at the top of [stack]. It is checked once with mincore
// and remembered per thread; deeper walks check only the new pages. Any
// other stack (a coroutine's, a signal's alternate one) is read page by
// page, each checked first.
class StackReader {
 public:
  explicit StackReader(uintptr_t rsp) {
    ThreadState& state = tls_state;
    uintptr_t page = rsp & ~(kPage - 1);
    uintptr_t top = StackTop(rsp);
    if (top == 0) return;
    if (state.stack_high == top && page >= state.stack_low) {
      low_ = state.stack_low;
      high_ = top;
      return;
    }
    uintptr_t checked_from = state.stack_high == top ? state.stack_low : top;
    if (!AllMapped(page, checked_from)) return;
    state.stack_low = low_ = page;
    state.stack_high = high_ = top;
  }

  // Other frames' slots: not this function's to read as far as AddressSanitizer
  // knows, though always mapped (the unit tests run under it).
  __attribute__((no_sanitize_address)) bool Read(uintptr_t address, uintptr_t* value) {
    if (address % sizeof(uintptr_t) != 0) return false;
    bool in_range = (address >= low_ && address < high_) ||
                    (address >= checked_low_ && address < checked_high_);
    if (!in_range && !CheckPage(address)) return false;
    *value = *reinterpret_cast<const uintptr_t*>(address);
    return true;
  }

 private:
  static uintptr_t StackTop(uintptr_t rsp) {
    auto thread_pointer = reinterpret_cast<uintptr_t>(__builtin_thread_pointer());
    if (rsp < thread_pointer && thread_pointer - rsp <= kMaxStackSpan) return thread_pointer;
    if (rsp < g_main_stack_end && g_main_stack_end - rsp <= kMaxStackSpan) return g_main_stack_end;
    return 0;
  }

  // Walks read upwards: a page next above the checked ones extends them.
  bool CheckPage(uintptr_t address) {
    uintptr_t page = address & ~(kPage - 1);
    if (!AllMapped(page, page + kPage)) return false;
    if (page == checked_high_) {
      checked_high_ += kPage;
    } else {
      checked_low_ = page;
      checked_high_ = page + kPage;
    }
    return true;
  }

  uintptr_t low_ = 0, high_ = 0;                  // the stack the walk starts on
  uintptr_t checked_low_ = 0, checked_high_ = 0;  // pages checked during this walk
};

}  // namespace

namespace {

// The walk from registers (pc, rsp, rbp). `exact_pc`: pc is where the frame
// executes (the innermost frame), not a return address.
HD_ALWAYS_INLINE uint32_t Walk(uintptr_t pc, uintptr_t rsp, uintptr_t rbp, bool exact_pc,
                               uintptr_t* frames, uint32_t max_depth) {
  StackReader stack(rsp);
  uint32_t depth = 0;
  while (depth < max_depth) {
    uintptr_t lookup = exact_pc ? pc : pc - 1;
    FrameRule rule = CachedRule(lookup, pc);
    if (rule.kind == FrameRule::kSignalFrame) {
      // The kernel's rt_sigframe: the handler returned into the trampoline
      // with RSP at the ucontext_t.
      uintptr_t context = rsp + offsetof(ucontext_t, uc_mcontext.gregs);
      uintptr_t next_pc, next_rsp, next_rbp;
      if (!stack.Read(context + REG_RIP * sizeof(greg_t), &next_pc) ||
          !stack.Read(context + REG_RSP * sizeof(greg_t), &next_rsp) ||
          !stack.Read(context + REG_RBP * sizeof(greg_t), &next_rbp) || next_pc == 0) {
        break;
      }
      frames[depth++] = next_pc + 1;
      pc = next_pc;
      rsp = next_rsp;
      rbp = next_rbp;
      exact_pc = true;
      continue;
    }
    if (rule.kind == FrameRule::kStop) break;
    uintptr_t cfa = (rule.kind == FrameRule::kCfaFromRsp ? rsp : rbp) + rule.cfa_offset;
    uintptr_t return_address = 0;
    if (cfa <= rsp || !stack.Read(cfa + rule.return_address_offset, &return_address) ||
        return_address == 0) {
      break;
    }
    if (rule.rbp_saved && !stack.Read(cfa + rule.rbp_offset, &rbp)) break;
    frames[depth++] = return_address;
    pc = return_address;
    rsp = cfa;
    exact_pc = false;
  }
  return depth;
}

}  // namespace

HD_NOINLINE uint32_t CaptureFrames(uintptr_t* frames, uint32_t max_depth) {
  uintptr_t pc, rsp, rbp;
  // This function's own frame is where the walk starts: its registers now,
  // and the rule for the instruction after the lea.
  asm volatile(
      "lea 0(%%rip), %0\n\t"
      "mov %%rsp, %1\n\t"
      "mov %%rbp, %2"
      : "=r"(pc), "=r"(rsp), "=r"(rbp));
  return Walk(pc, rsp, rbp, true, frames, max_depth);
}

uint32_t CaptureFramesFrom(const CallerFrame& caller, uintptr_t* frames, uint32_t max_depth) {
  if (max_depth == 0 || caller.return_address == 0) return 0;
  frames[0] = caller.return_address;
  return 1 + Walk(caller.return_address, caller.stack_pointer, caller.frame_pointer, false,
                  frames + 1, max_depth - 1);
}

void PrefetchFrameRules(const uintptr_t* return_addresses, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) __builtin_prefetch(&g_cache[Slot(return_addresses[i] - 1)]);
}

void InitFrameUnwinder() {
  ForEachMapping(
      [](const MemoryMapping& mapping, void*) {
        if (mapping.PathIs("[stack]")) g_main_stack_end = mapping.end;
      },
      nullptr);
}

void ForgetFrameRules() {
  for (CacheEntry& entry : g_cache) {
    entry.rule.store(0, std::memory_order_relaxed);
    entry.key_xor_rule.store(0, std::memory_order_relaxed);
  }
}

}  // namespace heapdrift::agent
