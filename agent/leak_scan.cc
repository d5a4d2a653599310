#include "leak_scan.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>

#include "agent.h"
#include "page_arena.h"
#include "real_alloc.h"

namespace heapdrift::agent {
namespace {

struct Block {
  uintptr_t begin, end;
  // glibc keeps, in its arena (libc's globals, scanned as roots), pointers to
  // the header of the chunk that follows a block, and that header lies in
  // the block's last usable bytes: such a word is allocator bookkeeping, not
  // a reference, and is ignored.
  uintptr_t next_chunk_header;
  uint32_t stack_id;
  uint32_t reachable;
};

class Marker {
 public:
  Marker(Block* blocks, uint32_t count, uint32_t* worklist)
      : blocks_(blocks), count_(count), worklist_(worklist) {}

  // Marks every block that a word in [begin, end) points into.
  void ScanRange(uintptr_t begin, uintptr_t end) {
    begin = (begin + sizeof(uintptr_t) - 1) & ~(sizeof(uintptr_t) - 1);
    for (uintptr_t word = begin; word + sizeof(uintptr_t) <= end; word += sizeof(uintptr_t)) {
      uintptr_t value = *reinterpret_cast<const uintptr_t*>(word);
      if (value < lowest_ || value >= highest_) continue;
      Block* found = std::upper_bound(blocks_, blocks_ + count_, value,
                                      [](uintptr_t v, const Block& b) { return v < b.begin; });
      if (found == blocks_) continue;
      --found;
      if (value >= found->end || found->reachable || value == found->next_chunk_header) continue;
      found->reachable = 1;
      worklist_[pending_++] = static_cast<uint32_t>(found - blocks_);
    }
  }

  // Scans the contents of reachable blocks until nothing new is marked.
  void Propagate() {
    while (pending_ > 0) {
      const Block& block = blocks_[worklist_[--pending_]];
      ScanRange(block.begin, block.end);
    }
  }

  void SetBounds() {
    lowest_ = count_ > 0 ? blocks_[0].begin : 0;
    highest_ = 0;
    for (uint32_t i = 0; i < count_; ++i) highest_ = std::max(highest_, blocks_[i].end);
  }

 private:
  Block* blocks_;
  uint32_t count_;
  uint32_t* worklist_;  // each block is pushed at most once: count_ entries suffice
  uint32_t pending_ = 0;
  uintptr_t lowest_ = 0, highest_ = 0;
};

struct RootWalk {
  Marker* marker;
  uintptr_t agent_base;  // load address of the agent itself: never a root
};

// Globals: writable PT_LOAD segments; thread-local storage: the PT_TLS block
// of the calling thread. The agent's own segments are skipped.
int ScanObjectRoots(dl_phdr_info* object, size_t, void* data) {
  auto* walk = static_cast<RootWalk*>(data);
  if (object->dlpi_addr == walk->agent_base) return 0;
  for (int i = 0; i < object->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = object->dlpi_phdr[i];
    uintptr_t start = object->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W) != 0) {
      walk->marker->ScanRange(start, start + ph.p_memsz);
    } else if (ph.p_type == PT_TLS && object->dlpi_tls_data != nullptr) {
      auto tls = reinterpret_cast<uintptr_t>(object->dlpi_tls_data);
      walk->marker->ScanRange(tls, tls + ph.p_memsz);
    }
  }
  return 0;
}

// Top of the calling thread's stack. (For the main thread glibc reads
// /proc/self/maps, allocating: fine at exit, inside the agent.)
uintptr_t StackTop() {
  pthread_attr_t attributes;
  void* low = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return 0;
  pthread_attr_getstack(&attributes, &low, &size);
  pthread_attr_destroy(&attributes);
  return reinterpret_cast<uintptr_t>(low) + size;
}

}  // namespace

bool ScanForLeaks(LeakTotals* totals, uint32_t max_stacks, const void* stack_from) {
  uint64_t live = g_agent.live.size();
  uint64_t capacity = live + 4096;  // blocks may be added while we copy
  size_t block_bytes = sizeof(Block) * capacity;
  size_t worklist_bytes = sizeof(uint32_t) * capacity;
  auto* blocks = static_cast<Block*>(MapPages(block_bytes));
  auto* worklist = static_cast<uint32_t*>(MapPages(worklist_bytes));
  if (blocks == nullptr || worklist == nullptr) {
    UnmapPages(blocks, block_bytes);
    UnmapPages(worklist, worklist_bytes);
    return false;
  }
  const bool glibc = RealAllocatorIsGlibc();
  uint32_t count = 0;
  g_agent.live.ForEach([&](uintptr_t address, const LiveBlock& block) {
    if (count >= capacity) return;
    uintptr_t usable = glibc ? g_real.malloc_usable_size(reinterpret_cast<void*>(address)) : 0;
    blocks[count++] = Block{address, address + (block.size > 0 ? block.size : 1),
                            glibc ? address + usable - 8 : 0, block.stack_id, 0};
  });
  std::sort(blocks, blocks + count, [](const Block& a, const Block& b) { return a.begin < b.begin; });

  Marker marker(blocks, count, worklist);
  marker.SetBounds();
  RootWalk walk{&marker, ~uintptr_t{0}};
  Dl_info self{};
  if (dladdr(reinterpret_cast<const void*>(&ScanForLeaks), &self) != 0) {
    walk.agent_base = reinterpret_cast<uintptr_t>(self.dli_fbase);
  }
  dl_iterate_phdr(ScanObjectRoots, &walk);
  uintptr_t from = reinterpret_cast<uintptr_t>(stack_from);
  uintptr_t top = StackTop();
  if (top > from) marker.ScanRange(from, top);
  marker.Propagate();

  for (uint32_t i = 0; i < count; ++i) {
    const Block& block = blocks[i];
    if (block.stack_id >= max_stacks) continue;
    LeakTotals& total = totals[block.stack_id];
    double bytes = static_cast<double>(block.end - block.begin);
    if (block.reachable) {
      total.reachable_bytes += bytes;
      total.reachable_objects += 1;
    } else {
      total.leaked_bytes += bytes;
      total.leaked_objects += 1;
    }
  }
  UnmapPages(blocks, block_bytes);
  UnmapPages(worklist, worklist_bytes);
  return true;
}

}  // namespace heapdrift::agent
