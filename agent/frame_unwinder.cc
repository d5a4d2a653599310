#include "frame_unwinder.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstring>

#include "call_frame_info.h"
#include "compiler.h"
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

FrameRule CachedRule(uintptr_t pc, uintptr_t return_address) {
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

// Reads of the stack, bounded as the header says.
class StackReader {
 public:
  StackReader() {
    ThreadState& state = tls_state;
    if (state.stack_high == 0) FindThreadStack(&state);
    low_ = state.stack_low;
    high_ = state.stack_high;
  }

  // Other frames' slots: not this function's to read as far as AddressSanitizer
  // knows, though always mapped (the unit tests run under it).
  __attribute__((no_sanitize_address)) bool Read(uintptr_t address, uintptr_t* value) {
    if (address % sizeof(uintptr_t) != 0) return false;
    bool on_own_stack = high_ >= low_ + sizeof(uintptr_t) && address >= low_ &&
                        address <= high_ - sizeof(uintptr_t);
    if (!on_own_stack &&
        !(address >= checked_page_ && address < checked_page_ + kPage) && !CheckPage(address)) {
      return false;
    }
    *value = *reinterpret_cast<const uintptr_t*>(address);
    return true;
  }

 private:
  static constexpr uintptr_t kPage = 4096;

  bool CheckPage(uintptr_t address) {
    uintptr_t page = address & ~(kPage - 1);
    uintptr_t probe = 0;
    iovec local{&probe, sizeof(probe)};
    iovec remote{reinterpret_cast<void*>(page), sizeof(probe)};
    if (syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0) !=
        static_cast<long>(sizeof(probe))) {
      return false;
    }
    checked_page_ = page;
    return true;
  }

  // Once per thread. pthread_getattr_np allocates (the thread is in-agent)
  // and, for the main thread, reads /proc/self/maps; a failure leaves every
  // read to CheckPage.
  static void FindThreadStack(ThreadState* state) {
    state->stack_high = 1;  // tried
    pthread_attr_t attributes;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0) return;
    void* base = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attributes, &base, &size) == 0 && base != nullptr) {
      state->stack_low = reinterpret_cast<uintptr_t>(base);
      state->stack_high = state->stack_low + size;
    }
    pthread_attr_destroy(&attributes);
  }

  uintptr_t low_ = 0, high_ = 0;
  uintptr_t checked_page_ = 0;
};

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
  StackReader stack;
  bool exact_pc = true;  // the innermost frame and interrupted ones are not return addresses
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

void ForgetFrameRules() {
  for (CacheEntry& entry : g_cache) {
    entry.rule.store(0, std::memory_order_relaxed);
    entry.key_xor_rule.store(0, std::memory_order_relaxed);
  }
}

}  // namespace heapdrift::agent
