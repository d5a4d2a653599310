#include "leak_scan.h"

#include <dlfcn.h>
#include <link.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "agent.h"
#include "live_table.h"
#include "memory_map.h"
#include "page_arena.h"
#include "real_alloc.h"
#include "world_stop.h"

namespace heapdrift::agent {
namespace {

enum class BlockState : uint32_t {
  kLeaked,     // no root reaches it (direct, once the indirect ones are marked)
  kReachable,
  kIndirect,   // leaked, and another leaked block points to it
  kAttributed, // indirect, counted under the direct leak that leads to it
};

struct Block {
  uintptr_t begin, end;
  // glibc keeps, in its arena (libc's globals, scanned as roots), pointers to
  // the header of the chunk that follows a block, and that header lies in
  // the block's last usable bytes: such a word is allocator bookkeeping, not
  // a reference, and is ignored (0: not known).
  uintptr_t next_chunk_header;
  uint32_t stack_id;
  BlockState state;
};

// glibc's non-main arenas live in heaps of HEAP_MAX_SIZE (64 MiB on 64-bit
// targets), each mapped at a multiple of its size.
constexpr uintptr_t kGlibcHeapAlignment = uintptr_t{64} << 20;
// Blocks this large may be munmap'ed by a thread still running during exit:
// they are read through process_vm_readv, which fails instead of faulting.
constexpr uintptr_t kCopyBlocksFrom = 64 << 10;
constexpr size_t kMaxExcludedRegions = 320;
// Stopped threads past this many have their whole stacks read (dead frames
// included): a stale pointer there can only hide a leak.
constexpr size_t kMaxStackTops = 4096 + 1;
constexpr uintptr_t kRedZone = 128;

// What a word that points into a block does to it.
enum class Phase {
  kMarkReachable,   // roots and reachable blocks: a leaked block becomes reachable
  kMarkIndirect,    // a leaked block's contents: another leaked block becomes indirect
  kAttribute,       // from a direct leak: an indirect block is counted under it
};

class Marker {
 public:
  Marker(Block* blocks, uint32_t count, uint32_t* worklist)
      : blocks_(blocks), count_(count), worklist_(worklist) {
    lowest_ = count_ > 0 ? blocks_[0].begin : 0;
    for (uint32_t i = 0; i < count_; ++i) highest_ = std::max(highest_, blocks_[i].end);
  }

  // Marks every block that a word in [begin, end) points into. The memory
  // must stay mapped while it is read.
  void ScanRange(uintptr_t begin, uintptr_t end) {
    begin = AlignUp(begin);
    for (uintptr_t word = begin; word + sizeof(uintptr_t) <= end; word += sizeof(uintptr_t)) {
      Consider(*reinterpret_cast<const uintptr_t*>(word));
    }
  }

  // The same for memory that another thread might unmap meanwhile: copied
  // through the kernel a chunk at a time; unreadable pages are skipped.
  void ScanRangeCopied(uintptr_t begin, uintptr_t end) {
    begin = AlignUp(begin);
    while (begin + sizeof(uintptr_t) <= end) {
      size_t want = std::min<uintptr_t>(sizeof(copy_), (end - begin) & ~(sizeof(uintptr_t) - 1));
      iovec local{copy_, want}, remote{reinterpret_cast<void*>(begin), want};
      ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
      if (got < 0 && (errno == ENOSYS || errno == EPERM)) {  // sandboxed: read directly
        ScanRange(begin, end);
        return;
      }
      if (got <= 0) {  // the page is gone: go on at the next one
        begin = (begin | (kPageSize - 1)) + 1;
        continue;
      }
      for (size_t i = 0; i < static_cast<size_t>(got) / sizeof(uintptr_t); ++i) Consider(copy_[i]);
      begin += static_cast<uintptr_t>(got);
    }
  }

