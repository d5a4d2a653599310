// How to step from a frame to its caller, read from the compilers' DWARF
// call-frame information (.eh_frame, through the object's .eh_frame_hdr
// search table). The object holding a code address is found with
// _dl_find_object (glibc 2.35+), which is lock-free and async-signal-safe:
// nothing here calls dl_iterate_phdr, takes a lock or allocates, so a host
// thread may do this while holding any lock of its own or the loader's.
//
// x86-64 only, and only the rules compilers emit for ordinary code: the
// canonical frame address (CFA) is RSP or RBP plus an offset, the return
// address and RBP are saved at CFA-relative slots. Anything else (CFA
// expressions, registers saved in registers) yields "stop here": the stack
// is cut short, never walked wrong. Signal trampolines (glibc's __restore_rt)
// are recognised by their code, as libunwind and libgcc do.
#pragma once

#include <cstdint>

namespace heapdrift::agent {

struct FrameRule {
  enum Kind : uint8_t {
    kStop = 0,         // no usable rule, or the outermost frame (RA undefined)
    kCfaFromRsp = 1,   // CFA = RSP + cfa_offset
    kCfaFromRbp = 2,   // CFA = RBP + cfa_offset
    kSignalFrame = 3,  // the address is a sigreturn trampoline: registers are
                       // in the ucontext_t at RSP
  };
  Kind kind = kStop;
  bool rbp_saved = false;  // RBP was saved at CFA + rbp_offset (else unchanged)
  int32_t cfa_offset = 0;
  int32_t rbp_offset = 0;
  int32_t return_address_offset = 0;  // the return address is at CFA + this

  // Packed into 64 bits for the lock-free cache, and back.
  uint64_t Pack() const;
  static FrameRule Unpack(uint64_t packed);
};

// The callee-saved registers, in the order CalleeSavedRule keeps them.
enum CalleeSavedRegister : int {
  kSavedRbx, kSavedRbp, kSavedR12, kSavedR13, kSavedR14, kSavedR15, kCalleeSavedCount
};

// A frame's rule with where it saved each callee-saved register (cold: the
// exit-time leak scan recovers what its callers held; the stack walker
// needs RBP alone and caches FrameRule). `frame.kind` is kStop when any of
// them cannot be recovered.
struct CalleeSavedRule {
  FrameRule frame;
  bool saved[kCalleeSavedCount] = {};  // at CFA + saved_offset[i], else unchanged
  int64_t saved_offset[kCalleeSavedCount] = {};
};

// The rule for the frame executing at `pc`. `pc` is a return address minus
// one for caller frames (so it lies inside the call instruction), or the exact
// address for the innermost frame and for a frame a signal interrupted.
// `return_address` is the unadjusted address, checked for a trampoline.
FrameRule FindFrameRule(uintptr_t pc, uintptr_t return_address);
// The same with the callee-saved registers' places; never a signal frame.
CalleeSavedRule FindCalleeSavedRule(uintptr_t pc, uintptr_t return_address);

}  // namespace heapdrift::agent
