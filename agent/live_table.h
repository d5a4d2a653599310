// The sampled blocks that are still live: address -> (stack, size, weight).
//
// It answers the question every free() asks: "was this block sampled?". The
// answer must be cheap because almost every free is of an unsampled block, so
// a counting filter (address_filter.h) sits in front of the table, with two
// summaries a free can read: fine bits, one per bucket of addresses, and
// coarse ones, one per 4 fine bits. A free reads the one that suits the live
// count, so that a free which is not a sample's rarely costs a lookup (at
// most ~1.6 % of them), and the lines it reads are as few as that allows:
// they are read at random, one per free, and stay in cache only if the
// host's own memory traffic between two reads of a line does not push it
// out. The coarse bits, 32,768 (64 lines), serve up to kCoarseMaxLive live
// samples (churn's few hundred: its L2 keeps those lines, where it lost the
// fine bits' 256); the fine ones, 131,072, serve above (1.6 % at 2,100 live
// samples). Both are valid at every moment, so a switch between them is one
// store, in either direction, at any time. A zero bit (the common case)
// settles the question with one load.
//
// Behind it, addresses hash to buckets of 8 keys, one cache line, so a lookup
// reads one line. The table is reserved for its capacity but used from its
// start: it grows in regions, the first one page of keys, each next one as
// large as all before it, taken into use when the live count passes half of
// the slots in use (or an insert finds no room). New keys get their home in
// the newest region (older regions would crowd: a uniform hash over the
// whole range in use sends every region's worth of keys to the first one
// too), and older regions when it is full. So the pages touched follow the
// live samples, not the capacity: a hash over the whole reservation touched
// a new page per sample, 9 MiB for a server's 2,300 live samples. A lookup
// tries the key's home in each region in use, newest first: the older ones
// are small, hot in cache, and only keys that pass the filter are looked up.
// Insert and erase are lock-free CAS on a key, and an erased key becomes
// empty again at once: there are no tombstones, so lookups never
// slow down however long the host churns. A full bucket spills into the next
// one and marks itself "overflowed" (for good), so lookups follow the chain
// only from buckets that ever overflowed; a chain of kMaxHops full buckets
// makes Insert fail (the caller drops the sample). The table is the source of
// truth for which samples are live; the collector's per-site sums follow from
// the alloc/free events derived from it.
//
// A block is inserted after the real allocator returned it and erased before
// it is handed back, so a key is never live twice; a stale key (its free was
// not seen, e.g. freed by a path that bypassed the hooks) is replaced on reuse
// and reported as freed. Never allocates, never blocks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "address_filter.h"
#include "compiler.h"

namespace heapdrift::agent {

struct LiveBlock {
  uint32_t stack_id;
  uint16_t cohort;   // when it was born (cohorts.h)
  uint16_t session;  // the recording it was sampled in (Agent::session)
  uint64_t size;
  double object_weight;
};
static_assert(sizeof(LiveBlock) == 24, "cohort and session live in what would be padding");

class LiveTable {
 public:
  bool Init(uint32_t capacity);
  bool initialized() const { return buckets_ != nullptr; }

  // Starts bringing in the lines an Insert of `address` writes (its home
  // bucket's keys, the first of its values, its filter counter), so that their
  // misses overlap the stack walk that comes first instead of following it.
  void PrefetchInsert(const void* address) const {
    if (buckets_ == nullptr) return;
    uint32_t home = HomeIn(home_mask_.load(std::memory_order_relaxed), HomeHash(address));
    __builtin_prefetch(&buckets_[home], 1);
    __builtin_prefetch(&values_[home * kBucketSlots], 1);
    filter_.PrefetchAdd(Mix(address));
  }

  HD_ALWAYS_INLINE bool MaybeContains(const void* address) const {
    FilterChoice choice = filter_choice_.load(std::memory_order_relaxed);
    if (choice == FilterChoice::kNone) return false;
    return choice == FilterChoice::kCoarse ? filter_.MaybeContainsCoarse(Mix(address))
                                           : filter_.MaybeContains(Mix(address));
  }

  enum class InsertResult { kInserted, kReplacedStale, kFull };
  // On kReplacedStale, *stale holds the block the address used to belong to.
  InsertResult Insert(const void* address, const LiveBlock& block, LiveBlock* stale);
  bool Erase(const void* address, LiveBlock* erased);

  // Erases every block whose session is not `session`: the blocks of
  // recordings that ended, whose frees no longer matter. Safe against host
  // threads erasing at the same time (each key goes once, by CAS).
  void EraseOtherSessions(uint16_t session);

  uint64_t size() const { return live_count_.load(std::memory_order_relaxed); }

  // Visits every live block; for the exit-time leak scan (other threads may
  // still insert and erase meanwhile: what they change may be missed).
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (uint32_t index = 0; index < UsedSlots(); ++index) {
      uintptr_t key = buckets_[index / kBucketSlots].keys[index % kBucketSlots].load(
          std::memory_order_acquire);
      if (key == kEmpty) continue;
      visit(key, values_[index]);
    }
  }
  uint32_t capacity() const { return (bucket_mask_ + 1) * kBucketSlots; }

