// A counting filter over address hashes: one byte counter per bucket of
// hashes (the top kBits bits), counting the live samples in it, summarised
// twice for the readers: a fine bit per bucket, set while its counter is
// non-zero, and a coarse bit per kFold fine bits, set while any of them is.
// A clear bit proves the address holds no live sample; a set one means
// "maybe" (another address in the bucket, or a saturated counter), which
// costs the caller a table lookup, never a missed free. The coarse bits
// change only when a fine bit does, so keeping them costs a sample next to
// nothing where fine bits stay set (exact mode). Lives inside its owner (no
// mapping): the hot path may read it before the agent's constructor ran.
// Never allocates, never blocks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "compiler.h"

namespace heapdrift::agent {

template <uint32_t kBits, uint32_t kFold>
class alignas(64) AddressFilter {  // its bits share no line with a neighbour's writes
 public:
  HD_ALWAYS_INLINE bool MaybeContains(uint64_t hash) const { return Test(fine_, Index(hash)); }
  HD_ALWAYS_INLINE bool MaybeContainsCoarse(uint64_t hash) const {
    return Test(coarse_, Index(hash) / kFold);
  }

  // A saturated counter stays at 255: the filter then only ever errs
  // towards "maybe". Every free on every thread reads the bit words: a word
  // is written only to change it. A bit seen set may be cleared next by a
  // Remove whose count went to zero before this increment; that Remove then
  // reads the counter (or the fine bits) again, all seq_cst, after this
  // increment (or this fine bit), and sets the bit back.
  void Add(uint64_t hash) {
    uint32_t index = Index(hash);
    std::atomic<uint8_t>& counter = counters_[index];
    uint8_t value = counter.load(std::memory_order_relaxed);
    while (value != 255 && !counter.compare_exchange_weak(value, value + 1)) {
    }
    SetBit(fine_, index);
    SetBit(coarse_, index / kFold);
  }

  // Clearing a bit races with an Add of the same bucket on another thread:
  // after clearing, what it summarises is read again and the bit restored
  // if an add came in between, so a live sample's bit is never left clear
  // (but for that moment: a free then may miss it, and the block is
  // reported freed when its address is next sampled; see live_table.h).
  void Remove(uint64_t hash) {
    uint32_t index = Index(hash);
    std::atomic<uint8_t>& counter = counters_[index];
    uint8_t value = counter.load(std::memory_order_relaxed);
    while (value != 255 && value != 0 && !counter.compare_exchange_weak(value, value - 1)) {
    }
    if (value != 1) return;  // still counted (or saturated, or was empty)
    ClearBit(fine_, index);
    if (counter.load() != 0) {
      SetBit(fine_, index);
      return;
    }
    if (FoldedFineBits(index) != 0) return;
    ClearBit(coarse_, index / kFold);
    if (FoldedFineBits(index) != 0) SetBit(coarse_, index / kFold);
  }

  // Every bit set again from the counters (a forked child's copy, whose
  // writers vanished in the fork between a counter and its bits).
  void RebuildBits() {
    for (auto& word : coarse_) word.store(0, std::memory_order_relaxed);
    for (size_t word = 0; word < kBuckets / 64; ++word) {
      uint64_t bits = 0;
      for (size_t bit = 0; bit < 64; ++bit) {
        if (counters_[word * 64 + bit].load(std::memory_order_relaxed) != 0) {
          bits |= uint64_t{1} << bit;
        }
      }
      fine_[word].store(bits, std::memory_order_relaxed);
      for (size_t bit = 0; bit < 64; bit += kFold) {
        if ((bits >> bit) & kFoldMask) {
          SetBit(coarse_, static_cast<uint32_t>((word * 64 + bit) / kFold));
        }
      }
    }
  }

  // Starts bringing in the counter an Add of `hash` writes.
  void PrefetchAdd(uint64_t hash) const { __builtin_prefetch(&counters_[Index(hash)], 1); }

 private:
  static_assert(kFold > 0 && kFold <= 64 && 64 % kFold == 0,
                "a coarse bit's fine bits lie in one word");
  static constexpr size_t kBuckets = size_t{1} << kBits;
  static constexpr uint64_t kFoldMask = kFold == 64 ? ~uint64_t{0} : (uint64_t{1} << kFold) - 1;
  static uint32_t Index(uint64_t hash) { return static_cast<uint32_t>(hash >> (64 - kBits)); }

  template <size_t kWords>
  static bool Test(const std::atomic<uint64_t> (&bits)[kWords], uint32_t index) {
    return (bits[index / 64].load(std::memory_order_relaxed) >> (index % 64)) & 1;
  }
  template <size_t kWords>
  static void SetBit(std::atomic<uint64_t> (&bits)[kWords], uint32_t index) {
    uint64_t bit = uint64_t{1} << (index % 64);
    if ((bits[index / 64].load() & bit) == 0) bits[index / 64].fetch_or(bit);
  }
  template <size_t kWords>
  static void ClearBit(std::atomic<uint64_t> (&bits)[kWords], uint32_t index) {
    bits[index / 64].fetch_and(~(uint64_t{1} << (index % 64)));
  }
  // The fine bits that share `index`'s coarse bit.
  uint64_t FoldedFineBits(uint32_t index) const {
    uint32_t first = index / kFold * kFold;
    return (fine_[first / 64].load() >> (first % 64)) & kFoldMask;
  }

  std::atomic<uint64_t> fine_[kBuckets / 64] = {};
  std::atomic<uint64_t> coarse_[kBuckets / kFold / 64] = {};
  std::atomic<uint8_t> counters_[kBuckets] = {};
};

}  // namespace heapdrift::agent
