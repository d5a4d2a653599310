#include "exit_caller.h"

#include <dlfcn.h>

#include <cstring>

#include "compiler.h"
#include "memory_map.h"

namespace heapdrift::agent {
namespace {

constexpr int kMaxFrames = 512;

// Whether `pc` lies in the C library's exit().
bool InExit(uintptr_t pc) {
  Dl_info info{};
  return dladdr(reinterpret_cast<void*>(pc), &info) != 0 && info.dli_sname != nullptr &&
         std::strcmp(info.dli_sname, "exit") == 0 && info.dli_fname != nullptr &&
         std::strstr(info.dli_fname, "libc.so") != nullptr;
}

struct StackBounds {
  uintptr_t pointer, begin, end;
};

}  // namespace

HD_NOINLINE bool FindExitCaller(ExitCaller* out) {
  uintptr_t pc, rsp;
  uintptr_t registers[kCalleeSavedCount];
  // This function's own frame is where the walk starts: its registers now,
  // and the rule for the instruction after the lea.
  asm volatile(
      "lea 0(%%rip), %0\n\t"
      "mov %%rsp, %1\n\t"
      "mov %%rbx, %2\n\t"
      "mov %%rbp, %3\n\t"
      "mov %%r12, %4\n\t"
      "mov %%r13, %5\n\t"
      "mov %%r14, %6\n\t"
      "mov %%r15, %7"
      : "=r"(pc), "=r"(rsp), "=m"(registers[0]), "=m"(registers[1]), "=m"(registers[2]),
        "=m"(registers[3]), "=m"(registers[4]), "=m"(registers[5]));
  // Every read stays inside the mapping this thread's stack pointer is in:
  // a wrong rule ends the walk, never faults.
  StackBounds stack{rsp, 0, 0};
  ForEachMapping(
      [](const MemoryMapping& mapping, void* context) {
        auto* bounds = static_cast<StackBounds*>(context);
        if (mapping.readable && mapping.begin <= bounds->pointer && bounds->pointer < mapping.end) {
          bounds->begin = mapping.begin;
          bounds->end = mapping.end;
        }
      },
      &stack);
  auto read = [&stack](uintptr_t address, uintptr_t* value) {
    if (address < stack.begin || address + sizeof(uintptr_t) > stack.end ||
        address % sizeof(uintptr_t) != 0) {
      return false;
    }
    std::memcpy(value, reinterpret_cast<const void*>(address), sizeof(uintptr_t));
    return true;
  };
  bool exact_pc = true;
  for (int frame = 0; frame < kMaxFrames; ++frame) {
    uintptr_t lookup = exact_pc ? pc : pc - 1;
    CalleeSavedRule rule = FindCalleeSavedRule(lookup, pc);
    if (rule.frame.kind != FrameRule::kCfaFromRsp && rule.frame.kind != FrameRule::kCfaFromRbp) {
      return false;
    }
    uintptr_t cfa = (rule.frame.kind == FrameRule::kCfaFromRsp ? rsp : registers[kSavedRbp]) +
                    static_cast<intptr_t>(rule.frame.cfa_offset);
    uintptr_t return_address = 0;
    if (cfa <= rsp || !read(cfa + rule.frame.return_address_offset, &return_address)) {
      return false;
    }
    for (int i = 0; i < kCalleeSavedCount; ++i) {
      if (rule.saved[i] && !read(cfa + rule.saved_offset[i], &registers[i])) return false;
    }
    bool leaving_exit = InExit(lookup);
    pc = return_address;
    rsp = cfa;
    exact_pc = false;
    if (leaving_exit) {
      out->stack_pointer = rsp;
      std::memcpy(out->registers, registers, sizeof(registers));
      return true;
    }
    if (return_address == 0) return false;
  }
  return false;
}

}  // namespace heapdrift::agent