  // A forked child that keeps the table (exact mode with the leak scan:
  // every inherited block is the child's too). The threads that vanished in
  // the fork may have been halfway through an insert or erase; what that
  // left torn concerns only the blocks they were allocating or freeing,
  // which nothing in the child will ever free (a value not yet written is
  // the slot's previous one; the scan checks sizes against the allocator's).
  // Each filter bit is set again from its counter. (The blocks keep the
  // parent's session: the child records the next one, so that their frees
  // are not its recording's.)
  void AdoptAfterFork();

  // The table's mappings, which a forked child that keeps it must keep.
  static constexpr size_t kMappings = 3;
  void Mappings(const void* out[kMappings]) const {
    out[0] = buckets_;
    out[1] = values_;
    out[2] = overflowed_;
  }

 private:
  // The coarse bits serve up to this many live samples, and again once
  // they fall to half as many (a live count hovering at the line does not
  // flip the choice, a store every free must then fetch, at every sample).
  static constexpr uint64_t kCoarseMaxLive = 512;
  static constexpr uint32_t kBucketSlots = 8;  // 8 keys: one 64-byte cache line
  static constexpr uint32_t kMaxHops = 8;
  static constexpr uintptr_t kEmpty = 0;

  struct alignas(64) Bucket {
    std::atomic<uintptr_t> keys[kBucketSlots];
  };
  static uint64_t Mix(const void* address) {
    return (reinterpret_cast<uintptr_t>(address) >> 4) * 0x9e3779b97f4a7c15ULL;
  }
  static uint32_t HomeHash(const void* address) {
    return static_cast<uint32_t>(Mix(address) >> 20);
  }
  // Index of the slot holding `key` in the chain from `home`, or UINT32_MAX.
  uint32_t Find(uintptr_t key, uint32_t home) const;
  // The same, from its home in each region in use.
  uint32_t FindAnyHome(uintptr_t key, uint32_t hash) const;
  // `hash`'s home in the region that ends at bucket `mask`.
  uint32_t HomeIn(uint32_t mask, uint32_t hash) const {
    return mask <= first_home_mask_ ? hash & mask : (hash & (mask >> 1)) | ((mask >> 1) + 1);
  }
  // Slots a key can be in: the homes in use and the chains that spill on.
  uint32_t UsedSlots() const {
    uint32_t buckets = home_mask_.load(std::memory_order_acquire) + 1 + kMaxHops;
    return (buckets < bucket_mask_ + 1 ? buckets : bucket_mask_ + 1) * kBucketSlots;
  }
  // Takes the next region into use after the one ending at `mask`; false
  // when the whole table is in use.
  bool Grow(uint32_t mask);
  // Takes a free slot in the chain from `home`; false if the chain is full.
  bool InsertFrom(uint32_t home, uintptr_t key, const void* address, const LiveBlock& block);
  void FilterAdd(const void* address);
  void FilterRemove(const void* address);
  // Points frees at the bits that suit `live` samples.
  void ChooseFilter(uint64_t live);

  enum class FilterChoice : uint8_t { kNone, kCoarse, kFine };

  // Inside the object, not mapped: the hot path may read it before Init().
  // Its byte counters (128 KiB) would miss cache on ~every free (they cost
  // churn 7 % when frees read them): frees read only the bits.
  AddressFilter<17, 4> filter_;
  Bucket* buckets_ = nullptr;
  LiveBlock* values_ = nullptr;             // parallel to the keys
  std::atomic<uint8_t>* overflowed_ = nullptr;  // per bucket, set once
  uint32_t bucket_mask_ = 0;
  std::atomic<uint32_t> home_mask_{0};  // last bucket of the newest region; only grows
  uint32_t first_home_mask_ = 0;
  // Which bits a free reads: none until a block was ever inserted (a
  // dormant agent never woken, or before the first sample: a free then reads
  // this read-mostly line only, no filter line at all; the filter's load was
  // 1.5 of a dormant agent's 2.4 % of churn's cycles). Set before the first
  // block's filter bits, never back to none. A free of a block sees it set:
  // the insert's store comes before the block is handed to the program, and
  // so before anything frees it.
  std::atomic<FilterChoice> filter_choice_{FilterChoice::kNone};
  // Written by every insert and erase: on a line of its own, so that the
  // fields above, read by every lookup, stay shared in every core's cache.
  alignas(64) std::atomic<uint64_t> live_count_{0};
};

// The sampled blocks still live, process-wide: a global of its own, apart
// from the rest of the agent's state (agent.h), so that the free path's
// header (hooks.h) sees only this and the thread state. Constant-initialised
// and never destroyed, as g_agent is.
extern LiveTable g_live_table;

}  // namespace heapdrift::agent