  // Scans [begin, end) except the live blocks in it (they count only once
  // something reaches them) and the excluded regions.
  void ScanAroundBlocks(uintptr_t begin, uintptr_t end, const PageRegion* excluded,
                        size_t excluded_count) {
    uintptr_t at = begin;
    while (at < end) {
      uintptr_t stop = end;
      const Block* next = std::lower_bound(
          blocks_, blocks_ + count_, at, [](const Block& b, uintptr_t v) { return b.end <= v; });
      if (next != blocks_ + count_ && next->begin <= at) {
        at = next->end;
        continue;
      }
      if (next != blocks_ + count_) stop = std::min(stop, next->begin);
      bool skipped = false;
      for (size_t i = 0; i < excluded_count; ++i) {
        const PageRegion& region = excluded[i];
        if (region.begin <= at && at < region.end) {
          at = region.end;
          skipped = true;
          break;
        }
        if (region.begin > at) stop = std::min(stop, region.begin);
      }
      if (skipped) continue;
      ScanRangeCopied(at, stop);
      at = stop;
    }
  }

  // True if a live block starts in [begin, end).
  bool HoldsBlock(uintptr_t begin, uintptr_t end) const {
    const Block* next = std::lower_bound(
        blocks_, blocks_ + count_, begin, [](const Block& b, uintptr_t v) { return b.begin < v; });
    return next != blocks_ + count_ && next->begin < end;
  }

  // While any thread of the program runs, it may free a block (and its
  // allocator unmap the pages under it) while the scan reads it: every read
  // then goes through the kernel.
  void SetOthersRunning(bool running) { others_running_ = running; }

  // Memory that stays mapped while nothing else runs: globals, this thread's TLS.
  void ScanStableRange(uintptr_t begin, uintptr_t end) {
    if (others_running_) {
      ScanRangeCopied(begin, end);
    } else {
      ScanRange(begin, end);
    }
  }

  // Scans the contents of the blocks marked until nothing new is marked.
  void Propagate() {
    while (pending_ > 0) ScanBlock(blocks_[worklist_[--pending_]]);
  }

  // After the reachable blocks are marked: every leaked block that another
  // leaked block points to becomes indirect. One pass suffices, as every
  // leaked block's contents are read once, whatever it was marked since.
  void MarkIndirect() {
    phase_ = Phase::kMarkIndirect;
    for (uint32_t i = 0; i < count_; ++i) {
      if (blocks_[i].state == BlockState::kReachable) continue;
      scanning_ = &blocks_[i];
      ScanBlock(blocks_[i]);
    }
  }

  // Counts each indirect block once, into `out` (room for every indirect
  // block), under the first direct leak, by address, that leads to it; the
  // rest (held only by leaked cycles) under none. Returns the entries made.
  uint32_t AttributeIndirect(IndirectLeakTotals* out) {
    phase_ = Phase::kAttribute;
    out_ = out;
    out_count_ = 0;
    for (uint32_t i = 0; i < count_; ++i) {
      if (blocks_[i].state != BlockState::kLeaked) continue;
      root_stack_ = blocks_[i].stack_id;
      ScanBlock(blocks_[i]);
      Propagate();
    }
    root_stack_ = kNoRootStack;
    for (uint32_t i = 0; i < count_; ++i) {
      if (blocks_[i].state == BlockState::kIndirect) Attribute(blocks_[i]);
    }
    return out_count_;
  }

 private:
  static constexpr uintptr_t kPageSize = 4096;
  static uintptr_t AlignUp(uintptr_t address) {
    return (address + sizeof(uintptr_t) - 1) & ~(sizeof(uintptr_t) - 1);
  }

  void ScanBlock(const Block& block) {
    if (others_running_ || block.end - block.begin >= kCopyBlocksFrom) {
      ScanRangeCopied(block.begin, block.end);
    } else {
      ScanRange(block.begin, block.end);
    }
  }

  void Consider(uintptr_t value) {
    if (value < lowest_ || value >= highest_) return;
    Block* found = std::upper_bound(blocks_, blocks_ + count_, value,
                                    [](uintptr_t v, const Block& b) { return v < b.begin; });
    if (found == blocks_) return;
    --found;
    if (value >= found->end || value == found->next_chunk_header) return;
    switch (phase_) {
      case Phase::kMarkReachable:
        if (found->state != BlockState::kLeaked) return;
        found->state = BlockState::kReachable;
        break;
      case Phase::kMarkIndirect:
        // A pointer to itself does not make a block indirect.
        if (found->state == BlockState::kLeaked && found != scanning_) {
          found->state = BlockState::kIndirect;
        }
        return;
      case Phase::kAttribute:
        if (found->state != BlockState::kIndirect) return;
        Attribute(*found);
        break;
    }
    // Each block is pushed at most once per phase that pushes, and leaves
    // the state that lets it be pushed: count_ entries suffice.
    worklist_[pending_++] = static_cast<uint32_t>(found - blocks_);
  }

