// The sampled blocks that are still live: address -> (stack, size, weight).
//
// It answers the question every free() asks: "was this block sampled?". The
// answer must be cheap because almost every free is of an unsampled block, so
// a small counting filter sits in front of the table: one byte per hash bucket
// of addresses, counting the live samples in that bucket. A zero byte (the
// common case) settles the question with one load from a 128 KiB array.
//
// The table is open addressing over 32-byte slots with lock-free insert and
// erase (CAS on the key; erased slots become tombstones that inserts reuse).
// Probing is bounded, so a full neighbourhood makes Insert fail (the caller
// drops the sample) instead of slowing every lookup. The table is the source
// of truth for which samples are live; the collector's per-site sums follow
// from the alloc/free events derived from it.
//
// A block is inserted after the real allocator returned it and erased before
// it is handed back, so a key is never live twice; a stale key (its free was
// not seen, e.g. freed by a path that bypassed the hooks) is replaced on reuse
// and reported as freed. Never allocates, never blocks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "compiler.h"

namespace heapdrift::agent {

struct LiveBlock {
  uint32_t stack_id;
  uint64_t size;
  double object_weight;
};

class LiveTable {
 public:
  bool Init(uint32_t capacity);
  bool initialized() const { return slots_ != nullptr; }

  HD_ALWAYS_INLINE bool MaybeContains(const void* address) const {
    return filter_[FilterIndex(address)].load(std::memory_order_relaxed) != 0;
  }

  enum class InsertResult { kInserted, kReplacedStale, kFull };
  // On kReplacedStale, *stale holds the block the address used to belong to.
  InsertResult Insert(const void* address, const LiveBlock& block, LiveBlock* stale);
  bool Erase(const void* address, LiveBlock* erased);

  uint64_t size() const { return live_count_.load(std::memory_order_relaxed); }
  uint32_t capacity() const { return slot_mask_ + 1; }

 private:
  static constexpr uint32_t kFilterBits = 17;
  static constexpr uint32_t kMaxProbes = 64;
  static constexpr uintptr_t kEmpty = 0;
  static constexpr uintptr_t kTombstone = 1;  // never a heap address

  struct Slot {
    std::atomic<uintptr_t> key;
    uint32_t stack_id;
    uint32_t unused;
    uint64_t size;
    double object_weight;
  };

  static uint64_t Mix(const void* address) {
    return (reinterpret_cast<uintptr_t>(address) >> 4) * 0x9e3779b97f4a7c15ULL;
  }
  static uint32_t FilterIndex(const void* address) {
    return static_cast<uint32_t>(Mix(address) >> (64 - kFilterBits));
  }
  void FilterAdd(const void* address);
  void FilterRemove(const void* address);

  // Inside the object, not mapped: the hot path may read it before Init().
  std::atomic<uint8_t> filter_[size_t{1} << kFilterBits] = {};
  Slot* slots_ = nullptr;
  uint32_t slot_mask_ = 0;
  std::atomic<uint64_t> live_count_{0};
};

}  // namespace heapdrift::agent
