#include "live_table.h"

#include "page_arena.h"

namespace heapdrift::agent {

bool LiveTable::Init(uint32_t capacity) {
  uint32_t slots = 1;
  while (slots < capacity) slots <<= 1;
  slots_ = static_cast<Slot*>(MapPages(sizeof(Slot) * slots));
  if (slots_ == nullptr) return false;
  slot_mask_ = slots - 1;
  return true;
}

// A saturated counter stays at 255 forever: the filter then only ever errs
// towards "maybe", which costs a table lookup, never a missed free.
void LiveTable::FilterAdd(const void* address) {
  std::atomic<uint8_t>& counter = filter_[FilterIndex(address)];
  uint8_t value = counter.load(std::memory_order_relaxed);
  while (value != 255 &&
         !counter.compare_exchange_weak(value, value + 1, std::memory_order_relaxed)) {
  }
}

void LiveTable::FilterRemove(const void* address) {
  std::atomic<uint8_t>& counter = filter_[FilterIndex(address)];
  uint8_t value = counter.load(std::memory_order_relaxed);
  while (value != 255 && value != 0 &&
         !counter.compare_exchange_weak(value, value - 1, std::memory_order_relaxed)) {
  }
}

LiveTable::InsertResult LiveTable::Insert(const void* address, const LiveBlock& block,
                                          LiveBlock* stale) {
  const uintptr_t key = reinterpret_cast<uintptr_t>(address);
  uint32_t start = static_cast<uint32_t>(Mix(address) >> 32) & slot_mask_;
  // First pass: a stale entry for this address is replaced in place.
  for (uint32_t probe = 0; probe < kMaxProbes; ++probe) {
    Slot& slot = slots_[(start + probe) & slot_mask_];
    uintptr_t current = slot.key.load(std::memory_order_acquire);
    if (current == kEmpty) break;
    if (current == key) {
      *stale = LiveBlock{slot.stack_id, slot.size, slot.object_weight};
      slot.stack_id = block.stack_id;
      slot.size = block.size;
      slot.object_weight = block.object_weight;
      return InsertResult::kReplacedStale;
    }
  }
  for (uint32_t probe = 0; probe < kMaxProbes; ++probe) {
    Slot& slot = slots_[(start + probe) & slot_mask_];
    uintptr_t current = slot.key.load(std::memory_order_relaxed);
    if (current != kEmpty && current != kTombstone) continue;
    if (!slot.key.compare_exchange_strong(current, key, std::memory_order_acq_rel)) continue;
    // The slot is ours: no one reads its value until the block is handed to
    // the program, which happens after this returns.
    slot.stack_id = block.stack_id;
    slot.size = block.size;
    slot.object_weight = block.object_weight;
    FilterAdd(address);
    live_count_.fetch_add(1, std::memory_order_relaxed);
    return InsertResult::kInserted;
  }
  return InsertResult::kFull;
}

bool LiveTable::Erase(const void* address, LiveBlock* erased) {
  const uintptr_t key = reinterpret_cast<uintptr_t>(address);
  uint32_t start = static_cast<uint32_t>(Mix(address) >> 32) & slot_mask_;
  for (uint32_t probe = 0; probe < kMaxProbes; ++probe) {
    Slot& slot = slots_[(start + probe) & slot_mask_];
    uintptr_t current = slot.key.load(std::memory_order_acquire);
    if (current == kEmpty) return false;
    if (current != key) continue;
    // Read the value before giving the slot up: once it is a tombstone an
    // insert for another address may overwrite it.
    LiveBlock block{slot.stack_id, slot.size, slot.object_weight};
    if (!slot.key.compare_exchange_strong(current, kTombstone, std::memory_order_acq_rel)) {
      return false;  // a concurrent double free of the same block: the first one wins
    }
    *erased = block;
    FilterRemove(address);
    live_count_.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

}  // namespace heapdrift::agent