  void Attribute(Block& block) {
    block.state = BlockState::kAttributed;
    out_[out_count_++] = {block.stack_id, root_stack_,
                          static_cast<double>(block.end - block.begin), 1};
  }

  Block* blocks_;
  uint32_t count_;
  uint32_t* worklist_;
  uint32_t pending_ = 0;
  uintptr_t lowest_ = 0, highest_ = 0;
  Phase phase_ = Phase::kMarkReachable;
  bool others_running_ = true;
  const Block* scanning_ = nullptr;  // kMarkIndirect: the block whose contents are read
  uint32_t root_stack_ = kNoRootStack;  // kAttribute: the direct leak's stack
  IndirectLeakTotals* out_ = nullptr;
  uint32_t out_count_ = 0;
  uintptr_t copy_[8192];
};

// Sorts the per-block entries by (stack, root) and merges equal ones.
uint32_t MergeIndirect(IndirectLeakTotals* entries, uint32_t count) {
  auto key = [](const IndirectLeakTotals& e) {
    return (uint64_t{e.stack_id} << 32) | e.root_stack_id;
  };
  std::sort(entries, entries + count,
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  uint32_t merged = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (merged > 0 && key(entries[merged - 1]) == key(entries[i])) {
      entries[merged - 1].bytes += entries[i].bytes;
      entries[merged - 1].objects += entries[i].objects;
    } else {
      entries[merged++] = entries[i];
    }
  }
  return merged;
}

// The roots found before the world stops (dl_iterate_phdr and dladdr take
// the loader's lock, which a stopped thread may hold), and the stacks'
// live tops once it has.
struct RootWalk {
  Marker* marker;
  uintptr_t agent_base;  // load address of the agent itself: never a root
  // Where each known thread's live stack begins (the exiting thread's
  // caller of exit(), a stopped thread's stack pointer less the red zone),
  // sorted: below it are dead frames.
  uintptr_t stack_tops[kMaxStackTops];
  size_t stack_top_count;
  bool glibc;
  PageRegion excluded[kMaxExcludedRegions];  // sorted by begin
  size_t excluded_count;
  PageRegion* object_ranges;  // globals and this thread's TLS
  size_t object_range_count, object_range_capacity;
};

int CountObjectRanges(dl_phdr_info* object, size_t, void* data) {
  *static_cast<size_t*>(data) += static_cast<size_t>(object->dlpi_phnum);
  return 0;
}

// Globals: writable PT_LOAD segments; thread-local storage: the PT_TLS block
// of the calling thread. The agent's own segments are excluded.
int CollectObjectRoots(dl_phdr_info* object, size_t, void* data) {
  auto* walk = static_cast<RootWalk*>(data);
  for (int i = 0; i < object->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = object->dlpi_phdr[i];
    uintptr_t start = object->dlpi_addr + ph.p_vaddr;
    PageRegion range{};
    if (object->dlpi_addr == walk->agent_base) {
      if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W) != 0 &&
          walk->excluded_count < kMaxExcludedRegions) {
        walk->excluded[walk->excluded_count++] = {start & ~uintptr_t{4095},
                                                  (start + ph.p_memsz + 4095) & ~uintptr_t{4095}};
      }
      continue;
    } else if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W) != 0) {
      range = {start, start + ph.p_memsz};
    } else if (ph.p_type == PT_TLS && object->dlpi_tls_data != nullptr) {
      auto tls = reinterpret_cast<uintptr_t>(object->dlpi_tls_data);
      range = {tls, tls + ph.p_memsz};
    } else {
      continue;
    }
    // Room for every program header was counted beforehand.
    if (walk->object_range_count < walk->object_range_capacity) {
      walk->object_ranges[walk->object_range_count++] = range;
    }
  }
  return 0;
}

