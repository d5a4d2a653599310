// Interned call stacks: each distinct stack is stored once and named by a
// dense 32-bit id, so events and live blocks carry 4 bytes instead of a stack.
//
// Lock-free: host threads intern concurrently (CAS on an open-addressing index
// of ids); the collector reads records by id. Records live in a bump arena of
// mmap'd pages reserved for the worst case (max_stacks full-depth stacks), so
// memory is bounded and nothing ever moves. The last eighth of the ids is
// kept for stacks truncated to kTruncatedDepth frames: when full stacks have
// used up their share, a sample keeps its allocating frames (and its bytes
// are still counted) under its truncated stack. Only when both are exhausted
// does Intern fail and the caller drop the sample. Never allocates, never
// blocks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "cohorts.h"
#include "recording_format.h"

namespace heapdrift::agent {

struct StackRecord {
  uint64_t hash;
  uint32_t depth;
  uint32_t unused;
  // Events of this stack that could not go through a ring (see hooks.cc):
  // summed here atomically and folded in by the collector.
  std::atomic<double> spilled_freed_objects;
  std::atomic<double> spilled_freed_bytes;
  std::atomic<double> spilled_allocated_objects;
  std::atomic<double> spilled_allocated_bytes;
  // Spilled frees by the cohort their blocks were born in; spilled
  // allocations belong to the cohort in force when they are folded in.
  // Float: the collector empties them every drain period, so they stay
  // small, and the stack table stays within its reservation budget.
  std::atomic<float> spilled_freed_cohort_bytes[kCohorts];
  uintptr_t frames[];  // return addresses, innermost first
};

class StackTable {
 public:
  static constexpr uint32_t kMaxDepth = format::kMaxStackDepth;
  static constexpr uint32_t kInvalidId = UINT32_MAX;
  static constexpr uint32_t kTruncatedDepth = 8;

  bool Init(uint32_t max_stacks);

  // Id of the stack `frames[0..depth)`, interning it on first sight while
  // full stacks have ids left; kInvalidId otherwise.
  uint32_t Intern(const uintptr_t* frames, uint32_t depth) {
    return InternWithin(frames, depth, full_stack_ids_);
  }
  // The same for the innermost kTruncatedDepth frames, from the reserve.
  uint32_t InternTruncated(const uintptr_t* frames, uint32_t depth) {
    return InternWithin(frames, depth < kTruncatedDepth ? depth : kTruncatedDepth, max_stacks_);
  }

  // Ids handed out so far; a record may still be in flight (Get() == nullptr).
  uint32_t id_count() const {
    uint32_t issued = next_id_.load(std::memory_order_acquire);
    return issued < max_stacks_ ? issued : max_stacks_;
  }
  const StackRecord* Get(uint32_t id) const {
    return id < max_stacks_ ? records_[id].load(std::memory_order_acquire) : nullptr;
  }
  StackRecord* GetMutable(uint32_t id) {
    return id < max_stacks_ ? records_[id].load(std::memory_order_acquire) : nullptr;
  }

  static uint64_t Hash(const uintptr_t* frames, uint32_t depth);

  // A forked child that keeps the table. A thread that vanished in the fork
  // may have taken an id without publishing its record (the record comes
  // before the index slot, so lookups never meet it, but the collector
  // emits ids in order and would wait for it forever): such an id gets an
  // empty record. The spilled events the parent's collector had not folded
  // in are the parent's: dropped.
  void AdoptAfterFork();

  static constexpr size_t kMappings = 3;
  void Mappings(const void* out[kMappings]) const {
    out[0] = slots_;
    out[1] = records_;
    out[2] = arena_;
  }

 private:
  static constexpr uint32_t kMaxProbes = 128;

  uint32_t InternWithin(const uintptr_t* frames, uint32_t depth, uint32_t id_limit);
  StackRecord* NewRecord(uint64_t hash, const uintptr_t* frames, uint32_t depth,
                         uint32_t id_limit, uint32_t* id);

  std::atomic<uint32_t>* slots_ = nullptr;  // id + 1, or 0 when empty
  uint32_t slot_mask_ = 0;
  std::atomic<StackRecord*>* records_ = nullptr;
  uint32_t max_stacks_ = 0;
  uint32_t full_stack_ids_ = 0;  // ids [full_stack_ids_, max_stacks_) are the reserve
  std::atomic<uint32_t> next_id_{0};
  char* arena_ = nullptr;
  size_t arena_bytes_ = 0;
  std::atomic<size_t> arena_used_{0};
};

}  // namespace heapdrift::agent
