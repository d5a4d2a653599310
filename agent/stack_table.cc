#include "stack_table.h"

#include <cstring>
#include <new>

#include "page_arena.h"

namespace heapdrift::agent {

namespace {
constexpr size_t RecordBytes(uint32_t depth) {
  return (sizeof(StackRecord) + sizeof(uintptr_t) * depth + 15) & ~size_t{15};
}
}  // namespace

bool StackTable::Init(uint32_t max_stacks) {
  uint32_t slots = 1;
  while (slots < max_stacks * 2) slots <<= 1;  // load factor <= 1/2
  slots_ = static_cast<std::atomic<uint32_t>*>(MapPages(sizeof(std::atomic<uint32_t>) * slots));
  records_ = static_cast<std::atomic<StackRecord*>*>(
      MapPages(sizeof(std::atomic<StackRecord*>) * max_stacks));
  arena_bytes_ = RecordBytes(kMaxDepth) * max_stacks;
  arena_ = static_cast<char*>(MapPages(arena_bytes_));
  if (slots_ == nullptr || records_ == nullptr || arena_ == nullptr) return false;
  slot_mask_ = slots - 1;
  max_stacks_ = max_stacks;
  full_stack_ids_ = max_stacks - max_stacks / 8;
  return true;
}

void StackTable::AdoptAfterFork() {
  for (uint32_t id = 0; id < id_count(); ++id) {
    StackRecord* record = records_[id].load(std::memory_order_acquire);
    if (record == nullptr) {
      size_t offset = arena_used_.fetch_add(RecordBytes(0), std::memory_order_relaxed);
      if (offset + RecordBytes(0) > arena_bytes_) continue;
      // No index slot names the id, so no lookup ever returns it.
      records_[id].store(new (arena_ + offset) StackRecord{0, 0, 0, {0.0}, {0.0}, {0.0}, {0.0}},
                         std::memory_order_release);
      continue;
    }
    record->spilled_freed_objects.store(0, std::memory_order_relaxed);
    record->spilled_freed_bytes.store(0, std::memory_order_relaxed);
    record->spilled_allocated_objects.store(0, std::memory_order_relaxed);
    record->spilled_allocated_bytes.store(0, std::memory_order_relaxed);
    for (std::atomic<float>& bytes : record->spilled_freed_cohort_bytes) {
      bytes.store(0, std::memory_order_relaxed);
    }
  }
}

uint64_t StackTable::Hash(const uintptr_t* frames, uint32_t depth) {
  uint64_t hash = 0x9e3779b97f4a7c15ULL ^ depth;
  for (uint32_t i = 0; i < depth; ++i) {
    hash ^= frames[i];
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 32;
  }
  return hash;
}

StackRecord* StackTable::NewRecord(uint64_t hash, const uintptr_t* frames, uint32_t depth,
                                   uint32_t id_limit, uint32_t* id) {
  // A CAS loop, not fetch_add: a full stack refused at its limit must not
  // consume an id of the reserve.
  uint32_t new_id = next_id_.load(std::memory_order_relaxed);
  do {
    if (new_id >= id_limit) return nullptr;
  } while (!next_id_.compare_exchange_weak(new_id, new_id + 1, std::memory_order_acq_rel,
                                           std::memory_order_relaxed));
  size_t offset = arena_used_.fetch_add(RecordBytes(depth), std::memory_order_relaxed);
  auto* record = new (arena_ + offset) StackRecord{hash, depth, 0, {0.0}, {0.0}, {0.0}, {0.0}};
  std::memcpy(record->frames, frames, sizeof(uintptr_t) * depth);
  records_[new_id].store(record, std::memory_order_release);
  *id = new_id;
  return record;
}

uint32_t StackTable::InternWithin(const uintptr_t* frames, uint32_t depth, uint32_t id_limit) {
  if (depth > kMaxDepth) depth = kMaxDepth;
  uint64_t hash = Hash(frames, depth);
  uint32_t created_id = kInvalidId;
  for (uint32_t probe = 0, index = static_cast<uint32_t>(hash) & slot_mask_; probe < kMaxProbes;
       ++probe, index = (index + 1) & slot_mask_) {
    uint32_t slot = slots_[index].load(std::memory_order_acquire);
    if (slot == 0) {
      if (created_id == kInvalidId && NewRecord(hash, frames, depth, id_limit, &created_id) == nullptr) {
        return kInvalidId;
      }
      if (slots_[index].compare_exchange_strong(slot, created_id + 1, std::memory_order_acq_rel)) {
        return created_id;
      }
      // Lost the race for this slot: `slot` now holds the winner; compare it.
    }
    const StackRecord* record = records_[slot - 1].load(std::memory_order_acquire);
    if (record->hash == hash && record->depth == depth &&
        std::memcmp(record->frames, frames, sizeof(uintptr_t) * depth) == 0) {
      // A record we created but lost to an identical one stays unreferenced.
      return slot - 1;
    }
  }
  return kInvalidId;
}

}  // namespace heapdrift::agent