// Private writable memory that is neither a loaded object's file nor malloc's.
void ScanMappingRoots(const MemoryMapping& mapping, void* data) {
  auto* walk = static_cast<RootWalk*>(data);
  if (!mapping.readable || !mapping.writable || mapping.shared) return;
  bool anonymous = mapping.path_length == 0 || mapping.path[0] == '[';
  if (!anonymous || mapping.PathIs("[vvar]") || mapping.PathIs("[vdso]") ||
      mapping.PathIs("[vsyscall]")) {
    return;
  }
  uintptr_t begin = mapping.begin;
  if (mapping.PathIs("[heap]")) {
    // Only the part that was there before the agent started: the blocks
    // allocated by constructors that ran before ours (a library's registry,
    // say) are invisible to it, and what they point to is not leaked.
    uintptr_t early_end = std::min(mapping.end, g_agent.heap_end_at_start);
    if (early_end > begin) {
      walk->marker->ScanAroundBlocks(begin, early_end, walk->excluded, walk->excluded_count);
    }
    return;
  }
  const uintptr_t* tops_end = walk->stack_tops + walk->stack_top_count;
  const uintptr_t* top = std::lower_bound(static_cast<const uintptr_t*>(walk->stack_tops), tops_end, begin);
  size_t tops_inside = 0;
  for (const uintptr_t* at = top; at != tops_end && *at < mapping.end; ++at) ++tops_inside;
  if (tops_inside == 1) {
    begin = *top;  // one thread's stack: below its top are dead frames
  } else if (tops_inside > 1) {
    // Several threads' stacks in one mapping (a runtime's own stacks): where
    // one ends is unknown, so all of it is read.
  } else if (walk->glibc && begin % kGlibcHeapAlignment == 0 &&
             walk->marker->HoldsBlock(begin, mapping.end)) {
    return;  // one of glibc's arena heaps
  }
  walk->marker->ScanAroundBlocks(begin, mapping.end, walk->excluded, walk->excluded_count);
}

}  // namespace

LeakScanResult::~LeakScanResult() {
  UnmapPages(totals, sizeof(LeakTotals) * max_stacks);
  UnmapPages(indirect, indirect_capacity);
}

