#include "stack_capture.h"

#include <link.h>

#include "frame_unwinder.h"
#include "stack_table.h"

namespace heapdrift::agent {
namespace {

uintptr_t g_agent_begin = 0;
uintptr_t g_agent_end = 0;

}  // namespace

bool AgentTextRangeOf(const void* address, uintptr_t* begin, uintptr_t* end) {
  struct Query {
    uintptr_t address, begin, end;
  } query{reinterpret_cast<uintptr_t>(address), UINTPTR_MAX, 0};
  // Cold (the constructor): the loader's list is fine here.
  dl_iterate_phdr(
      [](dl_phdr_info* object, size_t, void* data) {
        auto* q = static_cast<Query*>(data);
        bool contains = false;
        uintptr_t text_begin = UINTPTR_MAX, text_end = 0;
        for (int i = 0; i < object->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = object->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          uintptr_t start = object->dlpi_addr + ph.p_vaddr;
          if (q->address >= start && q->address < start + ph.p_memsz) contains = true;
          if ((ph.p_flags & PF_X) == 0) continue;
          if (start < text_begin) text_begin = start;
          if (start + ph.p_memsz > text_end) text_end = start + ph.p_memsz;
        }
        if (!contains) return 0;
        q->begin = text_begin;
        q->end = text_end;
        return 1;
      },
      &query);
  if (query.end == 0) return false;
  *begin = query.begin;
  *end = query.end;
  return true;
}

void SetAgentTextRange(uintptr_t begin, uintptr_t end) {
  g_agent_begin = begin;
  g_agent_end = end;
}

namespace {

// Room for the agent's own frames on top.
constexpr uint32_t kOwnFrames = 16;

uint32_t WithoutOwnFrames(const uintptr_t* raw, uint32_t depth, uintptr_t* frames,
                          uint32_t max_depth) {
  uint32_t first = 0;
  while (first < depth && raw[first] >= g_agent_begin && raw[first] < g_agent_end) ++first;
  uint32_t kept = 0;
  for (uint32_t i = first; i < depth && kept < max_depth; ++i) frames[kept++] = raw[i];
  return kept;
}

constexpr uint32_t Wanted(uint32_t max_depth) {
  return (max_depth < StackTable::kMaxDepth ? max_depth : StackTable::kMaxDepth) + kOwnFrames;
}

}  // namespace

uint32_t CaptureStack(uintptr_t* frames, uint32_t max_depth) {
  uintptr_t raw[StackTable::kMaxDepth + kOwnFrames];
  return WithoutOwnFrames(raw, CaptureFrames(raw, Wanted(max_depth)), frames, max_depth);
}

uint32_t CaptureStackFrom(const CallerFrame& caller, uintptr_t* frames, uint32_t max_depth) {
  uintptr_t raw[StackTable::kMaxDepth + kOwnFrames];
  return WithoutOwnFrames(raw, CaptureFramesFrom(caller, raw, Wanted(max_depth)), frames,
                          max_depth);
}

}  // namespace heapdrift::agent
