// A counting filter over address hashes: one counter per bucket of hashes
// (the top kBits bits), counting the live samples in it, summarised as one
// bit per bucket for the readers. A clear bit proves the address holds no
// live sample; a set one means "maybe" (another address in the bucket, or a
// saturated counter), which costs the caller a table lookup, never a missed
// free. Lives inside its owner (no mapping): the hot path may read it before
// the agent's constructor ran. Never allocates, never blocks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "compiler.h"

namespace heapdrift::agent {

template <uint32_t kBits, typename Counter>
class alignas(64) AddressFilter {  // its bits share no line with a neighbour's writes
 public:
  HD_ALWAYS_INLINE bool MaybeContains(uint64_t hash) const {
    uint32_t index = Index(hash);
    return (bits_[index / 64].load(std::memory_order_relaxed) >> (index % 64)) & 1;
  }

  // A saturated counter stays saturated: the filter then only ever errs
  // towards "maybe". Every free on every thread reads the bit words: a word
  // is written only to change it. A bit seen set may be cleared next by a
  // Remove whose count went to zero before this increment; that Remove then
  // reads the counter again (all seq_cst: after this increment) and sets the
  // bit back.
  void Add(uint64_t hash) {
    uint32_t index = Index(hash);
    std::atomic<Counter>& counter = counters_[index];
    Counter value = counter.load(std::memory_order_relaxed);
    while (value != kSaturated && !counter.compare_exchange_weak(value, value + 1)) {
    }
    uint64_t bit = uint64_t{1} << (index % 64);
    if ((bits_[index / 64].load() & bit) == 0) bits_[index / 64].fetch_or(bit);
  }

  // Clearing the bit races with an Add of the same bucket on another thread:
  // after clearing, the counter is read again and the bit restored if an add
  // came in between (all seq_cst), so a live sample's bit is never left clear.
  void Remove(uint64_t hash) {
    uint32_t index = Index(hash);
    std::atomic<Counter>& counter = counters_[index];
    Counter value = counter.load(std::memory_order_relaxed);
    while (value != kSaturated && value != 0 &&
           !counter.compare_exchange_weak(value, value - 1)) {
    }
    if (value != 1) return;  // still counted (or saturated, or was empty)
    uint64_t bit = uint64_t{1} << (index % 64);
    bits_[index / 64].fetch_and(~bit);
    if (counter.load() != 0) bits_[index / 64].fetch_or(bit);
  }

  // Each bit set again from its counter (a forked child's copy, whose
  // writers vanished in the fork between a counter and its bit).
  void RebuildBits() {
    for (size_t word = 0; word < kWords; ++word) {
      uint64_t bits = 0;
      for (size_t bit = 0; bit < 64; ++bit) {
        if (counters_[word * 64 + bit].load(std::memory_order_relaxed) != 0) {
          bits |= uint64_t{1} << bit;
        }
      }
      bits_[word].store(bits, std::memory_order_relaxed);
    }
  }

  // Starts bringing in the counter an Add of `hash` writes.
  void PrefetchAdd(uint64_t hash) const { __builtin_prefetch(&counters_[Index(hash)], 1); }

 private:
  static constexpr size_t kBuckets = size_t{1} << kBits;
  static constexpr size_t kWords = kBuckets / 64;
  static constexpr Counter kSaturated = std::numeric_limits<Counter>::max();
  static uint32_t Index(uint64_t hash) { return static_cast<uint32_t>(hash >> (64 - kBits)); }

  std::atomic<uint64_t> bits_[kWords] = {};
  std::atomic<Counter> counters_[kBuckets] = {};
};

}  // namespace heapdrift::agent