bool ScanForLeaks(uint32_t max_stacks, const ExitingThreadRoots& exiting, LeakScanResult* result) {
  result->max_stacks = max_stacks;
  result->totals = static_cast<LeakTotals*>(MapPages(sizeof(LeakTotals) * max_stacks));
  if (result->totals == nullptr) return false;
  LeakTotals* totals = result->totals;
  size_t object_ranges = 0;
  dl_iterate_phdr(CountObjectRanges, &object_ranges);
  size_t object_range_bytes = sizeof(PageRegion) * (object_ranges + 1);
  uint64_t live = g_live_table.size();
  uint64_t capacity = live + 4096;  // blocks may be added until the world stops
  size_t block_bytes = sizeof(Block) * capacity;
  size_t worklist_bytes = sizeof(uint32_t) * capacity;
  auto* blocks = static_cast<Block*>(MapPages(block_bytes));
  auto* worklist = static_cast<uint32_t*>(MapPages(worklist_bytes));
  auto* marker_memory = MapPages(sizeof(Marker));
  auto* walk = static_cast<RootWalk*>(MapPages(sizeof(RootWalk)));
  auto* object_range_memory = static_cast<PageRegion*>(MapPages(object_range_bytes));
  bool mapped = blocks != nullptr && worklist != nullptr && marker_memory != nullptr &&
                walk != nullptr && object_range_memory != nullptr;
  if (mapped) {
    const bool glibc = RealAllocatorIsGlibc();
    walk->agent_base = ~uintptr_t{0};
    walk->glibc = glibc;
    Dl_info self{};
    if (dladdr(reinterpret_cast<const void*>(&ScanForLeaks), &self) != 0) {
      walk->agent_base = reinterpret_cast<uintptr_t>(self.dli_fbase);
    }
    // Globals and this thread's TLS; the agent's writable segments are
    // collected as exclusions on the way.
    walk->excluded_count = 0;
    walk->object_ranges = object_range_memory;
    walk->object_range_count = 0;
    walk->object_range_capacity = object_ranges + 1;
    dl_iterate_phdr(CollectObjectRoots, walk);

    WorldStop world;
    const bool stopped = world.Stop();
    result->threads_stopped = static_cast<uint32_t>(world.stopped_count());
    result->threads_running = static_cast<uint32_t>(world.running_count());

    // A thread still running may free a block between its lookup here and
    // malloc_usable_size's read of its header, and the allocator unmap it:
    // then the allocator's size is not asked (what it served for is below).
    const bool others_running = !stopped || world.running_count() > 0;
    const bool ask_allocator = glibc && !others_running;
    uint32_t count = 0;
    g_live_table.ForEach([&](uintptr_t address, const LiveBlock& block) {
      if (count >= capacity) return;
      uintptr_t usable =
          ask_allocator ? g_real.malloc_usable_size(reinterpret_cast<void*>(address)) : 0;
      uintptr_t size = block.size > 0 ? block.size : 1;
      // A size larger than the allocator's is a value torn by a fork
      // (LiveTable::AdoptAfterFork): never read past the block.
      if (ask_allocator && size > usable) size = usable > 0 ? usable : 1;
      blocks[count++] = Block{address, address + size, ask_allocator ? address + usable - 8 : 0,
                              block.stack_id, BlockState::kLeaked};
    });
    std::sort(blocks, blocks + count,
              [](const Block& a, const Block& b) { return a.begin < b.begin; });

    auto* marker = new (marker_memory) Marker(blocks, count, worklist);
    marker->SetOthersRunning(others_running);
    walk->marker = marker;
    marker->ScanRange(reinterpret_cast<uintptr_t>(exiting.registers),
                      reinterpret_cast<uintptr_t>(exiting.registers + exiting.register_count));
    walk->stack_top_count = 0;
    walk->stack_tops[walk->stack_top_count++] = exiting.stack_from;
    for (size_t i = 0; i < world.stopped_count(); ++i) {
      const StoppedThread& thread = world.stopped()[i];
      marker->ScanRange(reinterpret_cast<uintptr_t>(thread.registers),
                        reinterpret_cast<uintptr_t>(thread.registers + kStoppedRegisters));
      // Leaf functions may keep data in the 128 bytes below the stack
      // pointer (the x86-64 red zone); the signal frame lies below those.
      if (thread.stack_pointer > kRedZone && walk->stack_top_count < kMaxStackTops) {
        walk->stack_tops[walk->stack_top_count++] = thread.stack_pointer - kRedZone;
      }
    }
    std::sort(walk->stack_tops, walk->stack_tops + walk->stack_top_count);
    for (size_t i = 0; i < walk->object_range_count; ++i) {
      marker->ScanStableRange(walk->object_ranges[i].begin, walk->object_ranges[i].end);
    }
    walk->excluded_count += AgentRegions(walk->excluded + walk->excluded_count,
                                         kMaxExcludedRegions - walk->excluded_count);
    std::sort(walk->excluded, walk->excluded + walk->excluded_count,
              [](const PageRegion& a, const PageRegion& b) { return a.begin < b.begin; });
    ForEachMapping(ScanMappingRoots, walk);
    marker->Propagate();
    marker->MarkIndirect();

    uint32_t indirect_blocks = 0;
    for (uint32_t i = 0; i < count; ++i) {
      const Block& block = blocks[i];
      if (block.state == BlockState::kIndirect) {
        ++indirect_blocks;
        continue;
      }
      if (block.stack_id >= max_stacks) continue;
      LeakTotals& total = totals[block.stack_id];
      double bytes = static_cast<double>(block.end - block.begin);
      if (block.state == BlockState::kReachable) {
        total.reachable_bytes += bytes;
        total.reachable_objects += 1;
      } else {
        total.leaked_bytes += bytes;
        total.leaked_objects += 1;
      }
    }
    if (indirect_blocks > 0) {
      result->indirect_capacity = sizeof(IndirectLeakTotals) * indirect_blocks;
      result->indirect = static_cast<IndirectLeakTotals*>(MapPages(result->indirect_capacity));
      mapped = result->indirect != nullptr;
      if (mapped) {
        uint32_t entries = marker->AttributeIndirect(result->indirect);
        result->indirect_count = MergeIndirect(result->indirect, entries);
      }
    }
  }
  UnmapPages(blocks, block_bytes);
  UnmapPages(worklist, worklist_bytes);
  UnmapPages(marker_memory, sizeof(Marker));
  UnmapPages(walk, sizeof(RootWalk));
  UnmapPages(object_range_memory, object_range_bytes);
  return mapped;
}

}  // namespace heapdrift::agent
