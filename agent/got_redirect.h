// An agent that `heapdrift attach` loaded into a running process is not in
// anyone's symbol search order: every module already calls the malloc family
// through its own GOT slots, bound at start to the allocator's definitions.
// While a recording runs, those slots are pointed at the agent's entry points
// (interpose.cc), and given back their old values when it ends.
//
// Rules (../shared/research/attach-dossier.md §3):
// - Every module but the loader, the vDSO and the agent itself; JUMP_SLOT,
//   GLOB_DAT and absolute (R_X86_64_64, addend 0) relocations naming a
//   malloc-family function.
// - A slot is taken only if it holds the definition the agent forwards to
//   (g_real) or the module's own lazy-binding stub; anything else (a private
//   allocator, RTLD_DEEPBIND, a pointer the program changed) is left alone.
// - Each write is a compare-and-swap against the value seen, and a restore
//   puts back exactly that value, so a slot the program changed meanwhile is
//   never overwritten.
// - Free side first when redirecting, allocation side first when restoring:
//   a block the agent sampled is never freed past it while the recording
//   runs (that would be a false leak).
// - Each module is pinned (dlopen RTLD_NOLOAD) while its slots are written,
//   so that a concurrent dlclose cannot unmap it, and a module still being
//   loaded is waited for. Read-only (RELRO) pages are made writable for the
//   write and read-only again.
// Runs on the control thread only; never from a hook.
#pragma once

#include <cstdint>

namespace heapdrift::agent {

struct RedirectCounts {
  uint32_t modules = 0;          // modules with at least one slot redirected
  uint32_t slots = 0;            // slots redirected
  uint32_t slots_left_alone = 0; // matching slots that held something else
  uint32_t modules_refused = 0;  // modules whose read-only pages could not be written
};

// Redirects every loaded module's slots; the counts of what it did.
RedirectCounts RedirectAllocationCalls();
// Redirects the slots of modules loaded since the last call (cheap when
// none was: one look at the loader's load counter).
void RedirectCallsInNewModules();
// Gives every slot still held its old value (modules unloaded meanwhile are
// skipped); afterwards no slot points into the agent.
void RestoreAllocationCalls();
// Slots currently redirected.
uint32_t RedirectedSlotCount();

}  // namespace heapdrift::agent
